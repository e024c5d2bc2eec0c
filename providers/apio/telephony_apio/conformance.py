"""What the conformance suite needs to know about apio: samples that succeed on a fresh
emulator, so fault recovery is proven. ``telephony conformance apio`` finds this module."""

from collections.abc import Mapping
from typing import Any

from telephony_core.testing import ProviderFixtures

SCOPE = {"tenant": "foo", "group": "foogroup", "user": "foouser"}

#: sample name (its start) -> substitutions that make the emulator refuse as documented
SUBSTITUTIONS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("a refused token", {"headers.Authorization": "Bearer not-the-users-token"}),
    ("400 on the PUT", {"json.isActive": "yes"}),
    ("404 on the GET", {"foouser": "nosuchuser"}),  # a user without the service
    ("APIO core refuses the password", {"json.password": "not-the-password"}),
)


class Fixtures(ProviderFixtures):
    provider = "apio"
    # the samples' M2M token, and auth.md's user (its password comes from the file's config)
    documented_emulator_options = {"token": "m2m-token-of-the-user", "username": "user"}

    def prepare_documented(self, session: Any, exchange: Any) -> Mapping[str, Any] | None:
        """Seed 004's user: a custom WAV for everyone, the group's music inside; served under
        the sample's prefix."""
        prefix = exchange.config.get("path_prefix")
        if prefix:
            session.app.serve_under(prefix)
        session.pbx.set_music_on_hold(SCOPE, active=False, use_internal_source=True,
                                      source={"selection": "custom", "file": "My Music",
                                              "media_type": "WAV"},
                                      internal_source={"selection": "group", "file": None})
        return next((subs for start, subs in SUBSTITUTIONS if exchange.name.startswith(start)),
                    None)
    known_values = {"scope": (SCOPE,)}
    samples = {"get_music_on_hold": {"scope": SCOPE},
               "set_music_on_hold": {"scope": SCOPE, "active": True}}

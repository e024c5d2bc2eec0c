"""What the conformance suite needs to know about apio: samples that succeed on a fresh
emulator, so fault recovery is proven. ``telephony conformance apio`` finds this module."""

from telephony_core.testing import ProviderFixtures

SCOPE = {"tenant": "foo", "group": "foogroup", "user": "foouser"}


class Fixtures(ProviderFixtures):
    provider = "apio"
    known_values = {"scope": (SCOPE,)}
    samples = {"get_music_on_hold": {"scope": SCOPE},
               "set_music_on_hold": {"scope": SCOPE, "active": True}}

"""The core's conformance suite against the APIO provider and its emulator."""

from telephony_core.testing import ProviderConformance

SCOPE = {"tenant": "foo", "group": "foogroup", "user": "foouser"}


class TestApioConformance(ProviderConformance):
    provider = "apio"
    known_values = {"scope": (SCOPE,)}
    samples = {"get_music_on_hold": {"scope": SCOPE},
               "set_music_on_hold": {"scope": SCOPE, "active": True}}

"""The core's conformance suite against this provider and its emulator."""

from telephony_core.testing import ProviderConformance


class TestInfinityConformance(ProviderConformance):
    provider = "infinity"

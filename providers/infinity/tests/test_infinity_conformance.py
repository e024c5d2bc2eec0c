"""The core's conformance suite against this provider and its emulator."""

from telephony_infinity.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestInfinityConformance(Fixtures, ProviderConformance):
    """Every property, with the package's own fixtures."""

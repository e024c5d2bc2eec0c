"""The core's conformance suite against this provider and its emulator."""

from telephony_telnyx.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestTelnyxConformance(Fixtures, ProviderConformance):
    """Every property, with the package's own fixtures."""

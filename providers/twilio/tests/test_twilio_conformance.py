"""The core's conformance suite against the Twilio provider and its emulator."""

from telephony_twilio.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestTwilioConformance(Fixtures, ProviderConformance):
    """Every property, with the package's own fixtures (conference mode on)."""

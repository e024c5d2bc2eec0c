"""The core's conformance suite against the Twilio provider and its emulator."""

from telephony_twilio.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestTwilioConformance(Fixtures, ProviderConformance):
    """Every property, with the package's own fixtures (conference mode on)."""


class TestTwilioPlainCallsConformance(Fixtures, ProviderConformance):
    """The call operations again without conference mode: dial is then one POST Calls.json
    whose TwiML <Dial>s the callee (the default a user gets)."""

    client_options = {**Fixtures.client_options, "conference": False}
    only_operations = frozenset({"dial", "hangup", "transfer", "list_calls", "play_prompt"})

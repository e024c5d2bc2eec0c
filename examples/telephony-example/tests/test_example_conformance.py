"""The example provider runs the whole conformance suite: this is all a provider package writes."""

from telephony_example.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestExampleConformance(Fixtures, ProviderConformance):
    """Every property, against the example provider and its emulator."""

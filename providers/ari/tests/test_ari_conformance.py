"""The core's conformance suite against the ARI provider and its emulator."""

from telephony_ari.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestAriConformance(Fixtures, ProviderConformance):
    """Every property, with the package's own fixtures (see telephony_ari.conformance)."""

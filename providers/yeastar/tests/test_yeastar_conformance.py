"""The core's conformance suite against this provider and its emulator."""

from telephony_yeastar.conformance import Fixtures

from telephony_core.testing import ProviderConformance


class TestYeastarConformance(Fixtures, ProviderConformance):
    """Every property, with the package's own fixtures."""

"""The built-in simulator runs the conformance suite (faults do not apply: it has no wire)."""

from telephony_core.testing import ProviderConformance
from telephony_core.testing.sim_fixtures import SimFixtures


class TestSimConformance(SimFixtures, ProviderConformance):
    """Every property against ``sim``; equivalence is skipped: sim is the reference."""

"""Hypothesis settings profiles of the conformance suite, and how many examples each property runs.

``conformance`` (the default) keeps one provider's whole suite well under a minute on a small
CI machine; ``ci`` runs fewer examples still and gives fault runs a short overall deadline
(:data:`FAULT_DEADLINE`), so a slow fault (a trickled or stalled reply) costs about a second;
``nightly`` runs many more examples and longer stateful programs. Choose with
``pytest --conformance-profile nightly``, ``$TELEPHONY_CONFORMANCE_PROFILE`` or
``telephony conformance NAME --profile nightly``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings

__all__ = ["EXAMPLES", "FAULT_DEADLINE", "selected", "settings_for"]

#: Examples per property and per operation (equivalence: programs, and steps per program).
EXAMPLES: dict[str, dict[str, int]] = {
    "conformance": {"narrowing": 30, "validation": 30, "outcomes": 12, "equivalence": 12,
                    "steps": 10},
    "ci": {"narrowing": 10, "validation": 10, "outcomes": 5, "equivalence": 4, "steps": 6},
    "nightly": {"narrowing": 400, "validation": 300, "outcomes": 150, "equivalence": 150,
                "steps": 30},
}

#: The client's overall deadline (seconds) in fault runs, per profile (None: the fixtures').
FAULT_DEADLINE: dict[str, float | None] = {"conformance": None, "ci": 2.0, "nightly": None}

# No "explain" phase: it traces every line of a failing test again, which costs far more than the
# failure it explains (the messages already carry the payload and the steps).
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
               HealthCheck.function_scoped_fixture, HealthCheck.large_base_example]

# No example database: the suite runs in other people's checkouts and CI; a failure is
# reported with its minimal example instead (print_blob lets a user reproduce it).
settings.register_profile("conformance", max_examples=EXAMPLES["conformance"]["outcomes"],
                          stateful_step_count=EXAMPLES["conformance"]["steps"], deadline=None,
                          database=None, suppress_health_check=_SUPPRESSED, print_blob=True,
                          report_multiple_bugs=False, phases=_PHASES)
settings.register_profile("ci", max_examples=EXAMPLES["ci"]["outcomes"],
                          stateful_step_count=EXAMPLES["ci"]["steps"], deadline=None,
                          database=None, suppress_health_check=_SUPPRESSED, print_blob=True,
                          report_multiple_bugs=False, phases=_PHASES)
settings.register_profile("nightly", max_examples=EXAMPLES["nightly"]["outcomes"],
                          stateful_step_count=EXAMPLES["nightly"]["steps"], deadline=None,
                          database=None, suppress_health_check=_SUPPRESSED, print_blob=True,
                          report_multiple_bugs=False, phases=_PHASES)


def selected() -> str:
    """The profile chosen for this run (by the pytest plugin's option or the environment)."""
    import telephony_core_pytest

    return telephony_core_pytest.selected_profile


def settings_for(profile: str | None = None, prop: str | None = None, **overrides: Any) -> settings:
    """Settings of ``profile`` (default: the selected one), sized for property ``prop``."""
    name = profile or selected()
    base = settings.get_profile(name)
    if prop == "equivalence":
        overrides.setdefault("max_examples", EXAMPLES[name]["equivalence"])
        overrides.setdefault("stateful_step_count", EXAMPLES[name]["steps"])
        if name in ("conformance", "ci"):
            # every program starts two emulators: shrinking one can take minutes, so the fast
            # profile reports the failing program as found (its last steps are in the message)
            overrides.setdefault("phases", [Phase.explicit, Phase.reuse, Phase.generate])
    elif prop is not None:
        overrides.setdefault("max_examples", EXAMPLES[name][prop])
    return settings(base, **overrides)

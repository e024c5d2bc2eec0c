"""The pytest plugin of the conformance suite (entry point ``pytest11: telephony_core``).

Every pytest run in an environment with telephony-core installed loads this module, so it lives
outside the ``telephony_core`` package and imports nothing from it (importing a submodule would
run the package's ``__init__``): no Hypothesis, no provider, no registry. It

* adds ``--conformance-profile`` (or ``$TELEPHONY_CONFORMANCE_PROFILE``) choosing how many
  examples the suite runs: ``conformance`` (default, small and fast), ``ci`` (fewer, with short
  fault deadlines) or ``nightly``;
* while a *conformance* test runs (a test of a :class:`~telephony_core.testing.ProviderFixtures`
  subclass), sets :data:`telephony_core.registry.strict`, so that loading a provider also checks
  its declarations; the flag is restored after each such test, and other tests never see it;
* provides the ``conformance_profile``, ``conformance_settings`` and ``webhook_receiver``
  fixtures.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

#: Profile names; their settings live in :mod:`telephony_core.testing.profiles`.
PROFILE_NAMES = ("conformance", "ci", "nightly")
ENV_VAR = "TELEPHONY_CONFORMANCE_PROFILE"

#: The profile chosen for this run (read by :func:`telephony_core.testing.profiles.selected`).
selected_profile: str = os.environ.get(ENV_VAR) or "conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("telephony", "telephony_core conformance suite")
    group.addoption(
        "--conformance-profile", choices=PROFILE_NAMES, default=None,
        help=f"how many examples the conformance suite runs: 'conformance' (default, fast) "
             f"or 'nightly' (many more); also ${ENV_VAR}")


_previous = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    global selected_profile
    config.stash[_previous] = selected_profile  # a nested run (pytester, the CLI) restores it
    chosen = config.getoption("--conformance-profile", default=None) or os.environ.get(ENV_VAR)
    if chosen and chosen not in PROFILE_NAMES:
        raise pytest.UsageError(f"${ENV_VAR}={chosen!r}: expected one of {PROFILE_NAMES}")
    selected_profile = chosen or "conformance"


def pytest_unconfigure(config: pytest.Config) -> None:
    global selected_profile
    selected_profile = config.stash.get(_previous, selected_profile)


def _is_conformance(item: pytest.Item) -> bool:
    base = sys.modules.get("telephony_core.testing.base")  # only imported by conformance tests
    cls = getattr(item, "cls", None)
    return base is not None and isinstance(cls, type) and issubclass(cls, base.ProviderFixtures)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Strict provider loading during a conformance test only (restored after it)."""
    if not _is_conformance(item):
        yield
        return
    import telephony_core.registry as registry  # already imported, in a conformance run

    previous = registry.strict
    registry.strict = True
    try:
        yield
    finally:
        registry.strict = previous


def pytest_report_header(config: pytest.Config) -> str | None:
    if "telephony_core.testing.suite" in sys.modules or config.getoption(
            "--conformance-profile", default=None):
        return f"telephony conformance profile: {selected_profile}"
    return None


@pytest.fixture(scope="session")
def conformance_profile() -> str:
    """The name of the selected Hypothesis profile (``conformance`` or ``nightly``)."""
    return selected_profile


@pytest.fixture(scope="session")
def conformance_settings(conformance_profile: str) -> Any:
    """The :class:`hypothesis.settings` of the selected profile."""
    from telephony_core.testing.profiles import settings_for

    return settings_for(conformance_profile)


@pytest.fixture
def webhook_receiver() -> Any:
    """``(server, receiver)``: a :class:`~telephony_core.emulation.WebhookReceiver` served on
    loopback, to give an emulator as the application's webhook URL (``server.url + "/hook"``);
    ``receiver.bodies`` holds what was POSTed. Imported here, not at plugin load."""
    from telephony_core.emulation import EmulatorServer, WebhookReceiver

    receiver = WebhookReceiver()
    with EmulatorServer(receiver) as server:
        yield server, receiver

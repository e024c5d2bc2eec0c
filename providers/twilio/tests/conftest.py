"""Spec evidence for every test of this package: each emulator a test starts is recorded, and
after the test every request the provider sent it and every reply it gave are validated against
Twilio's OpenAPI description (spec_check.py). A violation fails the test (at teardown)."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import telephony_twilio.emulator as emulator_module
from spec_check import SPEC_PATH, checker

#: operationId -> how many exchanges validated against it (this session)
VALIDATED: collections.Counter[str] = collections.Counter()


@pytest.fixture(autouse=True)
def spec_evidence(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    if not SPEC_PATH.is_file():
        pytest.fail(f"Twilio's OpenAPI description is missing at {SPEC_PATH} (CI provides "
                    "../shared/specs/)")
    apps: list[emulator_module.TwilioEmulator] = []
    original = emulator_module.create

    def recording_create(*args, **kwargs):
        app = original(*args, **kwargs)
        apps.append(app)
        return app

    monkeypatch.setattr(emulator_module, "create", recording_create)
    yield apps
    if request.node.get_closest_marker("off_spec"):
        return  # a test that sends off-spec requests on purpose
    problems = []
    for app in apps:
        for exchange in app.exchanges:
            if exchange["status"] == 401:
                continue  # refused credentials: answered before any operation is read
            try:
                op_id, found = checker().check_exchange(exchange)
            except KeyError as exc:
                problems.append(str(exc))
                continue
            VALIDATED[op_id] += 1
            problems += [f"{exchange['method']} {exchange['path']} ({op_id}): {p}"
                         for p in found]
    assert not problems, "requests or replies that Twilio's spec does not admit:\n  " + \
        "\n  ".join(problems[:20])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "off_spec: the test sends requests outside the spec on "
                                       "purpose (spec evidence is not checked)")

"""Spec evidence for every test of this package, with the conformance kit's checker
(telephony_core.testing.spec_evidence): each emulator a test starts records its exchanges, and
after the test every request the provider sent it and every reply it gave are checked against
Twilio's OpenAPI description (as corrected in telephony_twilio.vendor_spec). A violation fails
the test (at teardown). The conformance tests are also checked by the kit itself (the fixtures
declare vendor_spec); this covers the package's other tests."""

from __future__ import annotations

import pytest
import telephony_twilio.emulator as emulator_module
from telephony_twilio.vendor_spec import exchange_problems


@pytest.fixture(autouse=True)
def spec_evidence(monkeypatch: pytest.MonkeyPatch):
    apps: list[emulator_module.TwilioEmulator] = []
    original = emulator_module.create

    def recording_create(*args, **kwargs):
        app = original(*args, **kwargs)
        apps.append(app)
        return app

    monkeypatch.setattr(emulator_module, "create", recording_create)
    yield apps
    found = []
    for app in apps:
        for exchange in app.exchanges:
            _, problems = exchange_problems(exchange)
            found += [f"{exchange['method']} {exchange['path']}: {p}" for p in problems]
    assert not found, "requests or replies that Twilio's spec does not admit:\n  " + \
        "\n  ".join(found[:20])

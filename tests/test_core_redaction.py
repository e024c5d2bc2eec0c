"""A canary secret never shows up in DEBUG logs, errors, reprs or CLI output, on any path."""

from __future__ import annotations

import logging
import traceback

import pytest
from click.testing import CliRunner

import telephony_core
from telephony_core.cli import main
from telephony_core.emulation import EmulatorServer, Fault
from telephony_core.errors import TelephonyError
from telephony_core.redaction import redact

CANARIES = ("canary-pw-7f3a9c", "tok-canary-91be44d0")


def assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"secret {canary!r} leaked into: {text[:300]}"


def error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


@pytest.mark.parametrize("fault", [
    None, Fault.delay(1.0), Fault.reset_before_read(), Fault.reset_after_read(),
    Fault.http_error(503), Fault.malformed_body(), Fault.truncated_body(),
    Fault.http_error(401),
], ids=["success", "delay", "reset-before", "reset-after", "503", "malformed", "truncated",
        "401"])
def test_no_secret_in_debug_logs_errors_or_reprs(loopback, caplog, fault):
    server, client = loopback
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    client.list_calls()  # logs in: the token now travels in every URL
    if fault is not None:
        server.inject(fault, times=None)
    texts = [repr(client), repr(client.config), str(client.config)]
    for op, payload in (("dial", {"caller": "ext:1000", "callee": "tel:41000"}),
                        ("hold", {"call": "ext:1000"}), ("list_calls", {})):
        try:
            result = client.invoke(op, payload)
            texts.append(repr(result))
        except TelephonyError as exc:
            assert fault is not None, f"{op} failed without a fault: {exc}"
            texts.append(error_text(exc))
    assert any("token=" in r.getMessage() for r in caplog.records), "urllib3 logged no URL"
    assert_clean(caplog.text, *texts)


def test_a_failed_login_leaks_nothing(loopback_spec, caplog):
    caplog.set_level(logging.DEBUG)
    app = loopback_spec.emulator_factory()()
    with EmulatorServer(app) as server:
        url = server.url.replace("http://", "loopback://api:canary-pw-7f3a9c-wrong@")
        with telephony_core.connect(url + "?scheme=http") as client:
            with pytest.raises(TelephonyError) as info:
                client.dial("ext:1000", "tel:41000")
            assert_clean(error_text(info.value), caplog.text, repr(client))


def test_cli_output_never_shows_the_secret(loopback):
    server, _ = loopback
    url = server.app.connect_url(server.url)
    runner = CliRunner()
    ok = runner.invoke(main, ["invoke", url, "list_calls", "{}"])
    assert ok.exit_code == 0, ok.output
    server.inject(Fault.delay(1.0), times=None)
    bad = runner.invoke(main, ["invoke", url + "&timeout=0.3", "dial",
                               '{"caller": "ext:1000", "callee": "tel:41000"}'])
    assert bad.exit_code == 1 and "OutcomeUnknown" in bad.output
    assert "Traceback" not in bad.output
    wrong = runner.invoke(main, ["invoke", "loopback://api:canary-pw-7f3a9c@h:99999", "dial", "{}"])
    assert wrong.exit_code == 1 and "not a valid URL" in wrong.output
    assert_clean(ok.output, bad.output, wrong.output)


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /api/v1.0.0/x?token=abc123&y=1", "GET /api/v1.0.0/x?token=***&y=1"),
    ('{"username": "api", "password": "0cc175b9c0f1b6a8"}',
     '{"username": "api", "password": \'***\'}'),
    ("Authorization: Basic YXBpOnB3", "Authorization: Basic ***"),
    ("yeastar://api:hunter2@pbx:8088", "yeastar://api:***@pbx:8088"),
    ('{"appid": 2222226, "secret": "xxxx-xxxx"}', '{"appid": 2222226, "secret": \'***\'}'),
])
def test_secret_shapes_are_masked_even_when_never_registered(text, expected):
    assert redact(text) == expected

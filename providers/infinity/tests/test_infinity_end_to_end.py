"""The Infinity provider against its emulator over real HTTP, callbacks included."""

from __future__ import annotations

import logging
import threading

import pytest

import telephony_core
from telephony_core.emulation import Fault, emulated
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    ProviderError,
)

CANARY = "canary-infinity-4c2b"
PROMPT = {"to": "tel:13333333333", "prompts": ["hello111"], "menu": {"1": "group:extGroup-1"}}


@pytest.fixture
def emu(webhook_receiver):
    server, _ = webhook_receiver
    with emulated("infinity", accesskey=CANARY, callback_url=server.url + "/cb",
                  client_options={"timeout": 0.5, "deadline": 5}) as e:
        yield e


def test_a_cdr_callback_joins_the_play_prompt_that_caused_it(emu, webhook_receiver):
    _, app = webhook_receiver
    ref = emu.client.play_prompt(**PROMPT, reference="order-4711")
    assert ref.call_id is None  # Infinity only acknowledges
    pbx = emu.app.pbx
    pbx.answer("tel:13333333333")
    pbx.clock.advance(5)
    pbx.press("tel:13333333333", "1")
    pbx.answer("ext:1001")
    pbx.clock.advance(20)
    pbx.far_hangup("ext:1001")
    emu.app.cdr_sender.wait(5)
    events = [e for body in app.bodies for e in emu.client.parse_event(body)]
    [cdr] = [e for e in events if e.kind == "cdr"]
    assert cdr.reference == "order-4711"  # the application's own id, back in the callback
    assert cdr.data["userkey"] == "1" and cdr.data["billsec"] == 25


def test_play_prompt_form_fields_on_the_wire(emu):
    emu.client.play_prompt(**PROMPT, caller_id="5551000", reference="r-1")
    form = emu.server.requests[-1].form()
    assert {k: form[k] for k in ("service", "voicetype", "destnumber", "voicefile", "chengshudu",
                                 "userid", "disnumber", "customuuid")} == {
        "service": "App.Sip_Call.PlayVoice", "voicetype": "1", "destnumber": "13333333333",
        "voicefile": "hello111", "chengshudu": "1", "userid": "1@extGroup-1",
        "disnumber": "5551000", "customuuid": "r-1"}
    assert "multipart/form-data" in emu.server.requests[-1].headers["Content-Type"]


def test_dial_and_monitor_change_the_model(emu):
    assert emu.client.dial("ext:1000", "tel:41000").call_id is None
    pbx = emu.app.pbx
    pbx.answer("ext:1000")
    pbx.answer("tel:41000")
    emu.client.monitor("ext:1005", "ext:1000", "whisper")
    [call] = pbx.list_calls()
    assert [leg.role for leg in call.legs][-1] == "monitor-whisper"


def test_a_model_refusal_is_a_provider_error_with_the_vendors_description(emu):
    with pytest.raises(ProviderError, match="prompt 'nosuch' is not uploaded") as info:
        emu.client.play_prompt(**{**PROMPT, "prompts": ["nosuch"]})
    assert info.value.vendor_code == "1003"  # data.errors.code: operation failed


def test_barge_and_several_prompts_are_refused_before_sending(emu):
    for op, payload, words in (
            ("monitor", {"supervisor": "ext:1005", "call": "ext:1000", "mode": "barge"},
             "'barge' is not allowed"),
            ("play_prompt", {**PROMPT, "prompts": ["a", "b"]}, "is too long"),
            ("play_prompt", {"to": "tel:1", "prompts": ["a"]}, "'menu' is required"),
            ("play_prompt", {**PROMPT, "to": "ext:1000"}, "expected tel:N"),
            ("dial", {"caller": "tel:1", "callee": "tel:2"}, "expected ext:N")):
        with pytest.raises(PayloadError, match=words):
            emu.client.invoke(op, payload)
    assert emu.server.attempts == 0


def test_an_expired_token_is_renewed_once(emu):
    emu.client.dial("ext:1000", "tel:41000")
    logins = emu.app.logins
    emu.app.expire_tokens()
    emu.client.play_prompt(**PROMPT)
    assert emu.app.logins == logins + 1


def test_errors_code_1010_logs_in_again_and_places_the_dial_once(emu):
    """1010: the token predates the extension; a new login and one more request place the call,
    and only one call exists (the refused request was not acted on)."""
    emu.client.play_prompt(**PROMPT)  # logged in
    emu.app.pbx.far_hangup("tel:13333333333")
    [token] = emu.app.tokens
    emu.app.tokens[token] = frozenset()  # as if 1001 were added after this login
    logins = emu.app.logins
    emu.client.dial("ext:1001", "tel:41000")
    assert emu.app.logins == logins + 1
    assert len(emu.app.pbx.list_calls()) == 1


def test_a_whisper_through_the_emulator_ends_as_a_whisper(emu):
    emu.client.dial("ext:1000", "tel:41000")
    emu.app.pbx.answer("ext:1000")
    emu.app.pbx.answer("tel:41000")
    emu.server.clear()
    emu.client.monitor("ext:1005", "ext:1000", "whisper")
    assert [r.form()["monitortype"] for r in emu.server.requests] == ["1", "2"]
    [call] = emu.app.pbx.list_calls()
    assert [leg.role for leg in call.legs if leg.party == "ext:1005"] == ["monitor-whisper"]


def test_the_token_is_renewed_at_90_percent_of_its_lifetime(emu):
    """token_lifetime (12 h by default) is a configured figure, not one Infinity sends: the
    core's session renews it at 90%. The token's age is moved on, not the clock."""
    emu.client.play_prompt(**PROMPT)
    session = emu.client._session  # the core's session for this client
    logins = emu.app.logins
    session.obtained -= 0.8 * 43200
    emu.client.play_prompt(**PROMPT)
    assert emu.app.logins == logins
    session.obtained -= 0.11 * 43200
    emu.client.play_prompt(**PROMPT)
    assert emu.app.logins == logins + 1


def test_many_threads_on_an_expired_token_cause_one_login(emu):
    emu.client.dial("ext:1000", "tel:41000")
    emu.app.expire_tokens()
    logins = emu.app.logins
    threads = [threading.Thread(target=emu.client.play_prompt, kwargs=PROMPT) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emu.app.logins == logins + 1


def test_wrong_access_key_is_an_authentication_error():
    with emulated("infinity") as emu:
        url = emu.app.connect_url(emu.server.url).replace("infinity-demo", "wrong-key-99")
        with telephony_core.connect(url) as client, pytest.raises(AuthenticationError) as info:
            client.play_prompt(**PROMPT)
        assert "wrong-key-99" not in str(info.value)


def test_a_play_prompt_is_never_resent(emu):
    emu.client.dial("ext:1000", "tel:41000")  # logged in
    for fault in (Fault.http_error(503), Fault.delay(1.0)):
        emu.server.clear()
        emu.server.inject(fault, times=1)
        with pytest.raises((ProviderError, OutcomeUnknown)):
            emu.client.play_prompt(**PROMPT)
        assert len(emu.server.requests) == 1


def test_logout_on_close_and_no_secret_in_logs(caplog):
    caplog.set_level(logging.DEBUG)
    with emulated("infinity", accesskey=CANARY) as emu:
        emu.client.play_prompt(**PROMPT)
        token = next(iter(emu.app.tokens))
        emu.server.inject(Fault.reset_after_read(), times=None)
        with pytest.raises(OutcomeUnknown) as info:
            emu.client.play_prompt(**PROMPT)
        emu.server.clear_faults()
        text = caplog.text + str(info.value) + repr(emu.client) + repr(emu.client.config)
        client = emu.client
    assert client._closed
    assert "App.Sip_Auth.Logout" in [r.form().get("service") for r in emu.server.requests]
    assert CANARY not in text and token not in text
    assert token not in emu.app.tokens  # logged out


def test_a_server_failure_at_login_is_transient_not_an_authentication_error(emu):
    emu.server.inject(Fault.http_error(503), times=1)
    with pytest.raises(ProviderError) as info:
        emu.client.play_prompt(**PROMPT)
    assert info.value.category == "transient"
    assert emu.client.play_prompt(**PROMPT).call_id is None  # the next login works


def test_a_switch_to_whisper_lost_on_the_wire_says_the_supervisor_is_listening(emu):
    """The listen was acted on; the switch's reply never came: OutcomeUnknown whose message
    says what is known (the failed send reached the whisper exchange at its yield)."""
    emu.client.dial("ext:1000", "tel:41000")
    emu.app.pbx.answer("ext:1000")
    emu.app.pbx.answer("tel:41000")
    listen = emu.app.spycall

    def listen_then_break(form):  # the emulator drops the connection of the next request
        listen(form)
        emu.server.inject(Fault.reset_after_read(), times=1)
    emu.app.spycall = listen_then_break
    emu.server.clear()
    with pytest.raises(OutcomeUnknown, match="the supervisor is listening; the switch"):
        emu.client.monitor("ext:1005", "ext:1000", "whisper")
    assert [r.form()["monitortype"] for r in emu.server.requests] == ["1", "2"]

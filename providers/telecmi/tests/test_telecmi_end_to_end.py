"""The TeleCMI provider against its emulator over real HTTP."""

from __future__ import annotations

import logging

import pytest

import telephony_core
from telephony_core.emulation import Fault, emulated
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    ProviderError,
    UnsupportedOperation,
)

CANARY = "canary-telecmi-8d0e"
PROMPT = {"to": "tel:19170000001", "prompts": ["welcome_11112.wav"], "caller_id": "19170000000"}
PATH = "/v2/global_pcmo_make_call"


@pytest.fixture
def emu(webhook_receiver):
    server, _ = webhook_receiver
    with emulated("telecmi", secret=CANARY, webhook_url=server.url + "/hook",
                  client_options={"timeout": 0.5, "deadline": 5}) as e:
        yield e


def test_play_prompt_places_the_call_and_events_join_by_reference(emu, webhook_receiver):
    _, app = webhook_receiver
    ref = emu.client.play_prompt(**PROMPT, reference="order-9")
    body = emu.server.requests[-1].json()
    assert emu.server.requests[-1].path == PATH
    assert body["pcmo"] == [{"action": "play", "file_name": "welcome_11112.wav"}]
    pbx = emu.app.pbx
    [call] = pbx.list_calls()
    pbx.answer("tel:19170000001")
    pbx.clock.advance(5)  # the file plays, then the call ends
    emu.app.sender.wait(5)
    events = [e for b in app.bodies for e in emu.client.parse_event(b)]
    # global live events (out_started, out_answered), then the leg's CDR; PIOPIY sends no live
    # hangup event
    assert [e.kind for e in events] == ["call.ringing", "call.answered", "cdr"]
    assert [e.data["status"] for e in events] == ["out_started", "out_answered", "answered"]
    assert {e.reference for e in events} == {"order-9"}  # back from the extra_params text
    assert all(e.at is not None for e in events)  # time in ms, end_time in seconds
    assert ref.call_id is None  # the live call's id only comes with its events
    assert {e.data["request_id"] for e in events} == {ref.raw["request_id"]}
    assert {e.call_id for e in events} == {call.id}  # the cmiuuid hold takes
    assert emu.client.provider.live_call_id(ref.raw["request_id"]) == call.id  # as it is


def test_a_bridged_call_reports_each_leg_and_hangs_up_by_its_live_id(emu, webhook_receiver):
    _, app = webhook_receiver
    ref = emu.client.dial("tel:41000", "tel:41001", caller_id="5551000", reference="r-7")
    pbx = emu.app.pbx
    pbx.answer("tel:41000")
    pbx.answer("tel:41001")
    pbx.clock.advance(12)
    emu.app.sender.wait(5)
    live = [e for b in app.bodies for e in emu.client.parse_event(b)]
    assert [(e.data["leg"], e.data["status"]) for e in live] == [
        ("a", "out_started"), ("a", "out_answered"), ("b", "out_started"), ("b", "out_bridged")]
    call = emu.client.provider.live_call_id(ref.raw["request_id"])
    emu.client.hangup(f"call:{call}")
    assert emu.server.requests[-1].path == "/v1/call/global_action"
    assert emu.server.requests[-1].json()["action"] == "hangup"
    emu.app.sender.wait(5)
    cdrs = [e for b in app.bodies for e in emu.client.parse_event(b) if e.kind == "cdr"]
    assert sorted(e.data["leg"] for e in cdrs) == ["a", "b"]  # one CDR per leg
    assert {e.call_id for e in cdrs} == {call, call + "-b"}
    assert all("billsec" not in e.data and e.data["talk"] >= 12 for e in cdrs)
    assert not pbx.list_calls()


def test_a_bad_secret_on_the_live_action_host_is_an_authentication_error():
    """The action host answers 404 for a bad secret (PIOPIY-doc piopiy/docs/get-cmiuuid); read
    as not_found it sent applications hunting for a call that exists."""
    with emulated("telecmi") as emu:
        emu.client.dial("tel:41000", "tel:41001", caller_id="5551000")
        [call] = emu.app.pbx.list_calls()
        url = emu.app.connect_url(emu.server.url).replace("telecmi-demo", "wrong-secret-4")
        with telephony_core.connect(url) as client, pytest.raises(AuthenticationError) as info:
            client.hold(f"call:{call.id}")
        assert "wrong-secret-4" not in str(info.value)


def test_india_region_uses_its_endpoint():
    with emulated("telecmi") as emu:
        url = emu.app.connect_url(emu.server.url) + "&region=india"
        with telephony_core.connect(url) as client:
            client.play_prompt(**PROMPT)
        assert emu.server.requests[-1].path == "/v2/ind_pcmo_make_call"


def test_dial_bridges_and_hold_unhold_act_on_the_live_call(emu):
    emu.client.dial("tel:41000", "tel:41001", caller_id="5551000")
    pbx = emu.app.pbx
    pbx.answer("tel:41000")
    pbx.answer("tel:41001")
    [call] = pbx.list_calls()
    emu.client.hold(f"call:{call.id}")
    assert pbx.list_calls()[0].state == "held"
    assert emu.server.requests[-1].json()["action"] == "hold"
    emu.client.unhold(f"call:{call.id}")
    assert pbx.list_calls()[0].state == "talking"
    with pytest.raises(ProviderError) as info:
        emu.client.hold("call:nosuchcall")
    assert info.value.category == "not_found"


@pytest.mark.parametrize(("status", "error", "category"), [
    (420, AuthenticationError, None), (404, ProviderError, "not_found"),
    (422, ProviderError, "invalid"), (502, ProviderError, "invalid"),
    (500, ProviderError, "transient"), (503, ProviderError, "transient"),
])
def test_vendor_status_codes_and_a_call_is_never_reposted(emu, status, error, category):
    emu.server.inject(Fault.http_error(status), path=PATH, times=None)
    with pytest.raises(error) as info:
        emu.client.play_prompt(**PROMPT)
    if category:
        assert info.value.category == category
    assert len(emu.server.requests) == 1


def test_a_read_timeout_is_outcome_unknown_and_not_resent(emu):
    emu.server.inject(Fault.delay(1.0), path=PATH)
    with pytest.raises(OutcomeUnknown):
        emu.client.play_prompt(**PROMPT)
    assert len(emu.server.requests) == 1 and len(emu.app.pbx.list_calls()) == 1


def test_an_unknown_music_file_is_not_found(emu):
    with pytest.raises(ProviderError, match=r"Invalid music filename: nosuch\.wav") as info:
        emu.client.play_prompt(**{**PROMPT, "prompts": ["nosuch.wav"]})
    assert info.value.category == "not_found"


def test_wrong_credentials_are_an_authentication_error():
    with emulated("telecmi") as emu:
        url = emu.app.connect_url(emu.server.url).replace("telecmi-demo", "wrong-secret-3")
        with telephony_core.connect(url) as client, pytest.raises(AuthenticationError) as info:
            client.play_prompt(**PROMPT)
        assert "wrong-secret-3" not in str(info.value)


@pytest.mark.parametrize(("payload", "words"), [
    ({**PROMPT, "to": "tel:abc"}, "'tel:abc' is not valid: expected tel:N with N digits"),
    ({k: v for k, v in PROMPT.items() if k != "caller_id"}, "'caller_id' is required"),
    ({**PROMPT, "prompts": []}, "should be non-empty"),
    ({**PROMPT, "prompts": ["ftp://x/y.wav"]}, "uploaded music file name"),
    ({**PROMPT, "caller_id": "12ab"}, "caller_id"),
    ({**PROMPT, "to": "tel:+4915112345678"}, "JSON numbers"),  # a + cannot be sent: refused
    ({**PROMPT, "to": "tel:0044123"}, "JSON numbers"),  # nor a leading 0
])
def test_bad_input_is_refused_before_sending(emu, payload, words):
    with pytest.raises(PayloadError, match=words):
        emu.client.invoke("play_prompt", payload)
    assert emu.server.attempts == 0


def test_undeclared_operations(emu):
    assert not emu.client.supports("send_sms") and emu.client.supports("hangup")
    with pytest.raises(UnsupportedOperation):
        emu.client.send_sms("tel:1", "hi")


def test_the_secret_never_shows(emu, caplog):
    caplog.set_level(logging.DEBUG)
    emu.client.play_prompt(**PROMPT)
    emu.server.inject(Fault.http_error(422, body=b'{"code": 422, "msg": "bad", "secret": "'
                                       + CANARY.encode() + b'"}'), path=PATH)
    with pytest.raises(ProviderError) as info:
        emu.client.play_prompt(**PROMPT)
    text = caplog.text + str(info.value) + repr(info.value) + repr(emu.client.config)
    assert CANARY not in text


def test_a_404_without_a_telling_message_names_the_three_documented_causes(emu):
    """PIOPIY-doc piopiy/docs/get-cmiuuid: on the live-action host a 404 is a wrong app id or
    secret, a missing parameter or an unknown cmiuuid; with no message nothing tells which."""
    emu.server.inject(Fault.http_error(404, body=b""), path="/v1/call/global_action")
    with pytest.raises(ProviderError) as info:
        emu.client.hold("call:ee6a7a9b-78ea-4693-9e77-5fc085567b2f")
    assert (info.value.code, info.value.category) == ("not_found_or_refused", "not_found")
    assert "secret" in info.value.message and "call id" in info.value.message


def test_live_actions_go_to_the_configured_action_host():
    """action_url names the live-action host; the make-call host sees none of its requests
    (a second server on the same model stands for piopiy.telecmi.com)."""
    from telephony_core.emulation.server import EmulatorServer

    with emulated("telecmi") as emu, EmulatorServer(emu.app) as actions:
        call = emu.app.pbx.dial("tel:41000", "tel:41001", caller_id="5551000")
        url = emu.app.connect_url(emu.server.url) + f"&action_url={actions.url}"
        with telephony_core.connect(url) as client:
            client.hangup(f"call:{call.id}")
        assert [(r.path, r.json()["action"]) for r in actions.requests] == [
            ("/v1/call/global_action", "hangup")]
        assert not emu.server.requests and not emu.app.pbx.list_calls()

"""Pure translation against seed 003's request sample and both callback samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from telephony_infinity.provider import with_token
from telephony_infinity.translate import (
    dial_fields,
    event_from_callback,
    monitor_fields,
    monitor_steps,
    play_voice_fields,
)

import telephony_core
from telephony_core.errors import EventError
from telephony_core.wire import WireReply, WireRequest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_the_seed_request_sample_is_what_play_prompt_sends():
    payload = {"to": "tel:13333333333", "prompts": ["http://wwww.baidu.com/test.mp3"],
               "menu": {"1": "group:extGroup-1"}, "caller_id": "13333333333",
               "reference": "13333333333"}
    sent = with_token(WireRequest("POST", "/", data=play_voice_fields(payload)), "ABCDEFG")
    seed = fixture("seed_playvoice_request")
    # the seed's voicefile has no scheme ("wwww.baidu.com/test.mp3"); the contract takes
    # http(s) URLs, so that one value differs by its scheme; every other field, value and the
    # order are the sample's
    seed["voicefile"] = "http://" + seed["voicefile"]
    assert list(sent.data.items()) == list(seed.items())
    assert sent.multipart is True


def test_uploaded_names_are_voicetype_1_and_optional_fields_are_left_out():
    fields = play_voice_fields({"to": "tel:1", "prompts": ["hello111"], "menu": {"7": "group:g"}})
    assert fields["voicetype"] == "1" and fields["voicefile"] == "hello111"
    assert fields["userid"] == "7@g" and "disnumber" not in fields and "customuuid" not in fields


def test_makecall_and_spycall_fields():
    assert dial_fields({"caller": "ext:20280003", "callee": "tel:85322888486",
                        "reference": "r1"}) == {
        "service": "App.Sip_Call.MakeCall", "extnumber": "20280003",
        "destnumber": "85322888486", "customuuid": "r1"}
    assert monitor_fields({"supervisor": "ext:1005", "call": "ext:1001"}, "1") == {
        "service": "App.Sip_Call.SpyCall", "monitortype": "1", "extnumber": "1005",
        "destnumber": "1001"}


def test_a_whisper_is_a_listen_then_the_switch_to_whisper():
    """monitortype 2 switches an ongoing listen (INF-doc voice-cn-api/page/api-Xfr); sending
    it alone, as the provider once did, asks to switch a listen that does not exist."""
    payload = {"supervisor": "ext:1005", "call": "ext:1001"}
    assert [s["monitortype"] for s in monitor_steps({**payload, "mode": "whisper"})] == ["1", "2"]
    assert [s["monitortype"] for s in monitor_steps({**payload, "mode": "listen"})] == ["1"]


def test_the_seed_extension_status_callback():
    event = event_from_callback(fixture("seed_status_callback"))
    assert event.kind == "call.ringing"
    assert event.call_id == "f4ee8e7a-4a0f-11ea-8126-fbc8753285b6"
    assert event.parties == ("ext:20280003", "tel:85322888486")
    assert event.data["direction"] == "callout" and event.at.year == 2020


def test_the_seed_cdr_callback_keeps_the_reference_and_the_key():
    event = event_from_callback(fixture("seed_cdr_callback"))
    assert (event.kind, event.reference) == ("cdr", "110001168")
    assert event.parties == ("tel:85781218893",)  # extnumber is empty in the sample
    assert event.data["userkey"] == "" and event.data["billsec"] == 10
    assert event.raw == fixture("seed_cdr_callback")


@pytest.mark.parametrize("body", [
    [], "ring", 7, None, {"status": "ring", "caller": ["1"]}, {"billsec": 1, "uuid": {}},
    {"status": "ring", "starttime": "1e300"}, {"hangupcause": 1, "endtime": 10 ** 30},
    {"status": {"a": 1}}, {"customuuid": [1]}, {"billsec": 1, "destnumber": True},
])
def test_an_unreadable_callback_is_a_typed_error_or_an_event_never_a_raw_exception(body):
    try:
        event = event_from_callback(body)
    except EventError as exc:
        assert exc.operation == "parse_event" and exc.problem
    else:
        assert event.kind in ("call.ringing", "cdr", "system")


def _reply(status: int, body: object) -> WireReply:
    text = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireReply(status, {"Content-Type": "application/json"}, text)


@pytest.fixture(scope="module")
def provider():
    with telephony_core.connect("infinity://ABCDEFG:ABCDEFG@127.0.0.1:9?scheme=http") as client:
        yield client.provider  # no traffic: nothing is invoked


REFUSED_1010 = {"ret": 200, "data": {"status": 1, "desc": "xxxfail",
                                     "errors": {"code": "1010", "codemsg": "Extension exception"}}}


@pytest.mark.parametrize(("status", "body", "dead"), [
    (200, {"ret": 600, "data": [], "msg": "The token is invalid"}, True),
    (200, REFUSED_1010, True),
    (200, {**REFUSED_1010, "data": {**REFUSED_1010["data"], "errors": {"code": 1010}}}, True),
    # not a complete refusal: a server failure, or something unreadable, is never re-sent
    (502, {"ret": 600, "data": []}, False),
    (200, b"<html>gateway</html>", False),
    (200, [600], False),
    (200, {"ret": "600"}, False),
    (200, {"ret": True}, False),
    # 1010 only counts with a non-zero data.status (a refusal), other codes never
    (200, {"ret": 200, "data": {"status": 0, "errors": {"code": "1010"}}}, False),
    (200, {"ret": 200, "data": {"status": 1, "errors": {"code": "1012"}}}, False),
    (200, {"ret": 200, "data": {"status": 1, "errors": "1010"}}, False),
    (200, {"ret": 601, "data": []}, False),
])
def test_which_replies_cause_one_new_login(provider, status, body, dead):
    assert provider.token_is_dead(_reply(status, body)) is dead


def test_the_token_follows_service_and_the_login_carries_none(provider):
    from telephony_core.wire import Token

    sent = provider.attach(WireRequest("POST", "/", data=dial_fields(
        {"caller": "ext:1001", "callee": "tel:41000"})), Token("t0k"))
    assert list(sent.data)[:3] == ["service", "token", "extnumber"] and sent.data["token"] == "t0k"
    login = next(provider.login())
    assert login.data["service"] == "App.Sip_Auth.Login" and "token" not in login.data

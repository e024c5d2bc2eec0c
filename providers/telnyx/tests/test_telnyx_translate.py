"""Pure translation, checked against spec3.json: request bodies validate against the operations'
request schemas, the spec's own webhook examples parse into canonical events, and the checker
itself refuses what the spec does not document."""

from __future__ import annotations

import pytest
from telephony_telnyx import translate

DIAL = {"caller": "tel:+41000", "callee": "sip:bob@example.com", "caller_id": "+15550100",
        "reference": "r-1"}


def test_bodies_match_the_spec_operations(telnyx_spec):
    checks = {
        "DialCall": ("POST", "/calls", translate.dial_caller("c1", DIAL, "k1")),
        "DialCall ": ("POST", "/calls", translate.bridge_leg(
            "c1", translate.decode_state(translate.dial_caller("c1", DIAL, "k")["client_state"]),
            "v3:leg")),
        "DialCall  ": ("POST", "/calls", translate.play_call(
            "c1", {"to": "tel:+41000", "prompts": ["https://x.example/a.mp3"],
                   "caller_id": "+15550100"}, "k")),
        "DialCall   ": ("POST", "/calls", translate.monitor_body(
            "c1", {"supervisor": "sip:sup@example.com", "call": "call:v3:x", "mode": "listen"},
            "+15550100", "k")),
        "TransferCall": ("POST", "/calls/v3:x/actions/transfer",
                         translate.transfer_body({"to": "tel:+41002"}, "k")),
        "HangupCall": ("POST", "/calls/v3:x/actions/hangup", translate.hangup_body({}, "k")),
        "SendMessage": ("POST", "/messages", translate.sms_body(
            {"to": "tel:+41000", "text": "hi"}, "+15550100", "prof-1")),
    }
    flow = translate.decode_state(translate.play_call(
        "c1", {"to": "tel:+41000", "prompts": ["a.wav", "https://x.example/b.mp3"],
               "caller_id": "+15550100", "menu": {"1": "tel:+41001"}}, "k")["client_state"])
    first = translate.play_step(flow, "v3:x")
    second = translate.play_step({**flow, "i": 0}, "v3:x")
    assert first is not None and second is not None
    assert first[0] == "playback_start" and first[1]["media_name"] == "a.wav"
    assert second[0] == "gather_using_audio" and second[1]["valid_digits"] == "1"
    assert translate.play_step({**flow, "i": 1}, "v3:x") is None
    checks["StartCallPlayback"] = ("POST", "/calls/v3:x/actions/playback_start", first[1])
    checks["GatherUsingAudio"] = ("POST", "/calls/v3:x/actions/gather_using_audio", second[1])
    for operation_id, (method, path, body) in checks.items():
        assert telnyx_spec.check_request(method, path, body) == operation_id.strip()


def test_the_checker_refuses_what_the_spec_does_not_document(telnyx_spec):
    with pytest.raises(AssertionError, match="keys the spec does not document"):
        telnyx_spec.check_request("POST", "/calls", {"connection_id": "c", "to": "+1", "from":
                                                     "+2", "callee": "+3"})
    with pytest.raises(AssertionError, match="does not match"):
        telnyx_spec.check_request("POST", "/calls", {"connection_id": "c", "to": "+1"})
    with pytest.raises(AssertionError, match="does not match"):
        telnyx_spec.check_reply("POST", "/calls/v3:x/actions/hangup", 200,
                                {"data": {"result": 1}})
    with pytest.raises(AssertionError, match="no such operation"):
        telnyx_spec.check_request("POST", "/calls/v3:x/actions/hold", {})


def test_client_state_round_trips_and_foreign_state_is_ignored():
    state = translate.encode_state({"f": "dial", "callee": "tel:+41001"})
    assert translate.decode_state(state) == {"v": 1, "f": "dial", "callee": "tel:+41001"}
    for foreign in ("aGF2ZSBhIG5pY2UgZGF5ID1d", "!!", "", None, 3, "eyJ2IjoyfQ=="):
        assert translate.decode_state(foreign) == {}


def test_follow_up_command_ids_are_stable_and_short():
    one = translate.follow_up_command_id("v3:" + "x" * 200, "bridge")
    assert one == translate.follow_up_command_id("v3:" + "x" * 200, "bridge")
    assert one != translate.follow_up_command_id("v3:" + "x" * 200, "hangup")
    assert len(one) <= 64


@pytest.mark.parametrize(("schema", "kind"), [
    ("CallInitiatedEvent", "call.offered"), ("CallAnsweredEvent", "call.answered"),
    ("CallHangupEvent", "call.hangup"), ("CallPlaybackEndedEvent", "prompt.finished"),
    ("CallDtmfReceivedEvent", "call.dtmf"), ("CallBridgedEvent", "system"),
    ("CallGatherEndedEvent", "system"),
])
def test_the_specs_own_webhook_examples_become_events(telnyx_spec, schema, kind):
    """The examples spec3.json gives for each event (components.schemas.<Event>.data)."""
    wrapper = telnyx_spec.doc["components"]["schemas"][schema]
    data = telnyx_spec.resolve(wrapper["properties"]["data"])
    example = data["example"]
    event = translate.event_from_webhook({"data": example})
    assert event.kind == kind
    assert event.call_id == example['payload']['call_control_id']  # as it is, no call:
    assert event.at is not None and event.at.year == 2018
    assert event.data["event_type"] == example["event_type"]
    if "from" in example["payload"]:
        assert event.parties[0] == f"tel:{example['payload']['from']}"


def test_a_callee_leg_reports_the_call_id_the_application_got():
    state = translate.encode_state({"f": "dial-callee", "root": "v3:caller", "ref": "r-9"})
    event = translate.event_from_webhook({"data": {
        "event_type": "call.answered", "occurred_at": "2018-02-02T22:25:27.521992Z",
        "payload": {"call_control_id": "v3:callee", "client_state": state,
                    "from": "+15550100", "to": "sip:bob@example.com"}}})
    assert event.call_id == "v3:caller" and event.reference == "r-9"
    assert event.parties == ("tel:+15550100", "sip:bob@example.com")
    assert event.data["call_control_id"] == "v3:callee"


def test_active_calls_take_parties_from_our_state(telnyx_spec):
    ours = translate.dial_caller("c1", DIAL, "k")["client_state"]
    reply = {"data": [{"call_control_id": "v3:a", "call_leg_id": "l", "call_session_id": "s",
                       "client_state": ours, "call_duration": 5, "record_type": "call"}],
             "meta": {"cursors": {}, "total_items": 1}}
    telnyx_spec.check_reply("GET", "/connections/c1/active_calls", 200, reply)
    info = translate.active_call_info(reply["data"][0])
    assert (info.call_id, info.caller, info.callee, info.state) == (
        "v3:a", "tel:+41000", "sip:bob@example.com", "unknown")

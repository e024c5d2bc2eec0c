"""Pure translation: ARI event frames (events.json models) to canonical events, addresses to
endpoints and dialplan locations, channels grouped into calls."""

from __future__ import annotations

import json

import pytest
from telephony_ari.translate import Dialplan, events_from_frame, group_calls, media_of

from telephony_core.errors import EventError

PLAN = Dialplan()


def channel(cid: str, name: str, state: str = "Up", linked: str | None = None,
            number: str = "") -> dict:
    return {"id": cid, "protocol_id": "", "name": name, "state": state,
            "caller": {"name": "", "number": number}, "connected": {"name": "", "number": ""},
            "accountcode": "", "dialplan": {"context": "from-internal", "exten": "1001",
                                            "priority": 1, "app_name": "", "app_data": ""},
            "creationtime": "2026-11-29T05:00:00.000+0000", "language": "en",
            **({"channelvars": {"CHANNEL(linkedid)": linked}} if linked else {})}


def frame(kind: str, **fields) -> str:
    return json.dumps({"type": kind, "application": "app",
                       "timestamp": "2026-11-29T05:00:01.250+0000", **fields})


@pytest.mark.parametrize("text", ["", "not json", "[]", "42", '{"no": "type"}',
                                  '{"type": 5}', frame("BridgeCreated", bridge={}),
                                  frame("StasisStart", channel={"id": "x"}),
                                  frame("StasisStart", args=[]),
                                  frame("ChannelDestroyed", channel=channel("a", "PJSIP/1-1")),
                                  frame("ChannelDtmfReceived", digit="12",
                                        channel=channel("a", "PJSIP/1-1")),
                                  frame("PlaybackFinished", playback={"id": "p"}),
                                  frame("PlaybackFinished", playback={
                                      "id": "p", "target_uri": "bridge:b"})])
def test_unreadable_or_unknown_frames_are_event_errors(text):
    with pytest.raises(EventError):
        events_from_frame(text, PLAN)


def test_destroyed_before_answer_is_a_failure_then_a_hangup():
    events = events_from_frame(frame("ChannelDestroyed", cause=17, cause_txt="User busy",
                                     channel=channel("c1", "PJSIP/1001-0001", "Ringing",
                                                     linked="c0")), PLAN)
    assert [(e.kind, e.call_id, e.parties) for e in events] == [
        ("call.failed", "c0", ("ext:1001",)), ("call.hangup", "c0", ("ext:1001",))]
    assert events[0].data["reason"] == "busy"
    assert events[1].at.isoformat() == "2026-11-29T05:00:01.250000+00:00"


def test_stasis_start_of_our_originate_is_system_and_of_others_an_offer():
    ours = events_from_frame(frame("StasisStart", args=["telephony", "play_prompt"],
                                   channel=channel("tc-k", "PJSIP/1000-0002")), PLAN)
    assert ours[0].kind == "system" and ours[0].data["ari"] == "StasisStart"
    inbound = events_from_frame(frame("StasisStart", args=[], channel=channel(
        "9.1", "PJSIP/trunk-0003", "Ring", number="41000")), PLAN)
    assert (inbound[0].kind, inbound[0].parties, inbound[0].data["to"]) == (
        "call.offered", ("tel:41000",), "1001")


def test_dtmf_playback_and_hold():
    [dtmf] = events_from_frame(frame("ChannelDtmfReceived", digit="#", duration_ms=100,
                                     channel=channel("a", "PJSIP/1000-1")), PLAN)
    assert (dtmf.kind, dtmf.data["key"]) == ("call.dtmf", "#")
    [done] = events_from_frame(frame("PlaybackFinished", playback={
        "id": "p", "media_uri": "sound:x", "target_uri": "channel:a", "state": "done"}), PLAN)
    assert (done.kind, done.call_id, done.data["state"]) == ("prompt.finished", "a", "done")
    [held] = events_from_frame(frame("ChannelHold", channel=channel("a", "PJSIP/1000-1")),
                               PLAN)
    assert (held.kind, held.data["status"], held.data["extension"]) == (
        "extension.status", "held", "ext:1000")


def test_addresses_endpoints_and_media():
    plan = Dialplan("SIP", "carrier", "internal", "out")
    assert plan.endpoint("ext:1000") == "SIP/1000"
    assert plan.endpoint("tel:+4930123") == "SIP/+4930123@carrier"
    assert plan.extension("tel:41000") == ("out", "41000")
    assert plan.extension("ext:1001") == ("internal", "1001")
    assert media_of("hello") == "sound:hello" and media_of("recording:r1") == "recording:r1"


def test_channels_group_into_calls_by_linkedid():
    calls = group_calls([channel("b", "PJSIP/1001-2", "Ringing", linked="a"),
                         channel("a", "PJSIP/1000-1", "Up", linked="a"),
                         channel("z", "PJSIP/trunk-3", "Up", number="41000")], PLAN)
    assert [(c["call_id"], c["caller"], c["callee"], c["state"]) for c in calls] == [
        ("a", "ext:1000", "ext:1001", "ringing"), ("z", "tel:41000", None, "talking")]

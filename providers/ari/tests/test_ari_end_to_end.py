"""The ARI provider over real HTTP and a real WebSocket against its emulator: operations,
originate reconciliation, the play_prompt flow on stream events, inbound calls, the stream
dropping and reconnecting, typed errors and secrets."""

from __future__ import annotations

import logging
import socket

import pytest
from ari_helpers import ari, wait_for

from telephony_core import connect
from telephony_core.emulation import Fault
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    ProviderError,
    TelephonyError,
    TransportError,
)
from telephony_core.streams import StreamError


def reader(client):
    """Every event the stream delivers, collected by a background iterator."""
    import threading

    got: list = []

    def run():
        try:
            for event in client.events(timeout=10):
                got.append(event)
        except StreamError as exc:
            got.append(exc)

    threading.Thread(target=run, daemon=True).start()
    return got


def test_dial_rings_the_caller_then_continues_to_the_callee(emu):
    ref = emu.client.dial(caller="ext:1000", callee="ext:1001", caller_id="5551000")
    assert ref.call_id.startswith("tc-")  # the channel id as it is, no call: prefix
    sent = emu.server.requests_to(f"/ari/channels/{ref.call_id}", "POST")
    assert dict(sent[0].query_list) == {"endpoint": "PJSIP/1000", "extension": "1001",
                                        "context": "from-internal", "callerId": "5551000"}
    emu.app.pbx.answer("ext:1000")
    emu.app.pbx.answer("ext:1001")
    [call] = emu.client.list_calls()
    assert (call.call_id, call.caller, call.callee, call.state) == (
        ref.call_id, "ext:1000", "ext:1001", "talking")
    emu.client.hold(f"call:{ref.call_id}")
    assert emu.app.pbx.snapshot()["extensions"]["1000"] == "held"
    emu.client.unhold(f"call:{ref.call_id}")
    emu.client.mute(f"call:{ref.call_id}")
    assert emu.app.pbx.snapshot()["calls"][0]["legs"][0]["muted"] is True
    emu.client.unmute(f"call:{ref.call_id}")
    emu.client.transfer(f"call:{ref.call_id}", "tel:41000")
    assert [leg["party"] for leg in emu.app.pbx.snapshot()["calls"][0]["legs"]] == [
        "ext:1000", "tel:41000"]
    emu.client.hangup(f"call:{ref.call_id}")
    assert emu.client.list_calls() == []


def test_the_idempotency_key_is_the_channel_id_and_a_repeat_places_nothing(emu):
    first = emu.client.dial(caller="ext:1000", callee="ext:1001", idempotency_key="order-7")
    again = emu.client.dial(caller="ext:1000", callee="ext:1001", idempotency_key="order-7")
    assert first.call_id == again.call_id == "tc-order-7"
    assert again.raw == {"duplicate": True}
    assert len(emu.app.pbx.calls) == 1


def test_a_lost_originate_reply_is_reconciled_by_get_channel_never_resent(emu):
    emu.server.inject(Fault.reset_after_read(), method="POST", times=1)
    ref = emu.client.dial(caller="ext:1000", callee="ext:1001", idempotency_key="k1")
    assert ref.call_id == "tc-k1" and ref.raw["reconciled"] is True
    methods = [(r.method, r.path) for r in emu.server.requests]
    assert methods == [("POST", "/ari/channels/tc-k1"), ("GET", "/ari/channels/tc-k1")]
    assert len(emu.app.pbx.calls) == 1


def test_a_lost_originate_whose_channel_is_gone_is_outcome_unknown(emu):
    emu.server.inject(Fault.reset_after_read(), method="POST", times=1)
    emu.server.inject(Fault.http_error(404, b'{"message": "Channel not found"}'),
                      method="GET", times=1)
    with pytest.raises(OutcomeUnknown, match="does not exist now"):
        emu.client.dial(caller="ext:1000", callee="ext:1001", idempotency_key="k2")
    assert len(emu.server.requests_to("/ari/channels/tc-k2", "POST")) == 1


def test_play_prompt_flow_answers_plays_and_hangs_up_on_stream_events(emu):
    ref = emu.client.play_prompt(to="ext:1002", prompts=["hello111", "recording:greet"])
    channel = ref.call_id
    assert dict(emu.server.requests_to(f"/ari/channels/{channel}", "POST")[0].query_list) == {
        "endpoint": "PJSIP/1002", "app": emu.app.app, "appArgs": "telephony,play_prompt"}
    emu.app.pbx.answer("ext:1002")  # StasisStart -> answer, play (the app never iterates)
    play = wait_for(lambda: emu.server.requests_to(
        f"/ari/channels/{channel}/play/{channel}-play", "POST"))
    assert [v for k, v in play[0].query_list if k == "media"] == ["sound:hello111",
                                                                  "recording:greet"]
    assert emu.server.requests_to(f"/ari/channels/{channel}/answer", "POST")
    wait_for(lambda: f"{channel}-play" in emu.app.playbacks)  # recorded, then handled
    emu.app.pbx.clock.advance(10)  # PlaybackFinished -> hang up
    wait_for(lambda: emu.server.requests_to(f"/ari/channels/{channel}", "DELETE"))
    wait_for(lambda: not emu.app.pbx.calls)


def test_a_menu_key_continues_in_the_dialplan(emu):
    ref = emu.client.play_prompt(to="ext:1002", prompts=["hello111"], menu={"1": "ext:1003"})
    channel = ref.call_id
    emu.app.pbx.answer("ext:1002")
    wait_for(lambda: f"{channel}-play" in emu.app.playbacks)
    emu.app.pbx.clock.advance(6)
    emu.app.pbx.press("ext:1002", "1")
    moved = wait_for(lambda: emu.server.requests_to(f"/ari/channels/{channel}/continue"))
    assert dict(moved[0].query_list) == {"context": "from-internal", "extension": "1003",
                                         "priority": "1"}
    assert not emu.server.requests_to(f"/ari/channels/{channel}", "DELETE")
    wait_for(lambda: emu.app.pbx.extension_state("1003") == "ringing")


def test_inbound_calls_are_offered_then_accepted_or_rejected(emu):
    got = reader(emu.client)
    emu.client.list_calls()  # starts the stream (the Stasis app registers)
    emu.app.pbx.incoming("41000", "5551000")
    offered = wait_for(lambda: [e for e in got if getattr(e, "kind", "") == "call.offered"])
    assert offered[0].parties == ("tel:41000",)
    emu.client.accept_call(f"call:{offered[0].call_id}")
    assert emu.app.pbx.snapshot()["calls"][0]["offered"] is False
    with pytest.raises(ProviderError) as info:  # no longer offered
        emu.client.reject_call(f"call:{offered[0].call_id}")
    assert info.value.code == "not_offered"
    emu.app.pbx.incoming("41001", "5551000")
    second = wait_for(lambda: [e for e in got if getattr(e, "kind", "") == "call.offered"
                               and e.parties == ("tel:41001",)])
    emu.client.reject_call(f"call:{second[0].call_id}")
    assert dict(emu.server.requests_to(f"/ari/channels/{second[0].call_id}",
                                       "DELETE")[0].query_list) == {"reason": "rejected"}
    assert len(emu.app.pbx.calls) == 1


READ = {"StasisStart", "StasisEnd", "ChannelStateChange", "ChannelDestroyed",
        "ChannelDtmfReceived", "PlaybackFinished", "ChannelHold", "ChannelUnhold"}


def test_the_stream_reconnects_after_a_drop_with_a_gap_and_nothing_lost_or_repeated(emu):
    client = emu.client
    got = reader(client)
    ref = client.dial(caller="ext:1000", callee="ext:1001")
    wait_for(lambda: any(getattr(e, "kind", "") == "call.ringing" for e in got))
    stream = client.provider.event_stream()
    assert emu.app.drop_streams() == 1
    emu.app.pbx.answer("ext:1000")  # while nobody listens: ARI does not replay it
    wait_for(lambda: stream.connections == 2 and stream.connected)
    emu.app.pbx.answer("ext:1001")
    client.hold(f"call:{ref.call_id}")
    client.hangup(f"call:{ref.call_id}")
    wait_for(lambda: any(getattr(e, "kind", "") == "call.hangup" for e in got))
    gaps = [i for i, e in enumerate(got) if e.kind == "system" and e.data.get("gap")]
    assert len(gaps) == 1
    gap = got[gaps[0]]
    assert gap.data["reconciled"] is True and ref.call_id in gap.data["live_calls"]
    sent_after = [frame for n, frame in emu.app.sent if n == 2 and frame["type"] in READ]

    def received_after() -> list:
        frames = []
        for event in list(got)[gaps[0] + 1:]:  # a frame may give two events (failed, hangup)
            if not frames or event.raw is not frames[-1]:
                frames.append(event.raw)
        return frames

    wait_for(lambda: len(received_after()) >= len(sent_after))  # the last frames in flight
    after = received_after()
    assert after == sent_after  # every frame sent after the reconnect, once, in order
    before = {id(e.raw) for e in got[:gaps[0]]}
    assert not before & {id(f) for f in after}


def test_play_prompt_refuses_before_sending_when_the_stream_is_down():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ari(client_options={"events_port": port, "stream_failures": 2,
                             "connect_timeout": 0.5}) as running:
        with pytest.raises(TransportError, match=r"could not be connected|not connected"):
            running.client.play_prompt(to="ext:1000", prompts=["hello111"])
        assert not [r for r in running.server.requests if r.method == "POST"]
        with pytest.raises(StreamError):
            list(running.client.events(timeout=5))


def test_bad_payloads_are_refused_before_any_traffic(emu):
    for op, payload in [("dial", {"caller": "ext:1000", "callee": "queue:6700"}),
                        ("transfer", {"call": "ext:1000", "to": "ext:1001"}),
                        ("play_prompt", {"to": "ext:1000", "prompts": ["http://x/a.wav"]}),
                        ("hold", {"call": "call:a b"})]:
        with pytest.raises(PayloadError):
            emu.client.invoke(op, payload)
    assert emu.server.requests == []


def test_refusals_are_typed(emu):
    with pytest.raises(ProviderError) as info:
        emu.client.hold("call:nope")
    assert (info.value.category, info.value.vendor_code) == ("not_found", "404")
    with pytest.raises(ProviderError) as info:
        emu.client.dial(caller="ext:9999", callee="ext:1001")
    assert info.value.vendor_code == "400"


def test_wrong_password_is_typed_and_never_shown(caplog):
    caplog.set_level(logging.DEBUG)
    with ari() as running, connect(running.url.replace(":ari-demo@", ":wrong-pass-123@"),
                                   stream_failures=2) as client:
        with pytest.raises(AuthenticationError) as info:
            client.list_calls()
        with pytest.raises(StreamError, match="HTTP 401"):
            list(client.events(timeout=5))
    assert "wrong-pass-123" not in str(info.value) and "wrong-pass-123" not in caplog.text
    import base64

    token = base64.b64encode(b"asterisk:wrong-pass-123").decode()
    assert token not in caplog.text


def test_the_demo_password_never_reaches_a_log(caplog):
    caplog.set_level(logging.DEBUG)
    with ari() as running:
        running.client.dial(caller="ext:1000", callee="ext:1001")
        wait_for(lambda: running.app.sent)
        running.app.drop_streams()
        wait_for(lambda: running.client.provider.event_stream().connections == 2)
    import base64

    assert "ari-demo" not in caplog.text
    assert base64.b64encode(b"asterisk:ari-demo").decode() not in caplog.text


def test_music_on_hold_on_a_channel_is_a_provider_extra(emu):
    ref = emu.client.dial(caller="ext:1000", callee="ext:1001")
    emu.app.pbx.answer("ext:1000")
    emu.client.provider.start_moh(f"call:{ref.call_id}", "jazz")
    channel = emu.app.channels[ref.call_id]
    assert channel.moh == "jazz"
    assert dict(emu.server.requests[-1].query_list) == {"mohClass": "jazz"}
    emu.client.provider.stop_moh(f"call:{ref.call_id}")
    assert channel.moh is None
    for bad in ("ext:1000", 5):
        with pytest.raises(PayloadError, match="call:ID"):
            emu.client.provider.start_moh(bad)
    with pytest.raises(PayloadError, match="musiconhold"):
        emu.client.provider.start_moh(f"call:{ref.call_id}", "../etc")
    with pytest.raises(ProviderError) as info:
        emu.client.provider.start_moh("call:gone")
    assert info.value.category == "not_found"


def test_strict_stasis_refuses_channel_operations_outside_the_app():
    with ari(stasis_only=True) as running:
        ref = running.client.dial(caller="ext:1000", callee="ext:1001")
        running.app.pbx.answer("ext:1000")
        with pytest.raises(ProviderError) as info:
            running.client.hold(f"call:{ref.call_id}")
        assert (info.value.code, info.value.vendor_code) == ("not_in_stasis", "409")
        running.client.hangup(f"call:{ref.call_id}")  # hangup works on any channel


def test_a_closed_client_has_no_stream():
    with ari() as running:
        running.client.list_calls()
        stream = running.client.provider.event_stream()
        assert stream.connected
    assert not stream.running
    with pytest.raises(TelephonyError, match="closed"):
        running.client.events(timeout=0.1)


def test_a_gap_whose_reconciliation_fails_says_so(emu):
    got = reader(emu.client)
    emu.client.list_calls()
    stream = emu.client.provider.event_stream()
    emu.server.inject(Fault.http_error(500, b'{"message": "boom"}'), path="/ari/channels",
                      method="GET")
    emu.app.drop_streams()
    gap = wait_for(lambda: [e for e in got if e.kind == "system" and e.data.get("gap")])
    assert stream.connections == 2
    assert gap[0].data["reconciled"] is False and "live_calls" not in gap[0].data
    assert "500" in gap[0].data["error"]


def test_monitor_snoops_creates_bridges_and_dials_the_supervisor(emu):
    ref = emu.client.dial(caller="ext:1000", callee="ext:1001", idempotency_key="m1")
    emu.app.pbx.answer("ext:1000")
    emu.app.pbx.answer("ext:1001")
    emu.server.clear()
    emu.client.monitor("ext:1005", f"call:{ref.call_id}", "whisper")
    assert [(r.method, r.path, dict(r.query_list)) for r in emu.server.requests] == [
        ("POST", "/ari/channels/tc-m1/snoop/tc-m1-snoop-1005",
         {"spy": "both", "whisper": "out", "app": emu.app.app, "appArgs": "telephony,snoop"}),
        ("POST", "/ari/channels/create", {"endpoint": "PJSIP/1005", "app": emu.app.app,
                                          "appArgs": "telephony,monitor",
                                          "channelId": "tc-m1-sup-1005"}),
        ("POST", "/ari/bridges/tc-m1-mon-1005", {"type": "mixing"}),
        ("POST", "/ari/bridges/tc-m1-mon-1005/addChannel",
         {"channel": "tc-m1-snoop-1005,tc-m1-sup-1005"}),
        ("POST", "/ari/channels/tc-m1-sup-1005/dial", {})]
    legs = emu.app.pbx.snapshot()["calls"][0]["legs"]
    assert legs[-1]["party"] == "ext:1005" and legs[-1]["role"] == "monitor-whisper"
    emu.app.pbx.far_hangup("ext:1005")  # the supervisor leaves; its channels go
    assert "tc-m1-sup-1005" not in emu.app.channels
    assert "tc-m1-snoop-1005" not in emu.app.channels


def test_a_refused_monitor_removes_what_it_created(emu):
    ref = emu.client.dial(caller="ext:1000", callee="ext:1001")
    emu.app.pbx.answer("ext:1000")
    emu.app.pbx.answer("ext:1001")
    with pytest.raises(ProviderError) as info:  # 1002's monitor mode is disabled
        emu.client.monitor("ext:1002", f"call:{ref.call_id}", "listen")
    assert info.value.vendor_code == "409" and "monitor mode" in info.value.message
    assert set(emu.app.channels) == {ref.call_id, *[c for c in emu.app.channels
                                                        if c.startswith("1495")]}
    assert emu.app.bridges == {}
    emu.client.monitor("ext:1005", f"call:{ref.call_id}", "barge")  # the ids are free again
    assert emu.app.pbx.snapshot()["calls"][0]["legs"][-1]["role"] == "monitor-barge"

"""Spec evidence: every request the provider sends is an operation of the ARI Swagger specs
(path, method, query parameters, allowed values), and every emulator reply and event frame
fits the spec's models. Specs: ../shared/specs/asterisk-ari/ (not copied into the project).

Requests and replies go through the conformance kit's checker (spec_evidence, which the
conformance suite also runs on all its traffic through ``Fixtures.vendor_spec``) and through
``swagger.py`` here, which is stricter on models (no undeclared property, inherited event
properties, allowMultiple) and is the only one that checks the WebSocket's event frames."""

from __future__ import annotations

import json

import pytest
from ari_helpers import ari, wait_for
from swagger import SPECS, Spec

from telephony_core.errors import TelephonyError
from telephony_core.testing.spec_evidence import load, reply_problems, request_problems

pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"the ARI specs are not at {SPECS}")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec()


def everything(emu) -> None:
    """Drive every operation and flow once (successes and refusals)."""
    client, pbx = emu.client, emu.app.pbx
    ref = client.dial(caller="ext:1000", callee="ext:1001", caller_id="5551000")
    pbx.answer("ext:1000")
    pbx.answer("ext:1001")
    for op in (client.hold, client.unhold, client.mute, client.unmute):
        op(f"call:{ref.call_id}")
    client.list_calls()
    client.list_calls(direction="inbound", ids=[f"call:{ref.call_id}"])
    client.transfer(f"call:{ref.call_id}", "tel:41000")
    for attempt in (lambda: client.transfer(f"call:{ref.call_id}", "sip:bob@example.com"),
                    lambda: client.hold("call:missing"),
                    lambda: client.dial(caller="ext:9999", callee="ext:1001")):
        with pytest.raises(TelephonyError):
            attempt()
    client.monitor("ext:1005", f"call:{ref.call_id}", "listen")
    with pytest.raises(TelephonyError):
        client.monitor("ext:1002", f"call:{ref.call_id}", "barge")  # refused at dial, undone
    pbx.far_hangup("ext:1005")
    client.provider.start_moh(f"call:{ref.call_id}", "default")
    client.provider.stop_moh(f"call:{ref.call_id}")
    client.hangup(f"call:{ref.call_id}")
    played = client.play_prompt(to="ext:1002", prompts=["hello111", "nosuch"],
                                caller_id="5551000", menu={"2": "tel:41001"})
    pbx.answer("ext:1002")
    wait_for(lambda: f"{played.call_id}-play" in emu.app.playbacks)  # the timer is set
    pbx.clock.advance(11)
    pbx.press("ext:1002", "2")
    wait_for(lambda: emu.server.requests_to(f"/ari/channels/{played.call_id}/continue"))
    other = client.play_prompt(to="ext:1003", prompts=["hello111"])
    pbx.answer("ext:1003")
    wait_for(lambda: f"{other.call_id}-play" in emu.app.playbacks)
    pbx.clock.advance(6)
    wait_for(lambda: emu.server.requests_to(f"/ari/channels/{other.call_id}", "DELETE"))
    pbx.incoming("41000", "5551000")
    pbx.incoming("41001", "5551000")
    offered = [c.id for c in emu.app.channels.values() if c.offered]
    client.accept_call(f"call:{offered[0]}")
    client.reject_call(f"call:{offered[1]}")
    emu.app.drop_streams()
    stream = client.provider.event_stream()
    wait_for(lambda: stream.connections == 2 and stream.connected)  # reconcile: GET /channels


def test_every_request_is_a_spec_operation_and_every_reply_fits_its_model(spec):
    with ari() as emu:
        everything(emu)
        requests = list(emu.server.requests)
        replies = list(emu.app.replies)
        frames = [frame for _, frame in emu.app.sent]
    kit = load(SPECS)  # the conformance kit's generic checker, then this folder's stricter one
    for request in requests:
        op, problems = request_problems(kit, request.method, request.path,
                                        list(request.query_list), request.headers, request.body,
                                        "/ari")
        assert op is not None and not problems, problems
    for request, status, body in replies:
        op, _ = request_problems(kit, request.method, request.path, [], {}, b"", "/ari")
        assert not reply_problems(kit, op, status, "application/json", body)
    used = set()
    for request in requests:
        used.add(spec.check_request(request.method, request.path, request.query_list,
                                    request.body))
    assert used >= {"originateWithId", "get", "list", "hangup", "hold", "unhold", "mute",
                    "unmute", "continueInDialplan", "redirect", "answer", "playWithId",
                    "startMoh", "stopMoh", "snoopChannelWithId", "create", "createWithId",
                    "addChannel", "dial", "destroy"}
    for request, status, body in replies:
        spec.check_reply(request.method, request.path, status, body)
    kinds = set()
    for frame in frames:
        spec.check_event(frame)
        kinds.add(frame["type"])
    assert kinds >= {"StasisStart", "StasisEnd", "ChannelStateChange", "ChannelDestroyed",
                     "ChannelDtmfReceived", "PlaybackStarted", "PlaybackFinished",
                     "ChannelHold", "ChannelUnhold"}


def test_the_event_websocket_is_the_spec_operation(spec):
    with ari() as emu:
        url = emu.client.provider._events_url()
    path, _, query = url.partition("://")[2].partition("/")[2].partition("?")
    pairs = [tuple(p.split("=", 1)) for p in query.split("&")]
    assert spec.check_request("GET", "/" + path, pairs) == "eventWebsocket"
    assert "api_key" not in query


def test_the_checker_catches_what_it_should(spec):
    """The checker itself: each kind of mistake is refused."""
    bad = [
        ("POST", "/ari/channels/x", [("extension", "1")]),                # endpoint missing
        ("DELETE", "/ari/channels/x", [("reason", "went_away")]),          # not allowed
        ("POST", "/ari/channels/x/mute", [("direction", "sideways")]),     # not allowed
        ("POST", "/ari/channels/x/hold", [("extra", "1")]),                # undocumented
        ("PATCH", "/ari/channels/x", []),                                   # no such operation
        ("POST", "/ari/channels/x/play/y", [("media", "a"), ("lang", "en"), ("lang", "fr")]),
    ]
    for method, path, query in bad:
        with pytest.raises(AssertionError):
            spec.check_request(method, path, query)
    channel = json.loads(json.dumps({"id": "1", "name": "PJSIP/1-1", "state": "Up"}))
    with pytest.raises(AssertionError, match="required"):
        spec.check_model("Channel", channel)
    with pytest.raises(AssertionError, match="not in"):
        spec.check_event({"type": "PlaybackFinished", "application": "a",
                          "timestamp": "2026-01-01T00:00:00.000+0000",
                          "playback": {"id": "p", "media_uri": "sound:x", "target_uri": "c",
                                       "state": "finished"}})

"""The Telnyx provider over real HTTP against its emulator; every request, reply and webhook of
each test is validated against spec3.json when the test ends (conftest.check_world)."""

from __future__ import annotations

import pytest
from telephony_telnyx.translate import decode_state, follow_up_command_id

from telephony_core.errors import ConfigurationError, PayloadError, ProviderError

DIAL = {"caller": "tel:+41000", "callee": "tel:+41001", "caller_id": "+15550100"}


def test_dial_rings_the_caller_then_another_process_connects_the_callee(world, telnyx_spec):
    ref = world.client.dial(**DIAL, reference="order-7", idempotency_key="order-7-call")
    first = world.sent("/v2/calls")
    assert len(first) == 1 and first[0]["to"] == "+41000" and first[0]["from"] == "+15550100"
    assert first[0]["command_id"] == "order-7-call"
    assert telnyx_spec.check_request("POST", "/v2/calls", first[0]) == "DialCall"
    assert ref.call_id == world.app.legs[ref.call_id].call_control_id  # as it is, no call:
    world.pbx.answer("tel:+41000")

    other = world.connect()  # the webhook reaches another process, with its own client
    events = world.deliver(other)
    assert [e.kind for e in events] == ["call.ringing", "call.answered", "call.ringing"]
    assert all(e.call_id == ref.call_id for e in events)
    assert all(e.reference == "order-7" for e in events)
    assert events[1].at is not None and events[1].at.tzinfo is not None
    bridge = world.sent("/v2/calls")[1]
    assert bridge["to"] == "+41001" and bridge["link_to"] == ref.call_id
    assert bridge["bridge_on_answer"] is True and bridge["bridge_intent"] is True
    assert bridge["command_id"] == follow_up_command_id(ref.call_id, "bridge")
    assert decode_state(bridge["client_state"])["root"] == ref.call_id
    parties = [leg["party"] for leg in world.pbx.snapshot()["calls"][0]["legs"]]
    assert parties == ["tel:+41000", "tel:+41001"]

    world.pbx.answer("tel:+41001")
    assert world.pbx.snapshot()["calls"][0]["state"] == "talking"
    assert [c.call_id for c in world.client.list_calls()] == [ref.call_id]


def test_the_same_webhook_in_two_processes_bridges_once(world):
    world.client.dial(**DIAL)
    world.pbx.answer("tel:+41000")
    answered = [w for w in world.app.webhooks if b'"call.answered"' in w[0]]
    for client in (world.connect(), world.connect()):
        client.handle_event(*answered[0])
    bridges = world.sent("/v2/calls")[1:]
    assert len(bridges) == 2 and bridges[0]["command_id"] == bridges[1]["command_id"]
    legs = world.pbx.snapshot()["calls"][0]["legs"]
    assert [leg["party"] for leg in legs] == ["tel:+41000", "tel:+41001"]  # rung once


def test_an_unanswered_callee_ends_the_caller_leg(world):
    ref = world.client.dial(**DIAL)
    world.pbx.answer("tel:+41000")
    world.deliver()
    start = len(world.app.webhooks)
    world.pbx.clock.advance(31)  # the callee rings out
    events = world.deliver(start=start)
    assert "call.hangup" in [e.kind for e in events]
    hangup = world.sent(f"/v2/calls/{ref.call_id}/actions/hangup")
    assert hangup == [{"command_id": follow_up_command_id(ref.call_id, "hangup")}] or \
        world.pbx.snapshot()["calls"] == []


@pytest.mark.parametrize(("prompt", "field"), [("https://example.com/hello.wav", "audio_url"),
                                                 ("hello111", "media_name")])
def test_play_prompt_is_one_dial_that_plays_on_answer(world, prompt, field):
    ref = world.client.play_prompt("tel:+41000", [prompt], caller_id="+15550100",
                                   idempotency_key="remind-1")
    body = world.sent("/v2/calls")[0]
    assert body[field] == prompt and body["command_id"] == "remind-1"
    world.pbx.answer("tel:+41000")
    world.pbx.clock.advance(6)
    events = world.deliver()
    finished = [e for e in events if e.kind == "prompt.finished"]
    assert finished and finished[0].call_id == ref.call_id
    assert "call.hangup" in [e.kind for e in events]


def test_transfer_hangup_and_monitor_carry_the_operation_key(world):
    ref = world.client.play_prompt("tel:+41000", ["hello111"], caller_id="+15550100")
    world.pbx.answer("tel:+41000")
    ccid = ref.call_id
    world.client.monitor("sip:1005@sip.telnyx.com", f"call:{ref.call_id}", "whisper",
                         idempotency_key="m-1")
    supervise = world.sent("/v2/calls")[-1]
    assert supervise["supervise_call_control_id"] == ccid
    assert supervise["supervisor_role"] == "whisper" and supervise["command_id"] == "m-1"
    roles = [leg["role"] for leg in world.pbx.snapshot()["calls"][0]["legs"]]
    assert "monitor-whisper" in roles
    world.client.transfer(f"call:{ref.call_id}", "tel:+41002", idempotency_key="t-1")
    assert world.sent(f"/v2/calls/{ccid}/actions/transfer") == [
        {"to": "+41002", "command_id": "t-1"}]
    world.client.hangup(f"call:{ref.call_id}", idempotency_key="h-1")
    assert world.sent(f"/v2/calls/{ccid}/actions/hangup") == [{"command_id": "h-1"}]
    assert world.pbx.snapshot()["calls"] == []


def test_send_sms_and_its_sender(world):
    receipt = world.client.send_sms("tel:+41000", "hello", sender="+15550100")
    assert receipt.status == "queued" and receipt.message_id
    assert world.sent("/v2/messages") == [{"to": "+41000", "text": "hello", "from": "+15550100"}]
    assert world.pbx.snapshot()["sms"][0]["text"] == "hello"


def test_missing_sender_and_caller_id_are_refused_before_traffic(world_with):
    with world_with(caller_id=None) as w:
        with pytest.raises(PayloadError, match="sender"):
            w.client.send_sms("tel:+41000", "hello")
        with pytest.raises(ConfigurationError, match="caller_id"):
            w.client.monitor("sip:1005@sip.telnyx.com", "call:v3:abc", "listen")
        assert w.server.requests == []


@pytest.mark.parametrize("payload", [
    {"caller": "tel:41000", "callee": "tel:+41001", "caller_id": "+15550100"},  # not E.164
    {"caller": "ext:1000", "callee": "tel:+41001", "caller_id": "+15550100"},
    {"caller": "tel:+41000", "callee": "tel:+41001"},                             # no from
])
def test_bad_dial_payloads_never_reach_the_wire(world, payload):
    with pytest.raises(PayloadError):
        world.client.invoke("dial", payload)
    assert world.server.requests == []


def test_telnyx_errors_are_typed_with_the_vendor_code(world):
    with pytest.raises(ProviderError) as caught:
        world.client.hangup("call:v3:no-such-leg")
    assert caught.value.category == "not_found" and caught.value.vendor_code == "90015"
    ref = world.client.dial(**DIAL)
    world.client.hangup(f"call:{ref.call_id}")
    with pytest.raises(ProviderError) as ended:
        world.client.transfer(f"call:{ref.call_id}", "tel:+41002")
    assert ended.value.vendor_code == "90018" and ended.value.code == "call_not_found"


def test_several_prompts_play_one_after_another_then_the_call_ends(world):
    ref = world.client.play_prompt("tel:+41000", ["hello111", "https://example.com/b.wav"],
                                   caller_id="+15550100")
    dial = world.sent("/v2/calls")[0]
    assert "audio_url" not in dial and "media_name" not in dial  # played by follow-up steps
    world.pbx.answer("tel:+41000")
    other = world.connect()
    world.deliver(other)
    ccid = ref.call_id
    playback = f"/v2/calls/{ccid}/actions/playback_start"
    assert [b.get("media_name") or b.get("audio_url") for b in world.sent(playback)] == \
        ["hello111"]
    start = len(world.app.webhooks)
    world.pbx.clock.advance(5)
    world.deliver(other, start)
    assert [b.get("media_name") or b.get("audio_url") for b in world.sent(playback)] == \
        ["hello111", "https://example.com/b.wav"]
    start = len(world.app.webhooks)
    world.pbx.clock.advance(5)
    events = world.deliver(other, start)
    assert [e.kind for e in events][-1] == "call.hangup"
    assert world.sent(f"/v2/calls/{ccid}/actions/hangup")
    assert world.pbx.snapshot()["calls"] == []


@pytest.mark.parametrize(("key", "transferred"), [("2", True), (None, False)])
def test_a_menu_key_transfers_the_call_and_no_key_ends_it(world, key, transferred):
    ref = world.client.play_prompt("tel:+41000", ["hello111"], caller_id="+15550100",
                                   menu={"2": "tel:+41002", "#": "sip:1001@sip.telnyx.com"})
    world.pbx.answer("tel:+41000")
    world.deliver()
    ccid = ref.call_id
    [gather] = world.sent(f"/v2/calls/{ccid}/actions/gather_using_audio")
    assert gather["valid_digits"] == "#2" and gather["maximum_digits"] == 1
    start = len(world.app.webhooks)
    if key:
        world.pbx.press("tel:+41000", key)
    else:
        world.pbx.clock.advance(16)
    events = world.deliver(start=start)
    if transferred:
        assert world.sent(f"/v2/calls/{ccid}/actions/transfer")[0]["to"] == "+41002"
        assert [leg["party"] for leg in world.pbx.snapshot()["calls"][0]["legs"]] == \
            ["tel:+41000", "tel:+41002"]
    else:
        assert world.sent(f"/v2/calls/{ccid}/actions/hangup")
        assert world.pbx.snapshot()["calls"] == []
    assert any(e.data.get("event_type") == "call.gather.ended" for e in events)


def test_a_webhook_endpoint_with_its_own_client_continues_the_dial_over_http(world_with):
    """The whole loop over real HTTP: the emulator POSTs signed webhooks to an application
    endpoint (another thread, its own client), whose handle_event rings the callee."""
    import threading
    import time

    from telephony_core import connect
    from telephony_core.emulation import EmulatorApp, EmulatorServer, route

    class Endpoint(EmulatorApp):
        def __init__(self):
            super().__init__()
            self.client = None
            self.events: list = []
            self.failures: list = []
            self.done = threading.Event()

        @route("POST", "/telnyx/webhooks")
        def hook(self, request):
            try:
                self.events += self.client.handle_event(request.get_data(),
                                                        dict(request.headers))
            except Exception as exc:  # the test reports it below
                self.failures.append(exc)
            return {"ok": True}

    endpoint = Endpoint()
    with EmulatorServer(endpoint) as hooks, world_with(
            emulator_options={"webhook_url": hooks.url + "/telnyx/webhooks"}) as w:
        endpoint.client = connect(w.app.connect_url(w.server.url))
        try:
            ref = w.client.dial(**DIAL)
            w.pbx.answer("tel:+41000")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(
                    w.pbx.snapshot()["calls"][0]["legs"]) < 2:
                time.sleep(0.02)
            assert [leg["party"] for leg in w.pbx.snapshot()["calls"][0]["legs"]] == \
                ["tel:+41000", "tel:+41001"]
            w.pbx.answer("tel:+41001")
            w.app.sender.wait(5)
        finally:
            endpoint.client.close()
        assert not endpoint.failures, endpoint.failures
        kinds = [e.kind for e in endpoint.events]
        assert kinds.count("call.answered") == 2 and all(
            e.call_id == ref.call_id for e in endpoint.events)
        assert w.pbx.snapshot()["calls"][0]["state"] == "talking"


def test_a_flow_step_for_a_leg_that_has_ended_is_done_not_an_error(world):
    """The caller hung up before the webhook was handled: the next prompt meets 90018 ("call
    has already ended"); handle_event returns, so the endpoint answers 200 and Telnyx does not
    deliver the webhook again. A command of the application still raises 90018."""
    ref = world.client.play_prompt("tel:+41000", ["hello111", "https://example.com/b.wav"],
                                   caller_id="+15550100")
    world.pbx.answer("tel:+41000")
    world.client.hangup(f"call:{ref.call_id}")
    events = world.deliver(world.connect())
    assert "call.answered" in [e.kind for e in events]
    ccid = ref.call_id
    assert len(world.sent(f"/v2/calls/{ccid}/actions/playback_start")) == 1  # sent, refused
    assert any(status == 422 and body["errors"][0]["code"] == "90018"
               for method, path, status, body in world.app.replies
               if path.endswith("/actions/playback_start"))
    with pytest.raises(ProviderError) as caught:
        world.client.transfer(f"call:{ref.call_id}", "tel:+41002")
    assert caught.value.vendor_code == "90018"

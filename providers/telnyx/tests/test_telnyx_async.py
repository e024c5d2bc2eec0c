"""The same provider through the async client (``telephony_core.connect_async``, httpx), over
real HTTP against the emulator: plugin API 2 means one provider serves both clients. Every
request, reply and webhook is still checked against spec3.json when the test ends."""

from __future__ import annotations

import asyncio

import pytest
from telephony_telnyx.translate import follow_up_command_id

import telephony_core
from telephony_core.emulation import Fault
from telephony_core.errors import OutcomeUnknown
from telephony_core.results import CallRef, SmsReceipt

DIAL = {"caller": "tel:+41000", "callee": "tel:+41001", "caller_id": "+15550100"}


def _client(world, **options):
    options = {"timeout": 0.5, "connect_timeout": 0.5, "deadline": 5, "retries": 2,
               "caller_id": "+15550100", **options}
    return telephony_core.connect_async(world.app.connect_url(world.server.url), **options)


async def _deliver(client, world, start=0):
    """The webhooks rendered since ``start``, handed to ``await client.handle_event`` in order
    (a follow-up step may cause more webhooks)."""
    events, done = [], start
    while done < len(world.app.webhooks):
        body, headers = world.app.webhooks[done]
        done += 1
        events += await client.handle_event(body, headers)
    return events


def test_dial_then_a_second_async_client_continues_the_flow(world):
    async def scenario():
        async with _client(world) as placing:
            ref = await placing.dial(**DIAL, reference="order-8", idempotency_key="order-8")
        world.pbx.answer("tel:+41000")
        async with _client(world) as webhooks:  # another process's client
            events = await _deliver(webhooks, world)
            return ref, events

    ref, events = asyncio.run(scenario())
    assert isinstance(ref, CallRef)
    assert [e.kind for e in events] == ["call.ringing", "call.answered", "call.ringing"]
    assert all(e.call_id == ref.call_id and e.reference == "order-8" for e in events)
    first, bridge = world.sent("/v2/calls")
    assert first["command_id"] == "order-8" and first["to"] == "+41000"
    assert bridge["to"] == "+41001" and bridge["link_to"] == ref.call_id
    assert bridge["command_id"] == follow_up_command_id(ref.call_id, "bridge")
    world.pbx.answer("tel:+41001")
    call = world.pbx.snapshot()["calls"][0]
    assert [leg["party"] for leg in call["legs"]] == ["tel:+41000", "tel:+41001"]
    assert call["state"] == "talking"


def test_play_prompt_plays_each_prompt_then_hangs_up(world):
    async def scenario():
        async with _client(world) as client:
            ref = await client.play_prompt("tel:+41000", ["hello111", "https://example.com/b.wav"],
                                           caller_id="+15550100")
            world.pbx.answer("tel:+41000")
            await _deliver(client, world)
            start = len(world.app.webhooks)
            world.pbx.clock.advance(5)
            await _deliver(client, world, start)
            start = len(world.app.webhooks)
            world.pbx.clock.advance(5)
            events = await _deliver(client, world, start)
            return ref, events

    ref, events = asyncio.run(scenario())
    ccid = ref.call_id
    played = world.sent(f"/v2/calls/{ccid}/actions/playback_start")
    assert [b.get("media_name") or b.get("audio_url") for b in played] == \
        ["hello111", "https://example.com/b.wav"]
    assert events[-1].kind == "call.hangup"
    assert world.sent(f"/v2/calls/{ccid}/actions/hangup")
    assert world.pbx.snapshot()["calls"] == []


def test_send_sms(world):
    async def scenario():
        async with _client(world) as client:
            return await client.send_sms("tel:+41000", "hello", sender="+15550100")

    receipt = asyncio.run(scenario())
    assert isinstance(receipt, SmsReceipt) and receipt.status == "queued" and receipt.message_id
    assert world.sent("/v2/messages") == [{"to": "+41000", "text": "hello", "from": "+15550100"}]
    assert [m["text"] for m in world.pbx.snapshot()["sms"]] == ["hello"]


def test_send_sms_under_a_lost_reply_is_sent_once_and_said(world):
    world.server.inject(Fault.reset_after_read(), path="/v2/messages", times=1)

    async def scenario():
        async with _client(world) as client:
            await client.send_sms("tel:+41000", "hello", sender="+15550100")

    with pytest.raises(OutcomeUnknown):
        asyncio.run(scenario())
    assert len(world.sent("/v2/messages")) == 1
    assert len(world.pbx.snapshot()["sms"]) == 1


@pytest.mark.parametrize("fault", ["reset_after_read", "http_503"])
def test_a_command_under_a_fault_is_retried_with_the_same_command_id(world, fault):
    make = {"reset_after_read": Fault.reset_after_read,
            "http_503": lambda: Fault.http_error(503, b'{"errors": [{"code": "10007", '
                                                      b'"title": "Service unavailable"}]}')}
    world.server.inject(make[fault](), path="/v2/calls", times=1)

    async def scenario():
        async with _client(world) as client:
            dialled = await client.dial(**DIAL, idempotency_key="async-42")
            world.pbx.answer("tel:+41000")
            path = f"/v2/calls/{dialled.call_id}/actions/hangup"
            world.server.inject(make[fault](), path=path, times=1)
            await client.hangup(f"call:{dialled.call_id}", idempotency_key="async-43")
            return dialled, path

    ref, path = asyncio.run(scenario())
    assert isinstance(ref, CallRef)
    dials = world.sent("/v2/calls")
    assert [b["command_id"] for b in dials] == ["async-42", "async-42"]
    assert len(world.app.legs) == 1  # placed once: the repeat was ignored or never arrived
    assert [b["command_id"] for b in world.sent(path)] == ["async-43", "async-43"]
    assert world.pbx.snapshot()["calls"] == []

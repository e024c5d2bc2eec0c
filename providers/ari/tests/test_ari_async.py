"""The async client with ARI over real HTTP and a real WebSocket (the emulator): the stream is
read by an asyncio task, flows continue on its events through the async driver, and
``async for event in client.events()`` sees a reconnect as one gap event with no frame lost or
repeated."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ari_helpers import FAST, ari

from telephony_core import connect_async

READ = {"StasisStart", "StasisEnd", "ChannelStateChange", "ChannelDestroyed",
        "ChannelDtmfReceived", "PlaybackFinished", "ChannelHold", "ChannelUnhold"}


async def until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


def collect(client: Any) -> tuple[list, asyncio.Task]:
    got: list = []

    async def run() -> None:
        async for event in client.events(timeout=10):
            got.append(event)

    return got, asyncio.get_running_loop().create_task(run())


# The emulator's PBX actions push frames to the WebSocket and wait for them to be sent: they run
# in a thread, as another process would, so the event loop keeps reading the stream.


def test_async_play_prompt_flow_continues_on_stream_events():
    with ari() as emu:
        async def main() -> None:
            async with connect_async(emu.app.connect_url(emu.server.url), **FAST) as client:
                ref = await client.play_prompt(to="ext:1002", prompts=["hello111"])
                channel = ref.call_id
                assert client.provider.async_event_stream().connected
                await asyncio.to_thread(emu.app.pbx.answer, "ext:1002")
                # StasisStart -> answer, play: the stream task sends them
                play = await until(lambda: emu.server.requests_to(
                    f"/ari/channels/{channel}/play/{channel}-play", "POST"))
                assert [v for k, v in play[0].query_list if k == "media"] == ["sound:hello111"]
                assert emu.server.requests_to(f"/ari/channels/{channel}/answer", "POST")
                await until(lambda: f"{channel}-play" in emu.app.playbacks)
                await asyncio.to_thread(emu.app.pbx.clock.advance, 10)  # PlaybackFinished: hang up
                await until(lambda: emu.server.requests_to(f"/ari/channels/{channel}",
                                                           "DELETE"))
                await until(lambda: not emu.app.pbx.calls)

        asyncio.run(main())


def test_async_events_reconnect_with_a_gap_and_nothing_lost_or_repeated():
    with ari() as emu:
        async def main() -> None:
            async with connect_async(emu.app.connect_url(emu.server.url), **FAST) as client:
                got, task = collect(client)
                ref = await client.dial(caller="ext:1000", callee="ext:1001")
                await until(lambda: any(e.kind == "call.ringing" for e in got))
                stream = client.provider.async_event_stream()
                assert await asyncio.to_thread(emu.app.drop_streams) == 1
                await asyncio.to_thread(emu.app.pbx.answer, "ext:1000")
                # (while nobody listens: not replayed)
                await until(lambda: stream.connections == 2 and stream.connected)
                await asyncio.to_thread(emu.app.pbx.answer, "ext:1001")
                await client.hold(f"call:{ref.call_id}")
                await client.hangup(f"call:{ref.call_id}")
                await until(lambda: any(e.kind == "call.hangup" for e in got))
                gaps = [i for i, e in enumerate(got) if e.kind == "system" and e.data.get("gap")]
                assert len(gaps) == 1
                gap = got[gaps[0]]
                assert gap.data["reconciled"] is True and ref.call_id in gap.data["live_calls"]
                sent_after = [f for n, f in emu.app.sent if n == 2 and f["type"] in READ]

                def received_after() -> list:
                    frames: list = []
                    for event in list(got)[gaps[0] + 1:]:
                        if not frames or event.raw is not frames[-1]:
                            frames.append(event.raw)
                    return frames

                await until(lambda: len(received_after()) >= len(sent_after))
                assert received_after() == sent_after  # each frame once, in order
                before = {id(e.raw) for e in got[:gaps[0]]}
                assert not before & {id(f) for f in received_after()}
            await asyncio.wait_for(task, 5)  # closing the client ends the iteration

        asyncio.run(main())

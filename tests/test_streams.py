"""The event-stream reader: frames to events, malformed frames skipped, reconnect with a gap
event, giving up with a typed error, secrets kept out of logs. Real WebSockets on loopback."""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest
from websockets.sync.server import serve

from telephony_core.errors import EventError
from telephony_core.redaction import SECRETS
from telephony_core.results import Event
from telephony_core.streams import EventStream, StreamError, StreamSource

SECRET = "s3cret-stream-pw"
QUIET = logging.getLogger("tests.stream_server")  # the test server's own logs are not ours
QUIET.setLevel(logging.WARNING)


def parse(text: str) -> list[Event]:
    body = json.loads(text)
    if not isinstance(body, dict) or "n" not in body:
        raise EventError("the frame has no n")
    return [Event("system", "test", data={"n": body["n"]})]


class Script:
    """A WebSocket server whose k-th connection sends the k-th list of frames, then closes
    (or, for the last list, stays open until stopped)."""

    def __init__(self, *connections: list[str]):
        self.connections = list(connections)
        self.seen_headers: list[dict[str, str]] = []  # lower-case names
        self.count = 0
        self.release = threading.Event()
        self.server = serve(self.handler, "127.0.0.1", 0, logger=QUIET)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/events?api_key={SECRET}"

    def handler(self, conn) -> None:
        index = self.count
        self.count += 1
        self.seen_headers.append({k.lower(): v for k, v in conn.request.headers.raw_items()})
        frames = self.connections[min(index, len(self.connections) - 1)]
        for frame in frames:
            conn.send(frame)
        if index < len(self.connections) - 1:
            conn.close()
            return
        self.release.wait(10)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()


def stream_for(url: str, **options) -> EventStream:
    SECRETS.add(SECRET)
    source = StreamSource(url, parse, "test", headers={"Authorization": f"Basic {SECRET}"},
                          reconcile=lambda: {"live_calls": ["call:1"]})
    return EventStream(source, backoff=0.01, backoff_cap=0.05, **options)


def frames(*numbers: int) -> list[str]:
    return [json.dumps({"n": n}) for n in numbers]


def test_reconnect_emits_a_gap_and_loses_or_repeats_nothing_after_it(caplog):
    caplog.set_level(logging.DEBUG)
    server = Script(frames(1, 2), frames(3, 4))
    stream = stream_for(server.url)
    try:
        got = []
        for event in stream.events(timeout=3):
            got.append(event)
            if event.data.get("n") == 4:
                break
    finally:
        stream.close()
        server.stop()
    assert [e.data.get("n", "gap") for e in got] == [1, 2, "gap", 3, 4]
    gap = got[2]
    assert gap.kind == "system" and gap.data["gap"] == "reconnected"
    assert gap.data["reconciled"] is True and gap.data["live_calls"] == ["call:1"]
    assert gap.data["missed_from"] <= gap.data["missed_until"]
    assert stream.connections == 2
    assert server.seen_headers[0]["authorization"] == f"Basic {SECRET}"
    assert SECRET not in caplog.text


def test_malformed_and_unknown_frames_are_skipped_not_fatal(caplog):
    caplog.set_level(logging.DEBUG, logger="telephony_core.streams")
    server = Script(["not json", json.dumps([1]), json.dumps({"x": 1}), *frames(7)])
    stream = stream_for(server.url)
    try:
        first = next(stream.events(timeout=3))
    finally:
        stream.close()
        server.stop()
    assert first.data["n"] == 7
    assert stream.skipped == 3
    assert "skipped an event frame" in caplog.text


def test_gives_up_with_a_typed_error_after_max_failures(caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    stream = stream_for(f"ws://127.0.0.1:{port}/events?api_key={SECRET}", max_failures=3)
    with pytest.raises(StreamError) as info:
        list(stream.events(timeout=5))
    stream.close()
    assert info.value.failures == 3
    assert "after 3 attempt(s)" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in caplog.text
    assert SECRET not in repr(stream.source)


def test_refused_credentials_stop_at_once():
    def refuse(conn, request):
        return conn.respond(401, "no\n")

    server = serve(lambda conn: None, "127.0.0.1", 0, process_request=refuse,
                   logger=QUIET)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    stream = stream_for(f"ws://127.0.0.1:{port}/events", max_failures=50)
    try:
        with pytest.raises(StreamError, match="HTTP 401") as info:
            list(stream.events(timeout=5))
    finally:
        stream.close()
        server.shutdown()
    assert info.value.failures == 1


def test_backoff_is_capped_and_jittered():
    stream = EventStream(StreamSource("ws://x", parse, "t"), backoff=1, backoff_cap=4)
    delays = [stream._delay(n) for n in range(1, 10) for _ in range(20)]
    assert max(delays) <= 4 and min(delays) >= 0.5
    assert len({round(d, 6) for d in delays}) > 20  # jittered, not a fixed ladder


def test_the_async_reader_gives_up_with_the_same_typed_error(caplog):
    import asyncio

    from telephony_core.streams import AsyncEventStream

    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    source = stream_for(f"ws://127.0.0.1:{port}/events?api_key={SECRET}").source

    async def main() -> StreamError:
        stream = AsyncEventStream(source, backoff=0.01, backoff_cap=0.05, max_failures=3)
        with pytest.raises(StreamError) as info:
            async for _ in stream.events(timeout=5):
                pass
        await stream.aclose()
        return info.value

    error = asyncio.run(main())
    assert error.failures == 3 and "after 3 attempt(s)" in str(error)
    assert SECRET not in str(error) and SECRET not in caplog.text


def test_a_provider_without_a_stream_refuses_events_on_both_clients():
    """Webhook-only providers have no ``events()``: a typed refusal that says where events
    arrive instead, not an AttributeError, through the sync and the async client."""
    import asyncio

    from telephony_core import UnsupportedOperation, connect_async
    from telephony_core.emulation import emulated

    with emulated("yeastar") as emu:
        with pytest.raises(UnsupportedOperation) as info:
            emu.client.events(timeout=0.1)
        assert "arrive as webhooks" in str(info.value)

        async def read() -> None:
            async with connect_async(emu.url) as client:
                with pytest.raises(UnsupportedOperation) as info:
                    client.events(timeout=0.1)
                assert "parse_event" in str(info.value)

        asyncio.run(read())

"""The simulator's event stream: what ``client.events()`` yields on ``sim://``.

Providers with a WebSocket (ARI) give ``Client.events()`` an
:class:`~telephony_core.streams.EventStream`; the simulator has no socket, its events are the
PBX model's own (:meth:`Pbx.subscribe`). This buffer receives them from the moment the provider
is created, so an application that dials and then iterates ``client.events(timeout=...)`` sees
the dial's events. The same buffer serves the sync client (:meth:`SimEventStream.events`) and
the async client (:meth:`SimEventStream.async_view`). Events are consumed once, in order; when
nobody reads, the oldest beyond ``buffer`` are dropped (the model never blocks).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ..results import Event

__all__ = ["AsyncSimEvents", "SimEventStream"]

_END = object()


class SimEventStream:
    """A thread-safe queue of the model's events with the stream interface of
    :mod:`telephony_core.streams` (``events(timeout)``); :meth:`close` ends every reader.

    :meth:`put` runs inside every model operation, so it is kept cheap (a C queue, no lock
    taken): it costs about 0.2 microseconds per event whether or not anyone reads."""

    def __init__(self, buffer: int = 10_000) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._buffer = max(1, int(buffer))
        self._closed = False
        self._lock = threading.Lock()
        self._wakers: set[tuple[Any, Any]] = set()  # (event loop, asyncio.Event) of readers

    def put(self, event: Event) -> None:
        """Queue ``event`` (a :meth:`Pbx.subscribe` callback: returns at once). Beyond
        ``buffer`` unread events the oldest is dropped: the model never blocks."""
        if self._closed:
            return
        self._queue.put(event)
        if self._queue.qsize() > self._buffer:
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
        if self._wakers:  # an async reader registers before it looks: no wake-up is lost
            self._wake()

    def close(self) -> None:
        """End every reader (after the events already queued). Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._queue.put(_END)
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            wakers = list(self._wakers)
        for loop, ready in wakers:
            with contextlib.suppress(RuntimeError):  # that loop is closed: its reader is gone
                loop.call_soon_threadsafe(ready.set)

    @property
    def closed(self) -> bool:
        return self._closed

    def _take(self, timeout: float | None = 0) -> Any:
        """The next event, _END when closed, None when there is none (within ``timeout``)."""
        try:
            item = (self._queue.get_nowait() if timeout == 0 else
                    self._queue.get(timeout=timeout))
        except queue.Empty:
            return None
        if item is _END:
            self._queue.put(_END)  # let other readers end too
        return item

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """The model's events in order; ends ``timeout`` seconds after the last one (never,
        with None) or when the client is closed."""
        while (item := self._take(timeout)) is not None and item is not _END:
            yield item

    async def aevents(self, timeout: float | None = None) -> AsyncIterator[Event]:
        """:meth:`events` for asyncio: waits without blocking the event loop."""
        import asyncio  # only async users pay for it (a sim call imports no asyncio)

        ready = asyncio.Event()
        waker = (asyncio.get_running_loop(), ready)
        with self._lock:
            self._wakers.add(waker)
        try:
            while True:
                ready.clear()
                item = self._take()
                if item is None:
                    try:
                        await asyncio.wait_for(ready.wait(), timeout)
                        continue
                    except TimeoutError:
                        item = self._take()
                if item is None or item is _END:
                    return
                yield item
        finally:
            with self._lock:
                self._wakers.discard(waker)

    def async_view(self) -> AsyncSimEvents:
        """The object ``AsyncClient.events()`` reads (its ``events`` is an async iterator)."""
        return AsyncSimEvents(self)


class AsyncSimEvents:
    """What ``AsyncClient.events()`` reads on ``sim://``: the same buffer, awaited."""

    def __init__(self, stream: SimEventStream) -> None:
        self._stream = stream

    def events(self, timeout: float | None = None) -> AsyncIterator[Event]:
        """``async for event in ...``: see :meth:`SimEventStream.aevents`."""
        return self._stream.aevents(timeout)

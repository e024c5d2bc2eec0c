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

import collections
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ..results import Event

__all__ = ["AsyncSimEvents", "SimEventStream"]


class SimEventStream:
    """A thread-safe queue of the model's events with the stream interface of
    :mod:`telephony_core.streams` (``events(timeout)``); :meth:`close` ends every reader."""

    def __init__(self, buffer: int = 10_000) -> None:
        self._queue: collections.deque[Event] = collections.deque(maxlen=max(1, int(buffer)))
        self._cond = threading.Condition()
        self._closed = False
        self._wakers: set[tuple[Any, Any]] = set()  # (event loop, asyncio.Event) of readers

    def put(self, event: Event) -> None:
        """Queue ``event`` (a :meth:`Pbx.subscribe` callback: returns at once)."""
        with self._cond:
            if self._closed:
                return
            self._queue.append(event)
            self._cond.notify_all()
            wakers = list(self._wakers)
        self._wake(wakers)

    def close(self) -> None:
        """End every reader (after the events already queued). Safe to call twice."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            wakers = list(self._wakers)
        self._wake(wakers)

    @staticmethod
    def _wake(wakers: list[tuple[Any, Any]]) -> None:
        for loop, ready in wakers:
            with contextlib.suppress(RuntimeError):  # that loop is closed: its reader is gone
                loop.call_soon_threadsafe(ready.set)

    @property
    def closed(self) -> bool:
        return self._closed

    def _take(self) -> Event | None:
        with self._cond:
            return self._queue.popleft() if self._queue else None

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """The model's events in order; ends ``timeout`` seconds after the last one (never,
        with None) or when the client is closed."""
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._queue or self._closed, timeout):
                    return
                if not self._queue:
                    return
                event = self._queue.popleft()
            yield event

    async def aevents(self, timeout: float | None = None) -> AsyncIterator[Event]:
        """:meth:`events` for asyncio: waits without blocking the event loop."""
        import asyncio  # only async users pay for it (a sim call imports no asyncio)

        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        waker = (loop, ready)
        with self._cond:
            self._wakers.add(waker)
        try:
            while True:
                ready.clear()
                event = self._take()
                if event is not None:
                    yield event
                    continue
                if self._closed:
                    return
                try:
                    await asyncio.wait_for(ready.wait(), timeout)
                except TimeoutError:
                    if (event := self._take()) is None:
                        return
                    yield event
        finally:
            with self._cond:
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

"""Event streams: providers whose events arrive over a WebSocket instead of as webhooks.

Some systems push events over a long-lived WebSocket (Asterisk ARI's ``/ari/events``). For ARI
the stream is more than a feed: a Stasis application exists only while its WebSocket is
connected, so calls originated into it fail while nobody listens. A provider that needs a
stream declares one (:class:`StreamSource`: where to connect, how to read a frame, how to
reconcile after a gap) and owns an :class:`EventStream`, started before its first operation.
The stream runs one background reader thread that

* connects (``websockets.sync.client``), reads frames, parses each into canonical events, sends
  the provider's follow-up steps for them (flows continue even if the application never reads
  events) and queues them for :meth:`EventStream.events` (what ``Client.events()`` yields);
* skips a malformed or unknown frame with a debug log line (it never ends the stream);
* on a dropped connection reconnects with capped, jittered exponential backoff; after a
  reconnect it asks the provider to reconcile (ARI cannot replay what it sent while nobody
  listened) and queues a ``system`` *gap* event whose data says what may have been missed;
* after ``max_failures`` connection attempts in a row fail, stops and raises
  :class:`StreamError` from ``events()``.

Secrets: the URL and headers are never logged or put in an error (they carry the Basic
credential or an ``api_key`` in the query); messages pass through ``redact``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import queue
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from .errors import EventError, TelephonyError, TransportError
from .redaction import get_logger, redact
from .results import Event

__all__ = ["GAP", "AsyncEventStream", "EventStream", "StreamError", "StreamSource", "gap_event"]

log: logging.Logger = get_logger("telephony_core.streams")

#: ``Event.data["gap"]`` of the system event queued after a reconnect
GAP = "reconnected"


class StreamError(TransportError):
    """The event stream could not be kept up: ``max_failures`` connection attempts in a row
    failed (or the server refused the credentials). Events sent meanwhile are lost; the
    application should reconcile (``list_calls``) before it trusts its view again."""

    def __init__(self, message: str, *, failures: int = 0, provider: str | None = None) -> None:
        super().__init__(message, request_sent=False, reason="other", provider=provider,
                         operation="events")
        self.failures = failures


@attrs.frozen
class StreamSource:
    """What a provider declares about its event stream.

    ``url`` (``ws://`` or ``wss://``) and ``headers`` may hold credentials: they are used to
    connect and never shown. ``parse(text)`` turns one frame into canonical events (raising
    :class:`EventError` for one it cannot read). ``reconcile()`` is called after a reconnect
    and returns what the provider can learn about the present (``{"live_calls": [...]}``),
    which goes into the gap event. ``follow(event)`` continues call flows on an event.
    """

    url: str = attrs.field(repr=False)
    parse: Callable[[str], Sequence[Event]]
    provider: str
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    reconcile: Callable[[], Mapping[str, Any]] | None = None
    follow: Callable[[Event], None] | None = None
    ssl: Any = None
    open_timeout: float = 5.0


def gap_event(provider: str, *, down_since: datetime, up_at: datetime,
              attempts: int, known: Mapping[str, Any] | None) -> Event:
    """The ``system`` event queued after a reconnect: events between ``down_since`` and
    ``up_at`` may have been missed and will not be replayed; ``known`` is what reconciling
    found (live calls now), or ``{"reconciled": False, ...}`` when that failed."""
    data: dict[str, Any] = {"gap": GAP, "missed_from": down_since.isoformat(),
                            "missed_until": up_at.isoformat(), "attempts": attempts,
                            "note": "events sent while the stream was down are not replayed; "
                                    "compare live_calls with your own state"}
    data.update(known or {})
    return Event("system", provider, at=up_at, data=data)


_END = object()


class _Reader:
    """What the thread and the asyncio task share: frame parsing, backoff, the give-up rule
    and the gap event. Written once; the two readers differ only in how they wait and send."""

    source: StreamSource
    max_failures: int
    backoff: float
    backoff_cap: float
    skipped: int

    def _delay(self, failures: int) -> float:
        ceiling = min(self.backoff_cap, self.backoff * 2 ** (failures - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _gives_up(self, failures: int, exc: BaseException) -> StreamError | None:
        """Log a failed connection; the StreamError to end with, or None to retry."""
        why = _why(exc)
        log.debug("%s: event stream connection failed (%d/%d): %s",
                  self.source.provider, failures, self.max_failures, why)
        if failures >= self.max_failures or _refused_credentials(exc):
            return StreamError(
                f"the event stream of {self.source.provider} could not be connected "
                f"after {failures} attempt(s): {why}", failures=failures,
                provider=self.source.provider)
        return None

    def _parse(self, frame: str | bytes) -> list[Event]:
        """One frame's canonical events; a frame that cannot be read is skipped (logged)."""
        text = frame.decode("utf-8", errors="replace") if isinstance(frame, bytes) else frame
        try:
            return list(self.source.parse(text))
        except EventError as exc:
            self.skipped += 1
            log.debug("%s: skipped an event frame: %s", self.source.provider, exc)
        except Exception as exc:  # a parser bug must not end the stream
            self.skipped += 1
            log.debug("%s: skipped an event frame the parser failed on (%s)",
                      self.source.provider, type(exc).__name__)
        return []

    def _follow_failed(self, event: Event, exc: Exception) -> None:
        if isinstance(exc, TelephonyError):
            log.warning("%s: a call-flow step after %s failed: %s", self.source.provider,
                        event.kind, exc)
        else:
            log.warning("%s: a call-flow step after %s failed (%s)", self.source.provider,
                        event.kind, type(exc).__name__)

    def _gap(self, down_since: datetime, attempts: int, known: Mapping[str, Any] | None,
             error: Exception | None = None) -> Event:
        if error is not None:
            known = {"reconciled": False, "error": _why(error)}
        elif known is not None:
            known = {"reconciled": True, **known}
        return gap_event(self.source.provider, down_since=down_since, up_at=datetime.now(UTC),
                         attempts=attempts + 1, known=known)


class EventStream(_Reader):
    """One background reader of a provider's event stream (see the module docstring).

    ``max_failures``: connection attempts in a row that may fail before the stream gives up;
    ``backoff`` and ``backoff_cap``: the first and the largest wait between attempts (each
    wait is drawn uniformly from half to all of ``min(cap, backoff * 2**n)``, so many clients
    do not reconnect in step). ``buffer``: events kept for ``events()``; when the application
    does not read them, the oldest are dropped (flows still run).
    """

    def __init__(self, source: StreamSource, *, max_failures: int = 5, backoff: float = 0.2,
                 backoff_cap: float = 10.0, buffer: int = 10_000) -> None:
        self.source = source
        self.max_failures: int = int(max_failures)
        self.backoff: float = float(backoff)
        self.backoff_cap: float = float(backoff_cap)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, int(buffer)))
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._socket: Any = None
        self.failure: StreamError | None = None
        #: how many times a connection was established (1 = never reconnected)
        self.connections: int = 0
        self.skipped = 0

    # -- lifetime ----------------------------------------------------------------------------

    def start(self, wait: float | None = None) -> EventStream:
        """Start the reader (once); with ``wait``, block until connected or ``wait`` seconds
        pass (a Stasis application must exist before a call is originated into it). A
        stream that gave up is not restarted: :attr:`failure` says why."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"telephony-stream-{self.source.provider}")
                self._thread.start()
        if wait:
            self._connected.wait(wait)
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def close(self) -> None:
        """Stop reading and close the socket. Safe to call twice."""
        self._stop.set()
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(Exception):  # closing a broken socket: nothing to do
                sock.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._put(_END)

    # -- reading -----------------------------------------------------------------------------

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Canonical events as they arrive (gap events included). Ends when the stream is
        closed, or after ``timeout`` seconds without an event; raises :class:`StreamError`
        when the stream gave up."""
        self.start()
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return
            if item is _END:
                self._put(_END)  # let other readers end too
                if self.failure is not None:
                    raise self.failure
                return
            yield item

    def _put(self, item: Any) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()  # drop the oldest: the reader must not block

    # -- the reader thread -------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        down_since: datetime | None = None
        while not self._stop.is_set():
            try:
                sock = self._connect()
            except Exception as exc:
                failures += 1
                self.failure = self._gives_up(failures, exc)
                if self.failure is not None:
                    break
                self._stop.wait(self._delay(failures))
                continue
            with sock:
                self.connections += 1
                self._socket = sock
                self._connected.set()
                if down_since is not None:
                    self._emit_gap(down_since, failures)
                failures = 0
                self._read(sock)
            self._connected.clear()
            self._socket = None
            down_since = datetime.now(UTC)
            if not self._stop.is_set():
                log.debug("%s: event stream dropped; reconnecting", self.source.provider)
        self._put(_END)

    def _connect(self) -> Any:
        from websockets.sync.client import connect

        source = self.source
        return connect(source.url, additional_headers=dict(source.headers), ssl=source.ssl,
                       open_timeout=source.open_timeout, close_timeout=1,
                       max_size=1024 * 1024, compression=None,
                       # websockets logs the request line and headers at debug: through a
                       # redacting logger, so a Basic credential or api_key never shows
                       logger=get_logger("telephony_core.streams.websocket"))

    def _read(self, sock: Any) -> None:
        try:
            for frame in sock:
                if self._stop.is_set():
                    return
                self._handle(frame)
        except Exception as exc:  # ConnectionClosed, OSError: the reconnect loop decides
            log.debug("%s: event stream read ended: %s", self.source.provider, _why(exc))
        finally:
            with contextlib.suppress(Exception):  # already broken
                sock.close()

    def _handle(self, frame: str | bytes) -> None:
        for event in self._parse(frame):
            self._put(event)
            self._follow(event)

    def _follow(self, event: Event) -> None:
        if self.source.follow is None:
            return
        try:
            self.source.follow(event)
        except Exception as exc:
            self._follow_failed(event, exc)

    def _emit_gap(self, down_since: datetime, attempts: int) -> None:
        known: Mapping[str, Any] | None = None
        error: Exception | None = None
        if self.source.reconcile is not None:
            try:
                known = self.source.reconcile()
            except Exception as exc:
                error = exc
        self._put(self._gap(down_since, attempts, known, error))


class AsyncEventStream(_Reader):
    """The asyncio twin of :class:`EventStream`: one background task reads the WebSocket
    (``websockets.asyncio.client``) with the same parsing, backoff, gap and give-up rules.
    ``source.follow`` and ``source.reconcile`` may be coroutine functions (the async client's
    driver sends the steps). Create and start it inside a running event loop."""

    def __init__(self, source: StreamSource, *, max_failures: int = 5, backoff: float = 0.2,
                 backoff_cap: float = 10.0, buffer: int = 10_000) -> None:
        self.source = source
        self.max_failures: int = int(max_failures)
        self.backoff: float = float(backoff)
        self.backoff_cap: float = float(backoff_cap)
        self._buffer = max(1, int(buffer))
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._stopped = False
        self._task: asyncio.Task[None] | None = None
        self._socket: Any = None
        self.failure: StreamError | None = None
        self.connections: int = 0
        self.skipped = 0

    def start(self) -> AsyncEventStream:
        if self._task is None and not self._stopped:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"telephony-stream-{self.source.provider}")
        return self

    async def wait_connected(self, timeout: float) -> bool:
        self.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)
        return self.connected

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def aclose(self) -> None:
        self._stopped = True
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(Exception):
                await sock.close()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._put(_END)

    async def events(self, timeout: float | None = None) -> AsyncIterator[Event]:
        """Canonical events as they arrive; the same ending rules as :meth:`EventStream.events`."""
        self.start()
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                return
            if item is _END:
                self._put(_END)
                if self.failure is not None:
                    raise self.failure
                return
            yield item

    def _put(self, item: Any) -> None:
        if self._queue.qsize() >= self._buffer:
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()  # drop the oldest: the reader must not block
        self._queue.put_nowait(item)

    async def _run(self) -> None:
        from websockets.asyncio.client import connect

        source = self.source
        failures = 0
        down_since: datetime | None = None
        try:
            while not self._stopped:
                try:
                    sock = await connect(
                        source.url, additional_headers=dict(source.headers), ssl=source.ssl,
                        open_timeout=source.open_timeout, close_timeout=1,
                        max_size=1024 * 1024, compression=None,
                        logger=get_logger("telephony_core.streams.websocket"))
                except Exception as exc:
                    failures += 1
                    self.failure = self._gives_up(failures, exc)
                    if self.failure is not None:
                        break
                    await asyncio.sleep(self._delay(failures))
                    continue
                self.connections += 1
                self._socket = sock
                self._connected.set()
                if down_since is not None:
                    await self._emit_gap(down_since, failures)
                failures = 0
                try:
                    async for frame in sock:
                        for event in self._parse(frame):
                            self._put(event)
                            await self._follow(event)
                except Exception as exc:  # ConnectionClosed, OSError: reconnect
                    log.debug("%s: event stream read ended: %s", source.provider, _why(exc))
                finally:
                    with contextlib.suppress(Exception):
                        await sock.close()
                self._connected.clear()
                self._socket = None
                down_since = datetime.now(UTC)
        finally:
            self._put(_END)

    async def _follow(self, event: Event) -> None:
        if self.source.follow is None:
            return
        try:
            result = self.source.follow(event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            self._follow_failed(event, exc)

    async def _emit_gap(self, down_since: datetime, attempts: int) -> None:
        known: Mapping[str, Any] | None = None
        error: Exception | None = None
        if self.source.reconcile is not None:
            try:
                result = self.source.reconcile()
                known = await result if inspect.isawaitable(result) else result
            except Exception as exc:
                error = exc
        self._put(self._gap(down_since, attempts, known, error))


def _why(exc: BaseException) -> str:
    """A short redacted reason (never the URL: websockets' messages may quote it)."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return f"the server answered HTTP {status}"
    if isinstance(exc, TelephonyError):
        return redact(exc.message if hasattr(exc, "message") else str(exc))
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, TimeoutError):
        return "no answer within the open timeout"
    return f"{type(exc).__name__}"


def _refused_credentials(exc: BaseException) -> bool:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status in (401, 403)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` passes (for tests and start-up)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()

"""The simulator's webhook delivery: its events POSTed to ``webhook_url``, as a real system would.

An application written against a real provider receives events at its webhook URL; with the
``webhook_url`` option the simulator does the same, so the application is written once. Each
event the PBX model emits is queued by the operation that caused it (never blocking it) and a
background thread POSTs the events one at a time, in order. A post that fails (no connection,
a timeout, an answer other than 2xx) is re-sent a few times with exponential backoff, then
dropped with one WARNING line; later events wait their turn, so order holds.

Why not :class:`telephony_core.emulation.WebhookSender`: that one lives in the emulation kit,
whose import needs the ``emulation`` extra (werkzeug), and the simulator is part of the core
install; it also re-sends at a fixed interval and drops what is queued on close, where the
simulator flushes.

The URL may carry a token (the core registers its query and password as secrets): it is never
logged; log lines name the event, never the URL. Redirects are not followed.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

import requests

from ..redaction import get_logger
from ..results import Event

__all__ = ["EventPoster"]

log: logging.Logger = get_logger("telephony_core.sim.delivery")


class EventPoster:
    """POST events to ``url`` from one background thread, in order.

    ``render(event) -> bytes`` gives the body (sent as ``application/json``). ``attempts``:
    tries per event (the first included); the wait after the n-th failure is
    ``backoff * 2**(n-1)`` seconds. ``timeout`` bounds each POST. At most ``buffer`` events wait;
    beyond that the oldest is dropped (logged), so a dead receiver cannot grow memory.
    """

    def __init__(self, url: str, render: Callable[[Event], bytes], *, attempts: int = 4,
                 backoff: float = 0.25, timeout: float = 2.0, buffer: int = 10_000,
                 provider: str = "sim") -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        self._url = url
        self._render = render
        self.attempts: int = int(attempts)
        self.backoff: float = float(backoff)
        self.timeout: float = float(timeout)
        self.provider = provider
        self._queue: collections.deque[Event] = collections.deque()
        self._buffer = max(1, int(buffer))
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._stop = threading.Event()
        self.delivered: int = 0
        self.dropped: int = 0
        self._session = requests.Session()
        self._session.trust_env = False  # the receiver is the application's, not a proxy's
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"telephony-{provider}-webhooks")
        self._thread.start()

    def __call__(self, event: Event) -> None:
        """Queue ``event`` (a :meth:`Pbx.subscribe` callback: returns at once)."""
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= self._buffer:
                lost = self._queue.popleft()
                self.dropped += 1
                log.warning("%s: webhook queue full; event %s of call %s dropped",
                            self.provider, lost.kind, lost.call_id)
            self._queue.append(event)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Events queued or being posted."""
        with self._cond:
            return len(self._queue) + (1 if self._busy else 0)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued event was delivered or dropped; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, flush: float = 2.0) -> None:
        """Stop accepting events, deliver what is queued for at most ``flush`` seconds, then
        stop (what is left is dropped, with one WARNING). Safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        if not self.flush(flush):
            with self._cond:
                left = len(self._queue) + (1 if self._busy else 0)
                self._queue.clear()
            self.dropped += left
            log.warning("%s: %d webhook event(s) not delivered within %.1f s of closing; "
                        "dropped", self.provider, left, flush)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=self.timeout + 1)
        self._session.close()

    # -- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stop.is_set())
                if self._stop.is_set():
                    return
                event = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(event)
            except Exception as exc:  # a rendering bug must not end delivery
                self.dropped += 1
                log.warning("%s: webhook event %s could not be sent (%s); dropped",
                            self.provider, event.kind, type(exc).__name__)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, event: Event) -> None:
        body = self._render(event)
        last = "no answer"
        for attempt in range(1, self.attempts + 1):
            if attempt > 1 and self._stop.wait(self.backoff * 2 ** (attempt - 2)):
                break
            started = time.monotonic()
            try:
                # stream=True: the status is all that matters; a receiver's reply body (of
                # any size) is never read
                reply = self._session.post(self._url, data=body, timeout=self.timeout,
                                           allow_redirects=False, stream=True,
                                           headers={"Content-Type": "application/json"})
                status = reply.status_code
                reply.close()
            except requests.RequestException as exc:
                last = type(exc).__name__
                log.debug("%s: webhook attempt %d for %s failed: %s", self.provider, attempt,
                          event.kind, last)
                continue
            if 200 <= status < 300:
                self.delivered += 1
                return
            last = f"HTTP {status}"
            log.debug("%s: webhook attempt %d for %s answered %s after %.2f s", self.provider,
                      attempt, event.kind, last, time.monotonic() - started)
        self.dropped += 1
        log.warning("%s: webhook event %s of call %s not delivered after %d attempt(s) "
                    "(last: %s); dropped", self.provider, event.kind, event.call_id,
                    self.attempts, last)

    def __repr__(self) -> str:  # never the URL: it may carry a token
        return (f"<EventPoster {self.provider} delivered={self.delivered} "
                f"dropped={self.dropped} pending={self.pending}>")

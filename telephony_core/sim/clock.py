"""A controllable clock: the model never reads wall time and never sleeps.

Tests, the demo and the conformance suite move time with :meth:`Clock.advance`, which fires
due timers (ring timeouts, the inbound offer window, prompt playback) in order.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock"]

#: Where simulated time starts: the epoch second of Yeastar's sample call ids (May 2017).
EPOCH = 1495700000.0


class Clock:
    def __init__(self, start: float = EPOCH):
        self._now = float(start)
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cancelled: set[int] = set()

    def now(self) -> float:
        return self._now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def call_later(self, delay: float, action: Callable[[], None]) -> int:
        """Run ``action`` once the clock has advanced ``delay`` seconds; returns a handle."""
        handle = next(self._seq)
        heapq.heappush(self._timers, (self._now + delay, handle, action))
        return handle

    def cancel(self, handle: int | None) -> None:
        if handle is not None:
            self._cancelled.add(handle)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer that falls due, in time order."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        end = self._now + seconds
        while self._timers and self._timers[0][0] <= end:
            due, handle, action = heapq.heappop(self._timers)
            self._now = max(self._now, due)
            if handle in self._cancelled:
                self._cancelled.discard(handle)
                continue
            action()
        self._now = end

"""Wall-clock deadlines for blocking socket I/O.

A socket timeout bounds each *wait*, not the whole exchange: a server that trickles one byte per
second keeps every ``recv`` under its timeout forever. So the transport registers the sockets of
the request in flight here, and one daemon thread shuts them down (``SHUT_RDWR``) when the
operation's deadline passes. The blocked read then returns at once, and the transport reports
"deadline" instead of whatever the socket layer said.

One thread serves every client in the process; arming and disarming are O(log n) and take a lock
for a microsecond or so, so there is no thread per request (and no lock per request either).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time

__all__ = ["Watch", "arm", "disarm"]


#: guards every Watch: one lock for all, so arming a request allocates no lock of its own
_watch_lock = threading.Lock()


class Watch:
    """The sockets one request uses, and whether its deadline fired."""

    __slots__ = ("_fds", "done", "expired")

    def __init__(self) -> None:
        self._fds: set[int] = set()
        self.expired: bool = False
        self.done: bool = False

    def add(self, fd: int) -> None:
        """Watch socket ``fd`` too; shut it down at once if the deadline already fired."""
        if fd < 0 or fd in self._fds:
            return
        with _watch_lock:
            if self.done:
                return
            self._fds.add(fd)
            fire_now = self.expired
        if fire_now:
            _shutdown(fd)

    def _fire(self) -> None:
        with _watch_lock:
            if self.done:
                return
            self.expired = True
            # shut down while holding the lock: disarm() waits, so the fd cannot be closed and
            # reused by another connection in between
            for fd in list(self._fds):
                _shutdown(fd)

    def _finish(self) -> None:
        with _watch_lock:
            self.done = True
            self._fds.clear()


def _shutdown(fd: int) -> None:
    """Shut the connection behind ``fd`` down without closing the caller's descriptor.

    ``shutdown`` acts on the connection, not the descriptor, so doing it on a duplicate wakes
    every reader of the original (plain or TLS) and leaves closing to its owner.
    """
    with contextlib.suppress(OSError):
        dup = socket.socket(fileno=os.dup(fd))
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()


class _Clock(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="telephony-deadline-watchdog", daemon=True)
        self._heap: list[tuple[float, int, Watch]] = []
        self._counter = itertools.count()
        self._compact_at = 1024
        self._wake = threading.Condition(threading.Lock())

    def arm(self, at: float, watch: Watch) -> None:
        with self._wake:
            if len(self._heap) > self._compact_at:
                # fast operations leave their (long) deadlines behind: compact now and then
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._compact_at = max(1024, 2 * len(self._heap))
            heapq.heappush(self._heap, (at, next(self._counter), watch))
            if self._heap[0][2] is watch:
                self._wake.notify()

    def run(self) -> None:
        while True:
            with self._wake:
                while True:
                    while self._heap and self._heap[0][2].done:
                        heapq.heappop(self._heap)  # disarmed: drop lazily
                    if not self._heap:
                        self._wake.wait()
                        continue
                    left = self._heap[0][0] - time.monotonic()
                    if left <= 0:
                        watch = heapq.heappop(self._heap)[2]
                        break
                    self._wake.wait(left)
            watch._fire()


_clock: _Clock | None = None
_clock_lock = threading.Lock()


def _forget_clock() -> None:
    """After fork() the child has no watchdog thread: start a new one on first use."""
    global _clock
    _clock = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_clock)


def arm(at: float) -> Watch:
    """Start watching until monotonic time ``at``; add sockets with :meth:`Watch.add`."""
    global _clock
    if _clock is None:
        with _clock_lock:
            if _clock is None:
                _clock = _Clock()
                _clock.start()
    watch = Watch()
    _clock.arm(at, watch)
    return watch


def disarm(watch: Watch) -> None:
    """Stop watching (the request is over); from now on nothing of it is shut down."""
    watch._finish()

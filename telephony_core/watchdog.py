"""Wall-clock deadlines for blocking socket I/O.

A socket timeout bounds each *wait*, not the whole exchange: a server that trickles one byte per
second keeps every ``recv`` under its timeout forever. So the transport registers the sockets of
the request in flight here, and one daemon thread shuts them down (``SHUT_RDWR``) when the
operation's deadline passes. The blocked read then returns at once, and the transport reports
"deadline" instead of whatever the socket layer said.

One thread serves every client in the process. Arming and disarming a request take no lock and
allocate one small object: this runs for every request, and nearly every request ends long
before its deadline. The thread sleeps until the earliest deadline it knows of and is woken
only when a request arms an earlier one; when it wakes, it looks at the requests in flight
(never at finished ones), shuts down the expired and sleeps until the next deadline.

The one thing that must never happen is shutting down a socket after its request finished: the
descriptor may by then belong to another connection. :meth:`Watch._fire` and :func:`disarm`
order their flags so that either the firing sees the request done and touches nothing, or the
disarm sees the firing and waits for it to finish (their docstrings say how).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time

__all__ = ["Watch", "arm", "disarm"]


#: held while a watch shuts its sockets down; a disarm that finds a firing in progress waits
#: on it (an uncontended disarm never touches it)
_firing_lock = threading.Lock()


class Watch:
    """The sockets one request uses, its deadline, and whether the deadline fired."""

    __slots__ = ("_fds", "at", "done", "expired", "firing")

    def __init__(self, at: float) -> None:
        self.at = at
        self._fds: list[int] = []
        self.expired: bool = False
        self.done: bool = False
        self.firing: bool = False

    def add(self, fd: int) -> None:
        """Watch socket ``fd`` too; shut it down at once if the deadline already fired.

        Appended first, then ``expired`` read: a firing that took its list of sockets before
        the append set ``expired`` before taking it, so this sees it and shuts ``fd`` itself."""
        if fd < 0 or fd in self._fds:
            return
        self._fds.append(fd)
        if self.expired and not self.done:
            _shutdown(fd)

    def _fire(self) -> None:
        """The deadline passed: shut every socket of the request down, unless it is done.

        ``firing`` is set before ``done`` is read, and :func:`disarm` sets ``done`` before it
        reads ``firing``: so either this sees ``done`` and does nothing, or the disarm sees
        ``firing`` and waits on the lock held here until the sockets are shut down."""
        with _firing_lock:
            self.firing = True
            try:
                if self.done:
                    return
                self.expired = True
                for fd in list(self._fds):
                    _shutdown(fd)
            finally:
                self.firing = False


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
    """The one thread that fires deadlines (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(name="telephony-deadline-watchdog", daemon=True)
        #: the requests in flight; set and deleted by their own threads (atomic under the GIL)
        self.active: dict[int, Watch] = {}
        #: when the thread will next look; -inf while it is deciding (arm then wakes it)
        self.wakes_at: float = -math.inf
        self._wake = threading.Condition(threading.Lock())

    def wake(self) -> None:
        """Look again now: a request armed a deadline earlier than the thread will look."""
        with self._wake:
            self._wake.notify()

    def run(self) -> None:
        while True:
            with self._wake:
                self.wakes_at = -math.inf  # deciding: an arm from now on wakes the next wait
                now = time.monotonic()
                expired: list[Watch] = []
                earliest = math.inf
                for watch in list(self.active.values()):
                    if watch.done or watch.expired:  # finished, or fired already (its thread
                        continue                     # is on its way to disarm it)
                    if watch.at <= now:
                        expired.append(watch)
                    elif watch.at < earliest:
                        earliest = watch.at
                if not expired:
                    self.wakes_at = earliest
                    self._wake.wait(None if earliest == math.inf else earliest - now)
                    continue
            for watch in expired:
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
    clock = _clock
    if clock is None:
        with _clock_lock:
            if _clock is None:
                _clock = _Clock()
                _clock.start()
            clock = _clock
    watch = Watch(at)
    clock.active[id(watch)] = watch
    wakes_at = clock.wakes_at  # read after the entry is in: see _Clock.run
    if at < wakes_at or wakes_at == -math.inf:
        clock.wake()
    return watch


def disarm(watch: Watch) -> None:
    """Stop watching (the request is over); from now on nothing of it is shut down."""
    watch.done = True
    if watch.firing:  # a firing began before it saw done: wait until it is over
        with _firing_lock:
            pass
    clock = _clock
    if clock is not None:
        clock.active.pop(id(watch), None)

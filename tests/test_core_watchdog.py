"""The deadline watchdog on real socket pairs: it shuts down what is late, wakes for an earlier
deadline armed after a later one, and never touches a socket whose request has finished (its
descriptor may already belong to another connection)."""

from __future__ import annotations

import socket
import threading
import time

from telephony_core import watchdog


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    return a, b


def _is_shut_down(sock: socket.socket) -> bool:
    """A shut-down socket reads end-of-stream at once; a live one has nothing to read."""
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_a_late_request_has_its_socket_shut_down_and_knows_it() -> None:
    a, b = _pair()
    try:
        watch = watchdog.arm(time.monotonic() + 0.1)
        watch.add(a.fileno())
        started = time.monotonic()
        assert a.recv(1) == b""  # blocked until the deadline shut the connection down
        assert time.monotonic() - started < 5
        assert watch.expired
        watchdog.disarm(watch)
    finally:
        a.close()
        b.close()


def test_an_earlier_deadline_armed_after_a_later_one_still_fires_on_time() -> None:
    a, b = _pair()
    late = watchdog.arm(time.monotonic() + 60)  # the thread now sleeps towards this one
    try:
        soon = watchdog.arm(time.monotonic() + 0.1)
        soon.add(a.fileno())
        started = time.monotonic()
        assert a.recv(1) == b""
        assert time.monotonic() - started < 5
        watchdog.disarm(soon)
        assert not late.expired
    finally:
        watchdog.disarm(late)
        a.close()
        b.close()


def test_a_socket_added_after_the_deadline_fired_is_shut_down_at_once() -> None:
    a, b = _pair()
    try:
        watch = watchdog.arm(time.monotonic() + 0.05)
        for _ in range(200):
            if watch.expired:
                break
            time.sleep(0.01)
        assert watch.expired
        watch.add(a.fileno())  # a reconnect after the deadline: cut at once
        assert _is_shut_down(a)
        watchdog.disarm(watch)
    finally:
        a.close()
        b.close()


def test_a_finished_request_is_never_shut_down_even_when_its_deadline_passes() -> None:
    a, b = _pair()
    try:
        watch = watchdog.arm(time.monotonic() + 0.05)
        watch.add(a.fileno())
        watchdog.disarm(watch)
        time.sleep(0.3)  # well past the deadline
        assert not watch.expired
        assert not _is_shut_down(a)
        b.sendall(b"x")
        a.settimeout(5)
        assert a.recv(1) == b"x"  # the connection still works
    finally:
        a.close()
        b.close()


def test_many_threads_racing_their_deadlines_never_cut_a_finished_request() -> None:
    """Requests whose deadlines fall while they finish, from many threads: every socket whose
    request was disarmed in time is still open; every late one was cut."""
    problems: list[str] = []

    def worker(seed: int) -> None:
        for i in range(40):
            a, b = _pair()
            try:
                watch = watchdog.arm(time.monotonic() + 0.002 * ((seed + i) % 5))
                watch.add(a.fileno())
                time.sleep(0.001 * ((seed * 7 + i) % 5))
                watchdog.disarm(watch)
                if not watch.expired and _is_shut_down(a):
                    problems.append(f"thread {seed} round {i}: cut after it finished")
            finally:
                a.close()
                b.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert problems == []


def test_a_fired_request_not_yet_disarmed_leaves_the_watchdog_idle() -> None:
    """Between the deadline and the request's disarm the watchdog must sleep, not look at the
    fired request again and again: that spin held the GIL and delayed the very thread it had
    just woken (by the interpreter's 5 ms switch interval)."""
    watch = watchdog.arm(time.monotonic() + 0.02)
    try:
        for _ in range(200):
            if watch.expired:
                break
            time.sleep(0.005)
        assert watch.expired
        before = time.process_time()
        time.sleep(0.3)  # the request has not disarmed yet
        assert time.process_time() - before < 0.1  # a spinning thread would use ~0.3 s
    finally:
        watchdog.disarm(watch)

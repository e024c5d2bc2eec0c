"""Shared helpers: an emulated ARI with every reply recorded, and waiting for events."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from telephony_core.emulation import emulated

FAST = {"timeout": 2, "connect_timeout": 2, "deadline": 8, "retries": 2}


@contextlib.contextmanager
def ari(**options: Any) -> Iterator[Any]:
    """The ARI emulator with a client; ``emu.replies`` lists (request, status, body)."""
    client_options = {**FAST, **options.pop("client_options", {})}
    with emulated("ari", client_options=client_options, **options) as emu:
        replies: list[tuple[Any, int, bytes]] = []
        dispatch = emu.app.dispatch

        def recording(request):
            response = dispatch(request)
            replies.append((request, response.status_code, response.get_data()))
            return response

        emu.app.dispatch = recording
        emu.app.replies = replies
        yield emu


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("timed out waiting")


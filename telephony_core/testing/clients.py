"""The two clients the suite runs a provider through, from synchronous test code.

The fault and outcome properties run once per client kind: ``sync`` is
:func:`telephony_core.connect`, ``async`` is :func:`telephony_core.connect_async` wrapped in
:class:`SyncOverAsync`, so one property body (written against the sync API) drives both. A
third party proves async support by running the same ``telephony conformance NAME``.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

from ..provider import ProviderSpec

__all__ = ["CLIENT_KINDS", "SyncOverAsync", "async_refusal", "connect_kind"]

#: the client kinds the both-clients properties are parametrized by
CLIENT_KINDS = ("sync", "async")

#: why a provider is not run through the async client (the report's skip reason)
API1_REASON = "plugin API 1: sync client only"


class SyncOverAsync:
    """An AsyncClient driven from synchronous code: its coroutines run on an event loop in a
    background thread, so one client-level test body runs against both clients. Attributes
    that are not coroutine functions (``config``, ``provider``, ``supports``) pass through."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="telephony-conformance-loop")
        self._thread.start()

    def _wait(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if inspect.iscoroutinefunction(value):
            return lambda *a, **kw: self._wait(value(*a, **kw))
        return value

    def close(self) -> None:
        try:
            self._wait(self._client.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    def __enter__(self) -> SyncOverAsync:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._client)


def async_refusal(spec: ProviderSpec) -> str | None:
    """Why ``spec`` cannot run through the async client (None when it can): an HTTP provider
    of plugin API 1 sends through its own requests transport. In-process providers (sim) run
    in both, as :class:`~telephony_core.AsyncClient` accepts them."""
    if spec.http and spec.plugin_api < 2:
        return API1_REASON
    return None


def connect_kind(kind: str, *args: Any, **options: Any) -> Any:
    """:func:`telephony_core.connect`, or :func:`telephony_core.connect_async` wrapped for
    synchronous code."""
    from .. import connect, connect_async

    if kind == "sync":
        return connect(*args, **options)
    if kind != "async":
        raise ValueError(f"client kind {kind!r}: expected one of {CLIENT_KINDS}")
    return SyncOverAsync(connect_async(*args, **options))

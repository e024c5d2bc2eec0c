"""What the wire saw: whether any request byte was written, and whether a reply's head was whole.

"May this operation be sent again?" must be decided from what happened on the socket, not from
the type of the exception that came out of requests: an ``SSLError`` raised while *reading* the
reply comes after the request left, and is no proof that nothing was sent. So the transport uses
urllib3 connections that record, per request:

* ``sent``: set just before the first byte of the request (headers or body) is handed to the
  socket. Failures while connecting or during the TLS handshake leave it False; anything after
  it (a reset, a TLS error while reading, a truncated reply) is "may have been acted on".
* ``head_cut``: the connection closed inside the reply's status line or headers. Python's
  ``http.client`` takes an end of stream there for the end of the headers, so a reply cut after
  ``HTTP/1.1 200 OK`` would otherwise read as a success with an empty body.
* the socket, which the deadline :mod:`~telephony_core.watchdog` shuts down when time is up.
"""

from __future__ import annotations

import contextvars
import http.client
from collections.abc import Callable
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .watchdog import Watch

__all__ = ["EvidenceAdapter", "IncompleteHead", "SendRecord", "recording"]


class SendRecord:
    """What one request did on the wire (see the module docstring)."""

    __slots__ = ("head_cut", "sent", "sock", "watch")

    def __init__(self, watch: Watch | None = None) -> None:
        self.sent: bool = False
        self.head_cut: bool = False
        self.watch: Watch | None = watch
        #: the socket last given to the watch (a request writes its head and body separately)
        self.sock: Any = None

    def socket_opened(self, sock: Any) -> None:
        watch = self.watch
        if watch is not None and sock is not None:
            self.sock = sock
            # called for the writes of every request: no context manager here
            try:  # noqa: SIM105
                watch.add(sock.fileno())
            except OSError:  # a closed socket has nothing left to watch
                pass


_current: contextvars.ContextVar[SendRecord | None] = contextvars.ContextVar(
    "telephony_send_record", default=None)


#: ``token = start_recording(record)`` ... ``stop_recording(token)``: :class:`recording`
#: without the context manager's calls, for the transport's per-request path
start_recording: Callable[[SendRecord | None],
                          contextvars.Token[SendRecord | None]] = _current.set
stop_recording: Callable[[contextvars.Token[SendRecord | None]], None] = _current.reset


class recording:
    """``with recording(record):`` the requests made in this context report to ``record``."""

    def __init__(self, record: SendRecord) -> None:
        self.record = record

    def __enter__(self) -> SendRecord:
        self._token = _current.set(self.record)
        return self.record

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)


class IncompleteHead(http.client.HTTPException):
    """The connection closed before the reply's headers were complete."""


class _HeadReader:
    """Wraps the response's file while the head is read, noticing an end of stream in it."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self.cut = False

    def readline(self, limit: int = -1) -> bytes:
        line = self._fp.readline(limit)
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            self.cut = True  # end of stream inside the head (b"" or a partial line)
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


def _whole_head_arrived(fp: Any) -> bool:
    """Whether the reply's whole head (status line to the blank line) is already buffered:
    ``peek`` waits only until something arrives, as the first ``readline`` would. A 1xx
    interim reply is not trusted this way (the real head follows it)."""
    try:
        buffered = fp.peek(65536)
    except (AttributeError, ValueError):  # not a buffered reader: read line by line
        return False
    return not buffered.startswith(b"HTTP/1.1 1") and b"\r\n\r\n" in buffered


class _CheckedResponse(http.client.HTTPResponse):
    def begin(self) -> None:
        if self.headers is not None:  # begin() is idempotent in http.client
            return
        real = self.fp
        if _whole_head_arrived(real):  # nothing can cut it now: no wrapper on every line
            super().begin()
            return
        reader = _HeadReader(real)
        self.fp = reader  # type: ignore[assignment]
        try:
            super().begin()
        finally:
            if self.fp is reader:
                self.fp = real
        if reader.cut:
            record = _current.get()
            if record is not None:
                record.head_cut = True
            self.close()
            raise IncompleteHead("the connection closed inside the reply's headers")


class _EvidenceMixin:
    response_class: type[http.client.HTTPResponse] = _CheckedResponse
    _in_tunnel = False

    def _new_conn(self) -> Any:
        sock = super()._new_conn()  # type: ignore[misc]
        record = _current.get()
        if record is not None:
            record.socket_opened(sock)
        return sock

    def _tunnel(self) -> Any:
        self._in_tunnel = True  # a proxy's CONNECT is not the request
        try:
            return super()._tunnel()  # type: ignore[misc]
        finally:
            self._in_tunnel = False

    def send(self, data: Any) -> None:
        if self.sock is None:  # type: ignore[attr-defined]
            self.connect()  # type: ignore[attr-defined]  # its failures are "not sent"
        record = _current.get()
        if record is not None and not self._in_tunnel:
            if record.sock is not self.sock:  # type: ignore[attr-defined]
                record.socket_opened(self.sock)  # type: ignore[attr-defined]  # a reused one
            record.sent = True
        super().send(data)  # type: ignore[misc]


class _HTTPConnection(_EvidenceMixin, HTTPConnection):
    pass


class _HTTPSConnection(_EvidenceMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class EvidenceAdapter(HTTPAdapter):
    """A requests adapter whose connections record evidence (see the module docstring)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


"""The async driver: sends :class:`WireRequest`\\ s with httpx, keeping the sync transport's
promises (:class:`telephony_core.http.HttpTransport`):

* ``request_sent`` from evidence: the first byte of the request written to the connection's
  stream (a wrapper around httpcore's network backend; through a proxy, where the CONNECT
  request is written to the same stream, httpcore's trace of the request headers instead). A
  failure before that (connect, TLS handshake) is "not sent". The stream wrapper costs one flag
  per write; the trace costs a coroutine per step of every request (about a tenth of httpx's
  own CPU per request, measured in bench/async_overhead.py), so it is used only where needed;
* redirects never followed (a 3xx is a ``TransportError`` with reason ``redirect``);
* a wall-clock deadline over the whole exchange (``asyncio.timeout``), however the reply
  trickles or stalls;
* a size cap (``max_reply_bytes``), the reply read in chunks and never held past it;
* messages for a person, nothing of httpx's chained (its text holds URLs, with their tokens).

Needs the ``async`` extra (``pip install 'telephony-core[async]'``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from .context import note_send
from .errors import ConfigurationError, TransportError, TransportReason
from .redaction import get_logger, install_log_filter, redact
from .retry import deadline_at
from .wire import TransportSettings, WireReply, WireRequest

try:
    import httpx
except ImportError:  # pragma: no cover - the message is what a user sees
    httpx = None  # type: ignore[assignment]

__all__ = ["AsyncHttpTransport"]

log: logging.Logger = get_logger("telephony_core.async_http")
install_log_filter()
_CHUNK = 64 * 1024


def _need_httpx() -> None:
    if httpx is None:
        raise ConfigurationError("the async client needs httpx: pip install "
                                 "'telephony-core[async]'", key="async")


class _Evidence:
    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith(("send_request_headers.started", "send_request_body.started")):
            self.sent = True


#: the evidence of the request the current task is sending (read by :class:`_EvidenceStream`)
_sending: contextvars.ContextVar[_Evidence | None] = contextvars.ContextVar(
    "telephony_async_sending", default=None)


class _EvidenceStream:
    """A connection's stream that marks the current request sent at its first write. The TLS
    handshake happens inside ``start_tls`` on the wrapped stream, so it is not a write here.

    Only ``write`` and ``start_tls`` are ours; the rest are the wrapped stream's own bound
    methods, because httpcore asks every pooled connection for ``get_extra_info`` on every
    request, and a wrapper frame there costs more than the whole evidence."""

    __slots__ = ("_stream", "aclose", "get_extra_info", "read")

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.read = stream.read
        self.aclose = stream.aclose
        self.get_extra_info = stream.get_extra_info

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        evidence = _sending.get()
        if evidence is not None:
            evidence.sent = True
        await self._stream.write(buffer, timeout)

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> _EvidenceStream:
        return _EvidenceStream(await self._stream.start_tls(ssl_context, server_hostname,
                                                            timeout))


class _EvidenceBackend:
    """httpcore's network backend, with every stream it opens wrapped in _EvidenceStream."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> _EvidenceStream:
        return _EvidenceStream(await self._backend.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _EvidenceStream:
        return _EvidenceStream(await self._backend.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _watch_streams(client: Any) -> bool:
    """Wrap the network backend of ``client``'s own transport; False where that cannot be
    done (another httpx layout), and the trace is used instead."""
    pool: Any = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is None or backend is None or getattr(pool, "_proxy", None) is not None:
        return False
    pool._network_backend = _EvidenceBackend(backend)
    return True


class AsyncHttpTransport:
    """One ``httpx.AsyncClient`` per client: connection reuse within one event loop."""

    def __init__(self, settings: TransportSettings, *, max_connections: int = 100) -> None:
        _need_httpx()
        self.settings = settings
        verify: bool | ssl.SSLContext = bool(settings.verify)
        if isinstance(settings.verify, str):
            verify = ssl.create_default_context(cafile=settings.verify)
        self.client: httpx.AsyncClient = httpx.AsyncClient(
            verify=verify, trust_env=settings.trust_env, proxy=settings.proxy,
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections))
        # requests beyond the pool's connections wait here rather than in httpcore's queue,
        # which re-scans every waiting request whenever a connection frees up: at 1,000
        # concurrent operations on 100 connections that costs milliseconds of CPU per
        # operation; a semaphore wakes one waiter
        self._slots = asyncio.Semaphore(max_connections)
        self._closed = False
        self._where = redact(urlsplit(settings.base_url).netloc.rpartition("@")[2]) or \
            "the provider"
        # no proxy of any kind: every request goes through the client's own transport
        self._streams_watched = (not settings.proxy and not settings.trust_env
                                 and _watch_streams(self.client))

    async def send(self, request: WireRequest) -> WireReply:
        """Send once; the same errors as the sync transport."""
        provider = self.settings.provider
        if self._closed:
            raise TransportError("the client is closed", reason="closed", provider=provider)
        end = deadline_at()
        left = None if end is None else end - time.monotonic()
        if left is not None and left <= 0:
            raise TransportError("the operation's deadline passed before the request was sent",
                                 reason="deadline", provider=provider)
        note_send()
        evidence = _Evidence()
        failure: TransportError | None = None
        reply: WireReply | None = None
        token = _sending.set(evidence)
        try:
            async with asyncio.timeout(left), self._slots:  # waiting counts to the deadline
                reply = await self._exchange(request, evidence, left)
        except TransportError as exc:
            failure = exc
        except TimeoutError:
            failure = TransportError(
                f"the operation's deadline passed while talking to {self._where}",
                request_sent=evidence.sent, reason="deadline", provider=provider)
        except Exception as exc:  # httpx, ssl, socket: never chained (URLs, tokens)
            reason, text = _describe(exc, evidence.sent, self._where)
            failure = TransportError(text, request_sent=evidence.sent, reason=reason,
                                     provider=provider)
        finally:
            _sending.reset(token)
        if failure is not None:
            raise failure
        assert reply is not None
        return reply  # a 429 goes to the provider's decode (plugin API 2 only uses this driver)

    async def _exchange(self, request: WireRequest, evidence: _Evidence,
                        left: float | None) -> WireReply:
        settings = self.settings
        timeout = httpx.Timeout(min(settings.timeout, left) if left else settings.timeout,
                                connect=min(settings.connect_timeout, left) if left
                                else settings.connect_timeout)
        files = None
        data = request.data
        if request.multipart:
            files = {k: (None, str(v)) for k, v in (request.data or {}).items()}
            data = None
        built = self.client.build_request(
            request.method,
            (request.base.rstrip("/") if request.base else settings.base_url) + request.path,
            params=request.params,
            json=request.json, data=data, files=files, headers=request.headers,
            timeout=timeout,
            extensions=None if self._streams_watched else {"trace": evidence.trace})
        response = await self.client.send(built, stream=True)
        try:
            if 300 <= response.status_code < 400 and response.status_code != 304:
                from .http import redirect_error

                raise redirect_error(response.status_code, response.headers.get("Location", ""),
                                     self._where, settings.provider)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > settings.max_reply_bytes:
                raise self._too_large(f"it announced {int(declared):,} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes(_CHUNK):
                size += len(chunk)
                if size > settings.max_reply_bytes:
                    raise self._too_large(f"more than {settings.max_reply_bytes:,} bytes arrived")
                chunks.append(chunk)
        finally:
            await response.aclose()
        return WireReply(response.status_code, dict(response.headers), b"".join(chunks))

    def _too_large(self, what: str) -> TransportError:
        return TransportError(
            f"the reply from {self._where} is larger than max_reply_bytes="
            f"{self.settings.max_reply_bytes:,} ({what}); it was not read. Raise the "
            "max_reply_bytes option if this provider really sends such replies",
            request_sent=True, reason="too_large", provider=self.settings.provider)

    async def aclose(self) -> None:
        self._closed = True
        await self.client.aclose()


def _describe(exc: BaseException, sent: bool, where: str) -> tuple[TransportReason, str]:
    from .http import _chain, handshake_problem

    chain = _chain(exc)

    def has(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    if has(socket.gaierror):
        return "dns", f"could not connect: the host of {where} does not resolve (check the host)"
    if has(httpx.ProxyError):
        return "proxy", "the configured proxy refused or failed the connection"
    if not sent and has(ssl.SSLError):
        return "tls", handshake_problem(chain, where)
    if has(httpx.ConnectTimeout):
        return "connect_timeout", f"could not connect to {where} within the connect timeout"
    if not sent and (has(ConnectionRefusedError) or has(httpx.ConnectError)):
        return "refused", (f"could not connect to {where}: the connection was refused (is the "
                           "host and port right, and the service up?)")
    if has(httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
        return "read_timeout", f"{where} sent no answer within the read timeout"
    if has(httpx.RemoteProtocolError):
        return "truncated", f"the reply from {where} was cut short or is not HTTP"
    if has(httpx.DecodingError):
        return "malformed", f"the reply from {where} could not be decoded"
    if has(httpx.TransportError, OSError):
        if sent:
            return "reset", f"the connection to {where} broke before a complete reply"
        return "refused", f"the connection to {where} closed before the request was sent"
    if has(httpx.InvalidURL, httpx.UnsupportedProtocol):
        return "other", "the request could not be built (an invalid URL)"
    return "other", f"the exchange with {where} failed ({type(exc).__name__})"

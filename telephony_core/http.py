"""The one requests-based transport every HTTP provider uses, and the HttpProvider base class.

One :class:`requests.Session` per client (connection reuse, thread-safe pool). Every request
gets a (connect, read) timeout bounded by the operation's deadline. Failures come out as typed
errors that say whether the request may have left (``TransportError.request_sent``), which is
what the retry policy in :mod:`telephony_core.retry` decides on. Exception messages and log
lines pass through :func:`~telephony_core.redaction.redact`, and requests' own exceptions are
not chained (their text holds the URL with its token).
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from . import watchdog
from .config import ProviderConfig
from .context import note_send
from .errors import TelephonyError, TransportError, TransportReason
from .evidence import (
    EvidenceAdapter,
    IncompleteHead,
    SendRecord,
    start_recording,
    stop_recording,
)
from .redaction import get_logger, install_log_filter, redact
from .retry import deadline_at
from .wire import (
    HttpProvider,
    MalformedReply,
    Route,
    TransportSettings,
    WireReply,
    WireRequest,
    rate_limited,
)

__all__ = ["HttpProvider", "HttpTransport", "MalformedReply", "Route", "TransportSettings",
           "WireReply", "WireRequest"]

log: logging.Logger = get_logger("telephony_core.http")
install_log_filter()


#: The default cap on a reply's size (the max_reply_bytes option): far above any PBX or CPaaS
#: reply, far below what would hurt a process that holds many clients.
DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class HttpTransport:
    """Sends :class:`WireRequest`\\ s to one base URL with the client's TLS and timeout settings.

    The promises it keeps, whatever the server does:

    * ``TransportError.request_sent`` comes from evidence (:mod:`telephony_core.evidence`): a
      failure before the first request byte was written says False, any later one True.
    * Redirects are never followed: a 3xx is a ``TransportError`` (reason ``redirect``), so no
      body, header or token goes to an address the configuration did not name.
    * The operation's deadline is a wall-clock bound on everything (connect, TLS, send, every
      byte of the reply): the deadline watchdog shuts the socket down when time is up.
    * A reply larger than ``max_reply_bytes`` is refused (reason ``too_large``) without being
      held in memory; a reply whose head or body is cut short is never a success.
    * Errors carry a message written for a person, never requests'/urllib3's text, and no
      exception of theirs is chained (it holds the URL, with any token in it).
    """

    def __init__(self, base_url: str | TransportSettings, *, verify: bool | str = True,
                 timeout: float = 10.0, connect_timeout: float = 5.0, pool_size: int = 32,
                 provider: str = "http", max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
                 proxy: str | None = None, trust_env: bool = False,
                 rate_limit_errors: bool = True):
        settings = base_url if isinstance(base_url, TransportSettings) else TransportSettings(
            base_url.rstrip("/"), verify=verify, timeout=timeout,
            connect_timeout=connect_timeout, max_reply_bytes=max_reply_bytes, proxy=proxy,
            trust_env=trust_env, provider=provider)
        self.settings: TransportSettings = settings
        #: raise RateLimited on 429 here (plugin API 1); the drivers of plugin API 2 hand the
        #: reply to the provider's decode, which may read a vendor's own rate-limit header
        self.rate_limit_errors = rate_limit_errors
        self.base_url: str = settings.base_url
        self.timeout: float = settings.timeout
        self.connect_timeout: float = settings.connect_timeout
        self.provider: str = settings.provider
        self.max_reply_bytes: int = int(settings.max_reply_bytes)
        self.session: requests.Session = requests.Session()
        self.session.verify = settings.verify
        # the environment's proxy and CA variables apply only when asked for (trust_env=true)
        self.session.trust_env = settings.trust_env
        if settings.proxy:
            self.session.proxies = {"http": settings.proxy, "https": settings.proxy}
        adapter = EvidenceAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._closed = threading.Event()
        self._where = redact(urlsplit(self.base_url).netloc.rpartition("@")[2]) or "the provider"

    @classmethod
    def from_config(cls, config: ProviderConfig, *, default_port: int | None = None,
                    base_path: str = "", base_url: str | None = None) -> HttpTransport:
        """Build the transport from the common options (scheme, ca, insecure, timeouts, proxy).

        ``base_url`` replaces scheme, host and port, for a provider whose API spans two hosts.
        """
        return cls(TransportSettings.from_config(config, default_port=default_port,
                                                 base_path=base_path, base_url=base_url))

    def send(self, request: WireRequest) -> WireReply:
        """Send once. Raises TransportError (with ``request_sent`` and ``reason``) or
        RateLimited; never follows a redirect; ends by the operation's deadline."""
        if self._closed.is_set():
            raise TransportError("the client is closed", reason="closed", provider=self.provider)
        end = deadline_at()
        timeouts = (self.connect_timeout, self.timeout)
        if end is not None:
            left = end - time.monotonic()
            if left <= 0:
                raise TransportError("the operation's deadline passed before the request was "
                                     "sent", reason="deadline", provider=self.provider)
            timeouts = (min(self.connect_timeout, left), min(self.timeout, left))
        note_send()
        watch = watchdog.arm(end) if end is not None else None
        record = SendRecord(watch)
        failure: TransportError | None = None
        reply: WireReply | None = None
        token = start_recording(record)  # what :func:`evidence.recording` does, per request
        try:
            reply = self._exchange(request, timeouts)
        except TransportError as exc:
            failure = exc
        except Exception as exc:  # requests, urllib3, ssl, socket: never chained (URLs, tokens)
            failure = self._failure(exc, record)
        finally:
            stop_recording(token)
            if watch is not None:
                watchdog.disarm(watch)
        if failure is not None:
            timed_out = failure.reason in ("read_timeout", "connect_timeout", "reset",
                                           "truncated", "other")
            if watch is not None and (watch.expired or (
                    timed_out and end is not None and time.monotonic() >= end - 0.01)):
                failure = TransportError(
                    f"the operation's deadline passed while talking to {self._where} "
                    f"({failure.message})", request_sent=record.sent, reason="deadline",
                    provider=self.provider)
            raise failure
        assert reply is not None
        if reply.status == 429 and self.rate_limit_errors:
            raise rate_limited(reply, self.provider)
        return reply

    def _exchange(self, request: WireRequest, timeouts: tuple[float, float]) -> WireReply:
        url = (request.base.rstrip("/") if request.base else self.base_url) + request.path
        form, files = request.data, None
        if request.multipart:
            form, files = None, {k: (None, str(v)) for k, v in (request.data or {}).items()}
        response = self.session.request(
            request.method, url, params=request.params, json=request.json, data=form,
            files=files, headers=request.headers, timeout=timeouts, stream=True,
            allow_redirects=False)
        try:
            if 300 <= response.status_code < 400 and response.status_code != 304:
                raise self._redirect(response)
            body = self._read_body(response)
        finally:
            response.close()
        reply = WireReply(response.status_code, response.headers, body)
        if log.isEnabledFor(logging.DEBUG):  # redacting costs; only when someone will read it
            log.debug("%s %s -> HTTP %s (%d bytes)", request.method, redact(response.url),
                      reply.status, len(body))
        return reply

    def _read_body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_reply_bytes:
            raise self._too_large(f"it announced {int(declared):,} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise self._too_large(f"more than {self.max_reply_bytes:,} bytes arrived")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, what: str) -> TransportError:
        return TransportError(
            f"the reply from {self._where} is larger than max_reply_bytes="
            f"{self.max_reply_bytes:,} ({what}); it was not read. Raise the max_reply_bytes "
            "option if this provider really sends such replies",
            request_sent=True, reason="too_large", provider=self.provider)

    def _redirect(self, response: requests.Response) -> TransportError:
        return redirect_error(response.status_code, response.headers.get("Location", ""),
                              self._where, self.provider)

    def _failure(self, exc: BaseException, record: SendRecord) -> TransportError:
        reason, text = _describe(exc, record, self._where)
        return TransportError(text, request_sent=record.sent, reason=reason,
                              provider=self.provider)

    def close(self) -> None:
        self._closed.set()
        self.session.close()


def redirect_error(status: int, location: str, where: str, provider: str) -> TransportError:
    """The error for a 3xx: it names the status and the host pointed to, never a path or query
    (they can hold tokens), and says why it is not followed."""
    try:
        target = urlsplit(location)
        host = target.hostname
        shown = (f"{target.scheme}://{redact(host)}" + (f":{target.port}" if target.port
                                                        else "")) if host else "this host"
    except ValueError:
        shown = "an unreadable address"
    return TransportError(
        f"{where} answered HTTP {status}, a redirect to {shown}; redirects are never followed "
        "(the request, its body and its credentials would go to an address the configuration "
        "did not name). Check the configured scheme, host, port and path",
        request_sent=True, reason="redirect", provider=provider)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it wraps (requests' args, urllib3's reason, causes)."""
    seen: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__,
                 *(a for a in item.args if isinstance(a, BaseException))]
    return seen


def handshake_problem(chain: list[BaseException], where: str) -> str:
    """What a failed TLS handshake means for the user (both drivers say it alike)."""
    text = " ".join(str(e) for e in chain).lower()
    if "wrong version number" in text or "record layer failure" in text or \
            "packet length too long" in text or "http request" in text:
        return (f"{where} does not speak TLS on this port; if it serves plain HTTP, set the "
                "option scheme=http")
    if "certificate" in text:
        return (f"the certificate of {where} was not accepted; give its CA bundle with the "
                "option ca=PATH (or fix the host name)")
    return f"the TLS handshake with {where} failed"


def _describe(exc: BaseException, record: SendRecord, where: str) -> tuple[TransportReason, str]:
    """A reason and a sentence a person can act on, from what the socket layer raised."""
    chain = _chain(exc)

    def has(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    if record.head_cut or has(IncompleteHead):
        return "truncated", f"{where} closed the connection inside the reply's headers"
    if has(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return "dns", f"could not connect: the host of {where} does not resolve (check the host)"
    if not record.sent and (has(ConnectionRefusedError) or (
            has(urllib3.exceptions.NewConnectionError) and not has(TimeoutError))):
        return "refused", (f"could not connect to {where}: the connection was refused (is the "
                           "host and port right, and the service up?)")
    if has(requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError):
        return "connect_timeout", (f"could not connect to {where} within the connect timeout")
    if has(requests.exceptions.ProxyError, urllib3.exceptions.ProxyError):
        return "proxy", "the configured proxy refused or failed the connection"
    if has(ssl.SSLError, requests.exceptions.SSLError):
        if record.sent:
            return "reset", (f"the TLS connection to {where} broke while the reply was read; "
                             "the request had been sent")
        return "tls", handshake_problem(chain, where)
    if has(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError,
           TimeoutError, socket.timeout):
        if not record.sent:
            return "connect_timeout", f"no connection to {where} within the connect timeout"
        return "read_timeout", f"{where} sent no answer within the read timeout"
    if has(requests.exceptions.ChunkedEncodingError, http.client.IncompleteRead,
           urllib3.exceptions.IncompleteRead):
        return "truncated", f"the reply from {where} ended before its announced length"
    if has(requests.exceptions.ContentDecodingError):
        return "malformed", f"the reply from {where} could not be decoded"
    if has(ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
           urllib3.exceptions.ProtocolError, requests.exceptions.ConnectionError):
        if record.sent:
            return "reset", f"the connection to {where} broke before a complete reply"
        return "refused", f"the connection to {where} closed before the request was sent"
    if has(requests.exceptions.InvalidURL, urllib3.exceptions.LocationParseError,
           requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema):
        return "other", "the request could not be built (an invalid URL or header)"
    return "other", f"the exchange with {where} failed ({type(exc).__name__})"


def wrap_unexpected(exc: Exception, *, provider: str, operation: str) -> TelephonyError:
    """A provider raised something that is not ours after a request was sent: most often a
    reply of the wrong shape. The request reached the provider, so "may have happened"."""
    return MalformedReply(f"the provider's reply could not be read ({type(exc).__name__}: "
                          f"{redact(exc)})", provider=provider, operation=operation)

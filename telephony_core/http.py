"""The one requests-based transport every HTTP provider uses, and the HttpProvider base class.

One :class:`requests.Session` per client (connection reuse, thread-safe pool). Every request
gets a (connect, read) timeout bounded by the operation's deadline. Failures come out as typed
errors that say whether the request may have left (``TransportError.request_sent``), which is
what the retry policy in :mod:`telephony_core.retry` decides on. Exception messages and log
lines pass through :func:`~telephony_core.redaction.redact`, and requests' own exceptions are
not chained (their text holds the URL with its token).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .catalogue import Operation
from .config import ProviderConfig, is_loopback
from .errors import RateLimited, TelephonyError, TransportError
from .provider import Provider, ProviderSpec
from .redaction import get_logger, install_log_filter, redact
from .retry import deadline_remaining

__all__ = ["HttpProvider", "HttpTransport", "MalformedReply", "Route", "WireReply", "WireRequest"]

log = get_logger("telephony_core.http")
install_log_filter()


class MalformedReply(TransportError):
    """The provider answered, but the reply could not be read (truncated, not JSON, wrong shape).

    The request did reach the provider, so this counts as "may have happened"."""

    def __init__(self, message: str, **kw):
        super().__init__(message, request_sent=True, **kw)


@attrs.frozen
class WireRequest:
    """One HTTP request as a provider wants it sent. ``path`` is joined to the base URL."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    #: send ``data`` as multipart/form-data (what PHP's curl sends for an array) instead of
    #: application/x-www-form-urlencoded
    multipart: bool = False

    def with_params(self, **params: Any) -> WireRequest:
        return attrs.evolve(self, params={**(self.params or {}), **params})

    def with_headers(self, headers: Mapping[str, str]) -> WireRequest:
        return attrs.evolve(self, headers={**(self.headers or {}), **headers})


@attrs.frozen
class WireReply:
    status: int
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise MalformedReply(f"the reply (HTTP {self.status}) is not valid JSON") from None


def _never_left(exc: requests.RequestException) -> bool:
    """True when the failure proves the request was not sent (so re-sending is safe)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(exc, requests.exceptions.ProxyError):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        return isinstance(inner, urllib3.exceptions.NewConnectionError |
                          urllib3.exceptions.NameResolutionError |
                          urllib3.exceptions.ConnectTimeoutError)
    return False


class HttpTransport:
    """Sends :class:`WireRequest`\\ s to one base URL with the client's TLS and timeout settings."""

    def __init__(self, base_url: str, *, verify: bool | str = True, timeout: float = 10.0,
                 connect_timeout: float = 5.0, pool_size: int = 32, provider: str = "http"):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.provider = provider
        self.session = requests.Session()
        self.session.verify = verify
        self.session.trust_env = False  # proxies from the environment are an explicit choice
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._closed = threading.Event()

    @classmethod
    def from_config(cls, config: ProviderConfig, *, default_port: int | None = None,
                    base_path: str = "", base_url: str | None = None) -> HttpTransport:
        """Build the transport from the common options (scheme, ca, insecure, timeouts).

        ``base_url`` replaces scheme, host and port, for a provider whose API spans two hosts.
        """
        host = config.get("host")
        scheme = config.get("scheme", "https")
        port = config.get("port", default_port)
        if scheme == "http" and not is_loopback(host):
            log.warning("provider %s: plain http to %s sends credentials unencrypted",
                        config.provider, host)
        verify: bool | str = True
        if config.get("insecure"):
            log.warning("provider %s: TLS certificate verification is OFF (insecure=true)",
                        config.provider)
            verify = False
        elif config.get("ca"):
            verify = str(config["ca"])
        netloc = f"[{host}]" if host and ":" in host else host
        base = f"{scheme}://{netloc}" + (f":{port}" if port else "")
        base = base_url or base + (config.get("path") or base_path)
        return cls(base, verify=verify,
                   timeout=float(config.get("timeout", 10)),
                   connect_timeout=float(config.get("connect_timeout", 5)),
                   provider=config.provider)

    def _timeouts(self) -> tuple[float, float]:
        left = deadline_remaining()
        if left is not None and left <= 0:
            raise TransportError("the operation's deadline passed before the request was sent",
                                 provider=self.provider)
        if left is None:
            return self.connect_timeout, self.timeout
        return min(self.connect_timeout, left), min(self.timeout, left)

    def send(self, request: WireRequest) -> WireReply:
        """Send once. Raises TransportError (with ``request_sent``) or RateLimited."""
        if self._closed.is_set():
            raise TransportError("the client is closed", provider=self.provider)
        url = self.base_url + request.path
        try:
            form, files = request.data, None
            if request.multipart:
                form, files = None, {k: (None, str(v)) for k, v in (request.data or {}).items()}
            response = self.session.request(
                request.method, url, params=request.params, json=request.json,
                data=form, files=files, headers=request.headers, timeout=self._timeouts())
            body = response.content
        except requests.RequestException as exc:
            sent = not _never_left(exc)
            what = "could not connect" if not sent else "no usable answer"
            raise TransportError(f"{what}: {type(exc).__name__}: {redact(exc)}",
                                 request_sent=sent, provider=self.provider) from None
        reply = WireReply(response.status_code, response.headers, body)
        if log.isEnabledFor(logging.DEBUG):  # redacting costs; only when someone will read it
            log.debug("%s %s -> HTTP %s (%d bytes)", request.method, redact(response.url),
                      reply.status, len(body))
        if reply.status == 429:
            raise RateLimited("the provider is rate-limiting requests (HTTP 429)",
                              retry_after=_retry_after(reply.headers), provider=self.provider)
        return reply

    def close(self) -> None:
        self._closed.set()
        self.session.close()


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from PBXs; fall back to our own backoff


@attrs.frozen
class Route:
    """How one operation maps to the wire: build the request, read the reply."""

    to_request: Callable[[Any, dict[str, Any]], WireRequest]
    from_reply: Callable[[Any, Any, dict[str, Any]], Any]


class HttpProvider(Provider):
    """Base for providers that speak HTTP: declare ``routes`` and override the hooks you need.

    * :meth:`authorize` adds credentials to each request (a token in the query, a header...);
    * :meth:`decode` turns a :class:`WireReply` into data and raises the provider's typed
      errors (its error-code table lives here);
    * a route's ``from_reply`` builds the canonical result from that data.

    An operation that needs more than one request (or a login) overrides :meth:`invoke` or
    registers a ``Route`` whose ``to_request`` is replaced by calling :meth:`call` directly.
    """

    routes: ClassVar[Mapping[str, Route]] = {}
    default_port: ClassVar[int | None] = None
    base_path: ClassVar[str] = ""

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        super().__init__(spec, config)
        self.transport = HttpTransport.from_config(
            config, default_port=self.default_port, base_path=self.base_path)

    def invoke(self, op: Operation, payload: dict[str, Any]) -> Any:
        route = self.routes[op.name]
        data = self.call(route.to_request(self, payload), op)
        return route.from_reply(self, data, payload)

    def call(self, request: WireRequest, op: Operation | None = None) -> Any:
        """Authorize, send once and decode; the retry loop lives above, in the facade."""
        reply = self.transport.send(self.authorize(request))
        return self.decode(reply, op)

    def authorize(self, request: WireRequest) -> WireRequest:
        return request

    def decode(self, reply: WireReply, op: Operation | None) -> Any:
        """Default: 2xx JSON is data; 401/403 authentication; 5xx transient; 4xx invalid."""
        from .errors import AuthenticationError, ProviderError

        if reply.status in (401, 403):
            raise AuthenticationError(f"the provider refused the credentials (HTTP {reply.status})")
        if reply.status >= 500:
            raise ProviderError(f"the provider failed (HTTP {reply.status})", code="server_error",
                                category="transient", vendor_code=str(reply.status))
        if reply.status >= 400:
            raise ProviderError(f"the provider refused the request (HTTP {reply.status})",
                                code="rejected", category="invalid", vendor_code=str(reply.status))
        return reply.json() if reply.body else None

    def close(self) -> None:
        self.transport.close()


def wrap_unexpected(exc: Exception, *, provider: str, operation: str) -> TelephonyError:
    """A provider raised something that is not ours: most often a reply of the wrong shape."""
    return MalformedReply(f"the provider's reply could not be read ({type(exc).__name__}: "
                          f"{redact(exc)})", provider=provider, operation=operation)

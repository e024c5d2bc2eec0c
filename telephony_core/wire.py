"""What a provider speaks: wire requests and replies, and the sans-IO provider contract.

A provider never sends anything (the shape of h11 and wsproto). It turns a canonical payload into
the :class:`WireRequest`\\ s it needs and the :class:`WireReply`\\ s into a result or a typed
error; a *driver* (the requests one for :class:`~telephony_core.Client`, the httpx one for
:class:`~telephony_core.AsyncClient`) does the sending. So one provider serves both clients, and
nothing here imports an HTTP library.

An operation is either

* a :class:`Route`: a pair of pure functions, ``to_request(provider, payload)`` and
  ``from_reply(provider, data, payload)`` (``data`` is what :meth:`HttpProvider.decode` made of
  the reply); or
* an :class:`Exchange`: a generator function ``(provider, payload)`` that yields
  ``WireRequest``\\ s, receives each ``WireReply`` (undecoded: call ``provider.decode``), and
  returns the result. Use it for operations that need several requests (a lookup, then the
  command). A request that fails to send raises its ``TransportError`` at the ``yield``: catch
  it to clean up (hang up a first leg) and re-raise, or let it pass.

Sessions (a login that yields a token, renewal, keepalive, logout) are declared by the provider
and run by the core (:mod:`telephony_core.session`), single flight, for both clients.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, final
from urllib.parse import urlsplit

import attrs

from .errors import (
    AuthenticationError,
    ProviderError,
    RateLimited,
    TelephonyError,
    TransportError,
)
from .provider import Provider, ProviderSpec

if TYPE_CHECKING:
    from .catalogue import Operation
    from .config import ProviderConfig
    from .http import HttpTransport

__all__ = [
    "Exchange",
    "HttpProvider",
    "MalformedReply",
    "OneRequest",
    "Route",
    "Token",
    "TransportSettings",
    "WireReply",
    "WireRequest",
]


class MalformedReply(TransportError):
    """The provider answered, but the reply could not be read (truncated, not JSON, wrong shape).

    The request did reach the provider, so this counts as "may have happened"."""

    def __init__(self, message: str, *, provider: str | None = None,
                 operation: str | None = None) -> None:
        super().__init__(message, request_sent=True, reason="malformed", provider=provider,
                         operation=operation)


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
    #: another base URL for APIs that span two hosts (TeleCMI's live actions): always one the
    #: provider built from its configuration, never from a payload
    base: str | None = None

    def with_params(self, **params: Any) -> WireRequest:
        # the constructor, not attrs.evolve: a session attaches its token to every request,
        # and evolve introspects the class each time
        return WireRequest(self.method, self.path, {**(self.params or {}), **params},
                           self.json, self.data, self.headers, self.multipart, self.base)

    def with_headers(self, headers: Mapping[str, str]) -> WireRequest:
        return WireRequest(self.method, self.path, self.params, self.json, self.data,
                           {**(self.headers or {}), **headers}, self.multipart, self.base)


#: the scanner of the decoder ``json.loads`` uses: ``(value, end)`` of the JSON at an index
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


@attrs.frozen
class WireReply:
    status: int
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        body = self.body
        try:
            if body.startswith((b"{", b"[")) and body[1:2] != b"\x00":
                # json.loads(body) for the shape every API replies with, in one call instead
                # of four (this runs on every reply): UTF-8, as json.loads detects it for a
                # body that starts so (no BOM, no UTF-16/32 null byte), then the decoder's own
                # scanner, and only JSON whitespace after the value, as json.loads requires
                text = body.decode("utf-8", "surrogatepass")
                data, end = _scan_json(text, 0)
                if end == len(text) or not text[end:].strip(" \t\n\r"):
                    return data
                raise ValueError("extra data after the JSON value")
            return json.loads(body)
        except (ValueError, StopIteration):  # the scanner raises StopIteration on no value
            raise MalformedReply(f"the reply (HTTP {self.status}) is not valid JSON") from None

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), default)


@attrs.frozen
class Route:
    """How one operation maps to the wire: build the request, read the reply."""

    to_request: Callable[[Any, dict[str, Any]], WireRequest]
    from_reply: Callable[[Any, Any, dict[str, Any]], Any]


@final
class OneRequest:
    """An exchange of exactly one request, as a value instead of a generator.

    ``request`` is sent (the session's token attached, re-sent once after a dead-token reply,
    as for any exchange) and ``read(reply)`` turns the undecoded reply into the result or
    raises. A failure to send propagates, as it would out of a generator exchange that does not
    catch it. It behaves exactly like the generator ``reply = yield request; return
    read(reply)``, and costs less: most operations are one request, and a generator (or two,
    with ``yield from``) per operation is measurable on a fast network (docs/performance.md).
    A :class:`Route` becomes one; an :data:`Exchange` may return one when its payload needs a
    single request (Yeastar's ``hold`` of ``ext:1000``) and a generator when it needs more
    (``hold`` of ``call:ID``, which first looks the call up).
    """

    __slots__ = ("read", "request")

    def __init__(self, request: WireRequest, read: Callable[[WireReply], Any]) -> None:
        self.request = request
        self.read = read

    def __repr__(self) -> str:
        return f"OneRequest({self.request.method} {self.request.path})"


#: A multi-request operation: ``(provider, payload)`` -> a generator that yields WireRequests,
#: receives WireReplies and returns the canonical result (or a :class:`OneRequest`, when this
#: payload needs only one request).
Exchange = Callable[[Any, dict[str, Any]],
                    Generator[WireRequest, WireReply, Any] | OneRequest]


@attrs.frozen
class Token:
    """What a login yields: the value requests carry, how long it lives, what else is secret.

    ``expires_in`` (seconds) lets the core renew the session before it expires; ``secrets``
    are values learnt at login (a session id, a refresh token) to redact besides ``value``.
    ``refresh`` is what the provider's :meth:`HttpProvider.refresh` may use to renew without
    the credentials (an OAuth-style refresh token).
    """

    value: str = attrs.field(repr=False)
    expires_in: float | None = None
    refresh: str | None = attrs.field(default=None, repr=False)
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)


@attrs.frozen
class TransportSettings:
    """What a driver needs from the common options: where, TLS, timeouts, proxy, size cap."""

    base_url: str
    verify: bool | str = True
    timeout: float = 10.0
    connect_timeout: float = 5.0
    max_reply_bytes: int = 4 * 1024 * 1024
    proxy: str | None = attrs.field(default=None, repr=False)
    trust_env: bool = False
    provider: str = "http"

    @classmethod
    def from_config(cls, config: ProviderConfig, *, default_port: int | None = None,
                    base_path: str = "", base_url: str | None = None) -> TransportSettings:
        """``base_url`` replaces scheme, host and port, for a provider whose API spans two
        hosts."""
        import warnings

        from .config import is_loopback
        from .errors import InsecureTransportWarning

        host = config.get("host")
        scheme = config.get("scheme", "https")
        port = config.get("port", default_port)
        target = urlsplit(base_url).hostname if base_url else host
        plain = (base_url or "").startswith("http://") or (not base_url and scheme == "http")
        if plain and not is_loopback(target):
            warnings.warn(f"provider {config.provider}: plain http to {target} sends "
                          "credentials unencrypted", InsecureTransportWarning, stacklevel=7)
        verify: bool | str = True
        if config.get("insecure"):
            warnings.warn(f"provider {config.provider}: TLS certificate verification is OFF "
                          "(insecure=true)", InsecureTransportWarning, stacklevel=7)
            verify = False
        elif config.get("ca"):
            verify = str(config["ca"])
        netloc = f"[{host}]" if host and ":" in host else host
        base = f"{scheme}://{netloc}" + (f":{port}" if port else "")
        base = base_url or base + (config.get("path") or base_path)
        return cls(base.rstrip("/"), verify=verify,
                   timeout=float(config.get("timeout", 10)),
                   connect_timeout=float(config.get("connect_timeout", 5)),
                   max_reply_bytes=int(config.get("max_reply_bytes", 4 * 1024 * 1024)),
                   proxy=config.secret("proxy"), trust_env=bool(config.get("trust_env", False)),
                   provider=config.provider)


class HttpProvider(Provider):
    """Base for providers that speak HTTP. Declare ``routes`` (a :class:`Route` or an
    :data:`Exchange` per operation) and override the hooks you need:

    * :meth:`decode` turns a :class:`WireReply` into data and raises the provider's typed errors
      (its error-code table lives here);
    * :meth:`authorize` adds what every request carries besides a session token (a static key);
    * for a session: :meth:`login` (an exchange returning a :class:`Token`), :meth:`attach`,
      :meth:`token_is_dead`, and optionally :meth:`refresh`, :meth:`keepalive` with
      ``keepalive_every``, and :meth:`logout`.

    Nothing here sends: the client's driver does, so the same provider serves the sync and the
    async client. ``plugin_api`` on the spec says which contract a provider follows: 2 is this
    one; 1 (the first contract, where a provider sent through ``self.transport``) still works
    with the sync client only.
    """

    routes: ClassVar[Mapping[str, Route | Exchange]] = {}
    default_port: ClassVar[int | None] = None
    base_path: ClassVar[str] = ""
    #: seconds between keepalive requests, when the provider declares :meth:`keepalive`
    keepalive_every: ClassVar[float | None] = None
    #: renew a session this many seconds before its token expires
    renew_margin: ClassVar[float] = 30.0
    #: set by the client that made this provider: ``runner(exchange)`` drives a provider
    #: extra's exchange through that client's driver and session (the result on the sync
    #: client, an awaitable on the async one); see ``Client.run_exchange``
    runner: Callable[[Generator[WireRequest, WireReply, Any]], Any] | None = None

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        super().__init__(spec, config)
        self.settings: TransportSettings = TransportSettings.from_config(
            config, default_port=self.default_port, base_path=self.base_path)
        if spec.plugin_api < 2:  # the first contract sent through self.transport
            from .http import HttpTransport

            self.transport: HttpTransport = HttpTransport(self.settings)

    # -- the operation ---------------------------------------------------------------------

    def exchange(self, op: Operation, payload: dict[str, Any]
                 ) -> Generator[WireRequest, WireReply, Any] | OneRequest:
        """The operation as a sans-IO exchange (what the drivers run): a generator, or a
        :class:`OneRequest` for a :class:`Route` and for an Exchange that returns one."""
        route = self.routes[op.name]
        if isinstance(route, Route):
            from_reply = route.from_reply

            def read(reply: WireReply) -> Any:
                return from_reply(self, self.decode(reply, op), payload)

            return OneRequest(self.authorize(route.to_request(self, payload)), read)
        return _authorized(self, route(self, payload))

    def authorize(self, request: WireRequest) -> WireRequest:
        """Add what every request carries besides a session token (a static API key)."""
        return request

    def decode(self, reply: WireReply, op: Operation | None) -> Any:
        """Default: 2xx JSON is data; 429 RateLimited (with Retry-After); 401/403
        authentication; 5xx transient; 4xx invalid. A provider whose vendor sends its own
        rate-limit header reads it in its decode and raises RateLimited(retry_after=...)."""
        if reply.status == 429:
            raise rate_limited(reply)
        if reply.status in (401, 403):
            raise AuthenticationError(f"the provider refused the credentials (HTTP {reply.status})")
        if reply.status >= 500:
            raise ProviderError(f"the provider failed (HTTP {reply.status})", code="server_error",
                                category="transient", vendor_code=str(reply.status))
        if reply.status >= 400:
            raise ProviderError(f"the provider refused the request (HTTP {reply.status})",
                                code="rejected", category="invalid", vendor_code=str(reply.status))
        return reply.json() if reply.body else None

    def basic_auth(self, user: str, secret: str) -> dict[str, str]:
        """An HTTP Basic ``Authorization`` header, with the secret *and* its encoded form
        registered as secrets, so neither shows in a log, repr or error (base64 of
        ``user:secret`` does not contain base64 of the secret alone)."""
        import base64

        token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
        self.add_secret(secret)
        self.add_secret(token)
        return {"Authorization": f"Basic {token}"}

    # -- a session (declare these; the core runs them) -------------------------------------

    #: True when the provider declares a session (overrides :meth:`login`)
    @property
    def has_session(self) -> bool:
        return type(self).login is not HttpProvider.login

    def login(self) -> Generator[WireRequest, WireReply, Token]:
        """Log in: yield the requests, receive the replies, return the :class:`Token`. Raise
        AuthenticationError when the credentials are refused: the core never retries that
        (PBXs lock an address out after a few refused logins)."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this a generator

    def refresh(self, token: Token) -> Generator[WireRequest, WireReply, Token] | None:
        """Renew ``token`` without the credentials (a refresh token); None: log in again."""
        return None

    def attach(self, request: WireRequest, token: Token) -> WireRequest:
        """Put the session token on ``request``. Default: ``Authorization: Bearer``."""
        return request.with_headers({"Authorization": f"Bearer {token.value}"})

    def token_is_dead(self, reply: WireReply) -> bool:
        """Does ``reply`` say the session token expired (so one new login and a re-send)?
        Default: HTTP 401. Such a reply proves the request was refused, not acted on."""
        return reply.status == 401

    def keepalive(self, token: Token) -> WireRequest | None:
        """A request that keeps the session alive, sent every ``keepalive_every`` seconds."""
        return None

    def logout(self, token: Token) -> WireRequest | None:
        """A request that ends the session, sent once when the client closes."""
        return None

    def close(self) -> None:
        transport = getattr(self, "transport", None)
        if transport is not None:
            transport.close()

    # -- the first contract (plugin_api 1), sync only ----------------------------------------

    def invoke(self, op: Operation, payload: dict[str, Any]) -> Any:
        """Plugin API 1: one request through ``self.call`` (sync only)."""
        route = self.routes[op.name]
        if not isinstance(route, Route):
            raise TypeError("an Exchange route needs plugin_api 2")
        data = self.call(route.to_request(self, payload), op)
        return route.from_reply(self, data, payload)

    def call(self, request: WireRequest, op: Operation | None = None) -> Any:
        """Plugin API 1: authorize, send once and decode (its transport raises RateLimited on
        429 itself, as it always did)."""
        reply = self.transport.send(self.authorize(request))
        return self.decode(reply, op)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), else None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def rate_limited(reply: WireReply, provider: str | None = None) -> RateLimited:
    """HTTP 429 as RateLimited, with the wait Retry-After asks for."""
    return RateLimited("the provider is rate-limiting requests (HTTP 429)",
                       retry_after=retry_after(reply.headers), provider=provider)


def _authorized(provider: HttpProvider, exchange: Generator[WireRequest, WireReply, Any]
                | OneRequest) -> Generator[WireRequest, WireReply, Any] | OneRequest:
    """``exchange`` with its requests passed through ``provider.authorize`` (as it is when the
    provider adds nothing to requests: no wrapper generator per operation)."""
    if type(provider).authorize is HttpProvider.authorize:
        return exchange
    if isinstance(exchange, OneRequest):
        return OneRequest(provider.authorize(exchange.request), exchange.read)
    return _authorized_steps(provider, exchange)


def _authorized_steps(provider: HttpProvider,
                      exchange: Generator[WireRequest, WireReply, Any]) -> Generator[
                          WireRequest, WireReply, Any]:
    """A generator exchange whose requests pass through ``provider.authorize``."""
    try:
        request = next(exchange)
        while True:
            try:
                reply = yield provider.authorize(request)
            except TelephonyError as exc:  # a failed send goes on to the provider's exchange
                request = exchange.throw(exc)
                continue
            request = exchange.send(reply)
    except StopIteration as stop:
        return stop.value

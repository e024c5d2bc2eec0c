"""Sessions, run by the core for every provider that declares one (login, renewal, keepalive,
logout), and the loop that drives a provider's sans-IO exchanges through a transport.

Written once for both clients: :class:`SyncSession` (threads) and :class:`AsyncSession` (tasks)
share the bookkeeping in :class:`_Bookkeeping` and differ only where they wait and send.

The rules, whichever client:

* single flight: N threads or tasks meeting a missing or expired token cause one login;
* renewal before expiry (``renew_margin`` seconds), by ``refresh`` where the provider has one;
* a reply the provider calls a dead token causes one new login and one re-send of that request
  (the reply proves the request was refused, not acted on); at most once per operation: a second
  dead-token reply goes to the provider's ``decode``, which raises its own error;
* a refused login is never retried automatically: for ``LOGIN_COOLDOWN`` seconds operations fail
  at once with the same AuthenticationError (Yeastar locks an address out after five);
* keepalive every ``keepalive_every`` seconds while a token is held; logout once on close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from .context import uncounted
from .errors import AuthenticationError, TelephonyError
from .redaction import get_logger
from .wire import HttpProvider, OneRequest, Token, WireReply, WireRequest

__all__ = ["LOGIN_COOLDOWN", "AsyncSession", "SyncSession", "adrive", "drive"]

log: logging.Logger = get_logger("telephony_core.session")

#: Seconds after a refused login during which no new login is tried.
LOGIN_COOLDOWN = 60.0

Steps = Generator[WireRequest, WireReply, Any]
Exchange = Steps | OneRequest


class _Bookkeeping:
    """What both session kinds keep: the token, when it was had, a refused login."""

    def __init__(self, provider: HttpProvider) -> None:
        self.provider = provider
        self.token: Token | None = None
        self.obtained: float = 0.0
        self.refused: AuthenticationError | None = None
        self.refused_at: float = 0.0
        self.logins: int = 0  # for tests and figures: how many logins really happened

    def take_token(self) -> Token | None:
        """The token, forgotten here (for a logout): a later operation logs in afresh."""
        token, self.token = self.token, None
        return token

    def fresh(self) -> Token | None:
        """The token if it is usable now (not near its expiry)."""
        token = self.token
        if token is None:
            return None
        if token.expires_in is not None:
            margin = min(self.provider.renew_margin, token.expires_in / 2)
            if time.monotonic() >= self.obtained + token.expires_in - margin:
                return None
        return token

    def check_refused(self) -> None:
        if self.refused is not None:
            if time.monotonic() - self.refused_at < LOGIN_COOLDOWN:
                raise AuthenticationError(
                    f"{self.refused.message} (a refused login is not tried again for "
                    f"{LOGIN_COOLDOWN:.0f} s, so the address is not locked out)",
                    provider=self.provider.name)
            self.refused = None

    def keep(self, token: Token) -> Token:
        if not isinstance(token, Token) or not token.value:
            raise AuthenticationError("the login gave no session token",
                                      provider=self.provider.name)
        for value in (token.value, token.refresh, *token.secrets):
            self.provider.add_secret(value)
        self.token, self.obtained = token, time.monotonic()
        self.logins += 1
        return token

    def refuse(self, exc: AuthenticationError) -> None:
        self.refused, self.refused_at = exc, time.monotonic()

    def drop(self, token: Token) -> None:
        if self.token is token:
            self.token = None


def _run_sync(exchange: Steps, send: Callable[[WireRequest], WireReply]) -> Any:
    """Run an exchange. A failure to send is thrown into it at its ``yield``, so a provider can
    clean up (hang up the first leg when the second could not be placed) or let it pass."""
    try:
        request = next(exchange)
        while True:
            try:
                reply = send(request)
            except TelephonyError as exc:
                request = exchange.throw(exc)
                continue
            request = exchange.send(reply)
    except StopIteration as stop:
        return stop.value


async def _run_async(exchange: Steps,
                     send: Callable[[WireRequest], Awaitable[WireReply]]) -> Any:
    """:func:`_run_sync` for the async driver."""
    try:
        request = next(exchange)
        while True:
            try:
                reply = await send(request)
            except TelephonyError as exc:
                request = exchange.throw(exc)
                continue
            request = exchange.send(reply)
    except StopIteration as stop:
        return stop.value


def _keepalive_refused(provider: HttpProvider, reply: WireReply) -> bool:
    """A keepalive reply that calls the token dead, or that the provider's ``decode`` refuses
    (Yeastar's heartbeat errno 20011): the session is not known good, so the token is dropped
    and the next operation logs in, instead of every later request failing."""
    if provider.token_is_dead(reply):
        return True
    try:
        provider.decode(reply, None)
    except Exception:
        log.info("%s: keepalive refused; the next operation logs in", provider.name)
        return True
    return False


class SyncSession(_Bookkeeping):
    """A provider's session for the sync client (threads)."""

    def __init__(self, provider: HttpProvider, send: Callable[[WireRequest], WireReply]):
        super().__init__(provider)
        self._send = send
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def current(self) -> Token:
        token = self.token
        if token is not None and token.expires_in is None:
            return token  # what fresh() says of a token that does not expire, without a call
        token = self.fresh()
        if token is not None:
            return token
        with self._lock:  # single flight: the others wait here, then find the new token
            token = self.fresh()
            if token is None:
                token = self._obtain()
                self._start_keepalive()
            return token

    def _obtain(self) -> Token:
        with uncounted():
            return self._log_in()

    def _log_in(self) -> Token:
        self.check_refused()
        old = self.token
        renew = self.provider.refresh(old) if old is not None else None
        if renew is not None:
            try:
                return self.keep(_run_sync(renew, self._send))
            except AuthenticationError:
                log.info("%s: session refresh refused; logging in again", self.provider.name)
        try:
            return self.keep(_run_sync(self.provider.login(), self._send))
        except AuthenticationError as exc:
            self.refuse(exc)
            raise

    def invalidate(self, token: Token) -> None:
        with self._lock:
            self.drop(token)

    def _start_keepalive(self) -> None:
        every = self.provider.keepalive_every
        token = self.token
        if (every and self._keeper is None and token is not None
                and self.provider.keepalive(token) is not None):
            self._keeper = threading.Thread(target=self._keep_alive, args=(every,),
                                            name=f"{self.provider.name}-keepalive", daemon=True)
            self._keeper.start()

    def _keep_alive(self, every: float) -> None:
        while not self._stop.wait(every):
            token = self.token
            request = self.provider.keepalive(token) if token is not None else None
            if token is None or request is None:
                continue
            try:
                reply = self._send(self.provider.attach(request, token))
                if _keepalive_refused(self.provider, reply):
                    self.invalidate(token)
            except TelephonyError as exc:
                log.info("%s: keepalive failed: %s", self.provider.name, exc)

    def close(self) -> None:
        self._stop.set()
        token = self.take_token()
        request = self.provider.logout(token) if token is not None else None
        if token is not None and request is not None:
            with contextlib.suppress(TelephonyError):
                self._send(self.provider.attach(request, token))


class AsyncSession(_Bookkeeping):
    """A provider's session for the async client (tasks on one event loop)."""

    def __init__(self, provider: HttpProvider,
                 send: Callable[[WireRequest], Awaitable[WireReply]]):
        super().__init__(provider)
        self._send = send
        self._lock: asyncio.Lock | None = None
        self._keeper: asyncio.Task[None] | None = None

    async def current(self) -> Token:
        token = self.token
        if token is not None and token.expires_in is None:
            return token  # what fresh() says of a token that does not expire, without a call
        token = self.fresh()
        if token is not None:
            return token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            token = self.fresh()
            if token is None:
                token = await self._obtain()
                self._start_keepalive()
            return token

    async def _obtain(self) -> Token:
        with uncounted():
            return await self._log_in()

    async def _log_in(self) -> Token:
        self.check_refused()
        old = self.token
        renew = self.provider.refresh(old) if old is not None else None
        if renew is not None:
            try:
                return self.keep(await _run_async(renew, self._send))
            except AuthenticationError:
                log.info("%s: session refresh refused; logging in again", self.provider.name)
        try:
            return self.keep(await _run_async(self.provider.login(), self._send))
        except AuthenticationError as exc:
            self.refuse(exc)
            raise

    async def invalidate(self, token: Token) -> None:
        self.drop(token)

    def _start_keepalive(self) -> None:
        every = self.provider.keepalive_every
        token = self.token
        if (every and self._keeper is None and token is not None
                and self.provider.keepalive(token) is not None):
            self._keeper = asyncio.get_running_loop().create_task(self._keep_alive(every))

    async def _keep_alive(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            token = self.token
            request = self.provider.keepalive(token) if token is not None else None
            if token is None or request is None:
                continue
            try:
                reply = await self._send(self.provider.attach(request, token))
                if _keepalive_refused(self.provider, reply):
                    self.drop(token)
            except TelephonyError as exc:
                log.info("%s: keepalive failed: %s", self.provider.name, exc)

    async def aclose(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._keeper
        token = self.take_token()
        request = self.provider.logout(token) if token is not None else None
        if token is not None and request is not None:
            with contextlib.suppress(TelephonyError):
                await self._send(self.provider.attach(request, token))


def _with_session(provider: HttpProvider, request: WireRequest,
                  send: Callable[[WireRequest], WireReply], session: SyncSession,
                  relog: bool) -> tuple[WireReply, bool]:
    """Send ``request`` with the session's token; after a dead-token reply (when ``relog``:
    once per operation), log in again and re-send. The reply, and whether it re-logged."""
    token = session.current()
    reply = send(provider.attach(request, token))
    if relog and provider.token_is_dead(reply):
        session.invalidate(token)
        return send(provider.attach(request, session.current())), True
    return reply, False


def drive(provider: HttpProvider, exchange: Exchange, send: Callable[[WireRequest], WireReply],
          session: SyncSession | None) -> Any:
    """Run one operation's exchange: attach the session, re-login once on a dead token (a
    second dead-token reply goes to the provider's ``decode`` as it is)."""
    if type(exchange) is OneRequest:  # most operations: no generator to step through
        request = exchange.request
        if session is None:
            return exchange.read(send(request))
        # _with_session, inline: this runs on every operation of a provider with a session
        token = session.current()
        reply = send(provider.attach(request, token))
        if provider.token_is_dead(reply):
            session.invalidate(token)
            reply = send(provider.attach(request, session.current()))
        return exchange.read(reply)
    if session is None:
        return _run_sync(exchange, send)
    relog = True

    def send_with_session(request: WireRequest) -> WireReply:
        nonlocal relog
        reply, relogged = _with_session(provider, request, send, session, relog)
        relog = relog and not relogged
        return reply

    return _run_sync(exchange, send_with_session)


async def _awith_session(provider: HttpProvider, request: WireRequest,
                         send: Callable[[WireRequest], Awaitable[WireReply]],
                         session: AsyncSession, relog: bool) -> tuple[WireReply, bool]:
    """:func:`_with_session` for the async driver."""
    token = await session.current()
    reply = await send(provider.attach(request, token))
    if relog and provider.token_is_dead(reply):
        await session.invalidate(token)
        return await send(provider.attach(request, await session.current())), True
    return reply, False


async def _read_one(exchange: OneRequest, reply: Awaitable[WireReply]) -> Any:
    return exchange.read(await reply)


async def _read_one_with_session(provider: HttpProvider, exchange: OneRequest,
                                 send: Callable[[WireRequest], Awaitable[WireReply]],
                                 session: AsyncSession) -> Any:
    reply, _ = await _awith_session(provider, exchange.request, send, session, True)
    return exchange.read(reply)


def adrive(provider: HttpProvider, exchange: Exchange,
           send: Callable[[WireRequest], Awaitable[WireReply]],
           session: AsyncSession | None) -> Awaitable[Any]:
    """:func:`drive` for the async client: the coroutine to await (this function is not one
    itself, so every await of the network passes through one coroutine level fewer)."""
    if type(exchange) is OneRequest:
        if session is None:
            return _read_one(exchange, send(exchange.request))
        return _read_one_with_session(provider, exchange, send, session)
    if session is None:
        return _run_async(exchange, send)
    relog = True

    async def send_with_session(request: WireRequest) -> WireReply:
        nonlocal relog
        reply, relogged = await _awith_session(provider, request, send, session, relog)
        relog = relog and not relogged
        return reply

    return _run_async(exchange, send_with_session)

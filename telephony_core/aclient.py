"""The async client: the same API as :class:`~telephony_core.Client`, as coroutines.

``AsyncClient`` runs the same sans-IO providers through the httpx driver
(:mod:`telephony_core.async_http`), with the same validation, errors, retry policy (asyncio
sleeps) and wall-clock deadline (asyncio timeouts); sessions are single flight across tasks. The
built-in simulator works too (its model is in-process). Providers of plugin API 1, which send
through their own requests transport, work with the sync client only.

    async with telephony_core.connect_async("yeastar://api:SECRET@pbx:8088") as client:
        call = await client.dial("ext:1000", "tel:41000")

Needs the ``async`` extra (``pip install 'telephony-core[async]'``) for HTTP providers.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Generator, Mapping
from typing import Any, Literal, overload

from . import retry
from .catalogue import (
    AckOperation,
    CallRefOperation,
    Kind,
    MusicOnHoldOperation,
    Operation,
)
from .client import _single, resolve_target
from .config import ProviderConfig
from .context import OperationContext, reset_current, serving, set_current
from .errors import ConfigurationError, ProviderBug, TelephonyError
from .facade import Facade
from .provider import FollowUp, ProviderSpec
from .redaction import get_logger
from .results import (
    Ack,
    CallInfo,
    CallRef,
    Direction,
    Event,
    Leg,
    MonitorMode,
    MusicOnHold,
    SmsReceipt,
)
from .session import adrive
from .wire import HttpProvider, OneRequest, WireReply, WireRequest, _authorized

__all__ = ["AsyncClient", "connect_async"]

log: logging.Logger = get_logger("telephony_core.client")


class AsyncClient(Facade):
    """A connection to one provider for asyncio. Create it with :func:`connect_async`."""

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        provider_is_http = spec.http
        if provider_is_http and spec.plugin_api < 2:
            raise ConfigurationError(
                f"provider {spec.name!r} follows plugin API {spec.plugin_api}, which sends "
                "through its own requests transport: use telephony_core.connect() (sync), or a "
                "version of the plugin written for plugin API 2", provider=spec.name)
        super().__init__(spec, config)
        self._transport = None
        self._session = None
        self._stream_ready: Any = None
        provider = self._provider
        if isinstance(provider, HttpProvider):
            self._stream_ready = getattr(provider, "stream_ready", None)
            from .async_http import AsyncHttpTransport
            from .session import AsyncSession

            self._transport = AsyncHttpTransport(provider.settings)
            if provider.has_session:
                self._session = AsyncSession(provider, self._transport.send)
            provider.runner = self.run_exchange
            bind = getattr(provider, "bind_driver", None)
            if callable(bind):  # an event stream's task sends its steps through this client
                bind(self._follow)

    # -- doing things ------------------------------------------------------------------------

    @overload
    async def invoke(self, op: CallRefOperation,
                     payload: Mapping[str, Any] | None = ..., /, *,
                     idempotency_key: str | None = ..., **fields: Any) -> CallRef: ...

    @overload
    async def invoke(self, op: AckOperation,
                     payload: Mapping[str, Any] | None = ..., /, *,
                     idempotency_key: str | None = ..., **fields: Any) -> Ack: ...

    @overload
    async def invoke(self, op: MusicOnHoldOperation,
                     payload: Mapping[str, Any] | None = ..., /, *,
                     idempotency_key: str | None = ..., **fields: Any) -> MusicOnHold: ...

    @overload
    async def invoke(self, op: Literal["send_sms"],
                     payload: Mapping[str, Any] | None = ..., /, *,
                     idempotency_key: str | None = ..., **fields: Any) -> SmsReceipt: ...

    @overload
    async def invoke(self, op: Literal["list_calls"],
                     payload: Mapping[str, Any] | None = ..., /, *,
                     idempotency_key: str | None = ..., **fields: Any) -> list[CallInfo]: ...

    @overload
    async def invoke(self, op: str, payload: Mapping[str, Any] | None = ..., /, *,
                     idempotency_key: str | None = ..., **fields: Any) -> Any: ...

    async def invoke(self, op: str, payload: Mapping[str, Any] | None = None, /, *,
                     idempotency_key: str | None = None, **fields: Any) -> Any:
        """Run operation ``op`` (see :meth:`Client.invoke`)."""
        return await self._perform(*self._prepare(op, payload, fields, idempotency_key))

    async def _perform(self, definition: Operation, body: dict[str, Any],
                       ctx: OperationContext, kind: Kind) -> Any:
        """:meth:`Client._perform`: the first attempt inline, the retry loop only after a
        failure."""
        op = definition.name
        outcome = "ok"
        token = set_current(ctx)
        start = time.monotonic()
        deadline = retry.set_deadline(start + self._policy.deadline)
        try:
            try:
                return await self._attempt(definition, body, ctx)
            except TelephonyError as exc:
                failure = exc  # retried outside the handler: no implicit chain to it
            return await retry.aafter_failure(
                failure, functools.partial(self._attempt, definition, body, ctx), kind,
                self._policy, start=start, provider=self.name, operation=op)
        except TelephonyError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            retry.reset_deadline(deadline)
            reset_current(token)
            if log.isEnabledFor(logging.INFO):
                self._log_outcome(op, start, outcome)

    async def _attempt(self, definition: Operation, body: dict[str, Any],
                       ctx: OperationContext) -> Any:
        ctx.attempt += 1  # ctx.next_attempt(), without the call: this runs on every operation
        ctx.sends = 0
        try:
            provider: Any = self._provider
            if self._transport is None:
                # in-process (the simulator): nothing to await; only HTTP has a transport
                return provider.invoke(definition, body)
            if self._stream_ready is not None:
                # ARI: the Stasis app exists only while its stream is connected
                await self._stream_ready(definition.name)
            return await adrive(provider, provider.exchange(definition, body),
                                self._transport.send, self._session)
        except TelephonyError as exc:
            raise self._sent_before(exc, ctx)._located(self.name, definition.name) from None
        except Exception as exc:
            failure = self._unexpected(exc, definition.name, sent=ctx.sends > 0)
        raise failure

    async def run_exchange(self, exchange: Generator[WireRequest, WireReply, Any]
                           | OneRequest) -> Any:
        """:meth:`Client.run_exchange` for asyncio: a provider extra's exchange, driven once
        through this client's driver and session."""
        if self._closed:
            raise TelephonyError("the client is closed", provider=self.name)
        provider = self._provider
        if self._transport is None or not isinstance(provider, HttpProvider):
            raise TelephonyError("this provider sends nothing (in-process)", provider=self.name)
        return await adrive(provider, _authorized(provider, exchange), self._transport.send,
                            self._session)

    def _run(self, op: str, idempotency_key: str | None, given: dict[str, Any]) -> Any:
        """The typed methods' shared step: not a coroutine itself, so awaiting an operation
        passes through one coroutine level fewer (``invoke``'s is returned as it is)."""
        return self._perform(*self._prepare(op, None, given, idempotency_key, typed=True))

    async def dial(self, caller: str, callee: str, *, auto_answer: bool | None = None,
                   caller_id: str | None = None, permission_extension: str | None = None,
                   reference: str | None = None, idempotency_key: str | None = None) -> CallRef:
        """Ring ``caller`` first, then connect it to ``callee``."""
        return await self._run("dial", idempotency_key, {
            "caller": caller, "callee": callee, "auto_answer": auto_answer, "caller_id": caller_id,
            "permission_extension": permission_extension, "reference": reference})

    async def transfer(self, call: str, to: str, *, leg: Leg | None = None,
                       permission_extension: str | None = None,
                       idempotency_key: str | None = None) -> CallRef:
        """Move a live call (``call:ID`` or ``ext:N``) to ``to`` (blind transfer)."""
        return await self._run("transfer", idempotency_key, {
            "call": call, "to": to, "leg": leg, "permission_extension": permission_extension})

    async def hold(self, call: str, *, leg: Leg | None = None,
                   idempotency_key: str | None = None) -> Ack:
        return await self._run("hold", idempotency_key, {"call": call, "leg": leg})

    async def unhold(self, call: str, *, leg: Leg | None = None,
                     idempotency_key: str | None = None) -> Ack:
        return await self._run("unhold", idempotency_key, {"call": call, "leg": leg})

    async def mute(self, call: str, *, leg: Leg | None = None,
                   idempotency_key: str | None = None) -> Ack:
        return await self._run("mute", idempotency_key, {"call": call, "leg": leg})

    async def unmute(self, call: str, *, leg: Leg | None = None,
                     idempotency_key: str | None = None) -> Ack:
        return await self._run("unmute", idempotency_key, {"call": call, "leg": leg})

    async def hangup(self, call: str, *, leg: Leg | None = None,
                     idempotency_key: str | None = None) -> Ack:
        return await self._run("hangup", idempotency_key, {"call": call, "leg": leg})

    async def monitor(self, supervisor: str, call: str, mode: MonitorMode, *,
                      idempotency_key: str | None = None) -> Ack:
        """``supervisor`` joins ``call`` in ``listen``, ``whisper`` or ``barge`` mode."""
        return await self._run("monitor", idempotency_key, {
            "supervisor": supervisor, "call": call, "mode": mode})

    async def play_prompt(self, to: str, prompts: list[str], *, caller_id: str | None = None,
                          permission_extension: str | None = None, auto_answer: bool | None = None,
                          menu: Mapping[str, str] | None = None, reference: str | None = None,
                          idempotency_key: str | None = None) -> CallRef:
        """Call ``to`` and play ``prompts`` (uploaded names or http(s) URLs) in order."""
        return await self._run("play_prompt", idempotency_key, {
            "to": to, "prompts": prompts, "caller_id": caller_id, "permission_extension":
            permission_extension, "auto_answer": auto_answer, "menu": menu, "reference": reference})

    async def get_music_on_hold(self, scope: Mapping[str, str], *,
                                idempotency_key: str | None = None) -> MusicOnHold:
        return await self._run("get_music_on_hold", idempotency_key, {"scope": scope})

    async def set_music_on_hold(self, scope: Mapping[str, str], *, active: bool | None = None,
                                source: Mapping[str, Any] | None = None,
                                internal_source: Mapping[str, Any] | None = None,
                                use_internal_source: bool | None = None,
                                idempotency_key: str | None = None) -> MusicOnHold:
        """Change only the settings given; ``source={"selection": "custom", "file": None}``
        removes the custom file."""
        return await self._run("set_music_on_hold", idempotency_key, {
            "scope": scope, "active": active, "source": source, "internal_source": internal_source,
            "use_internal_source": use_internal_source})

    async def send_sms(self, to: str, text: str, *, sender: str | None = None,
                       idempotency_key: str | None = None) -> SmsReceipt:
        return await self._run("send_sms", idempotency_key, {
            "to": to, "text": text, "sender": sender})

    async def list_calls(self, *, direction: Direction | None = None, ids: list[str] | None = None,
                         idempotency_key: str | None = None) -> list[CallInfo]:
        return await self._run("list_calls", idempotency_key, {"direction": direction, "ids": ids})

    async def accept_call(self, call: str, *, idempotency_key: str | None = None) -> Ack:
        return await self._run("accept_call", idempotency_key, {"call": call})

    async def reject_call(self, call: str, *, idempotency_key: str | None = None) -> Ack:
        return await self._run("reject_call", idempotency_key, {"call": call})

    # -- events ------------------------------------------------------------------------------

    async def handle_event(self, body: bytes | str | Mapping[str, Any],
                     headers: Mapping[str, str] | None = None, *,
                     url: str | None = None) -> list[Event]:
        """:meth:`parse_event`, then continue the call flows the events belong to.

        A provider whose flows continue on events (answer, then play; on a key, transfer)
        returns the next steps from ``follow_up``; they are sent here, under the operation's
        deadline and retry policy (a step is re-sent only when it carries a key the vendor
        de-duplicates on). The flow's state travels in the call (where the vendor allows), so
        any process receiving the webhook can call this. The first failing step raises.
        """
        events = self.parse_event(body, headers, url=url)
        for event in events:
            try:
                steps = list(self._provider.follow_up(event))
            except TelephonyError as exc:
                raise exc._located(self.name, "handle_event") from None
            except Exception as exc:
                raise self._unexpected(exc, "handle_event", sent=False) from None
            for step in steps:
                await self._follow(step)
        return events

    async def _follow(self, step: FollowUp) -> Any:
        kind = Kind.IDEMPOTENT if step.retry_safe else Kind.NON_IDEMPOTENT
        provider = self._provider
        if not isinstance(provider, HttpProvider):
            raise ProviderBug(f"{self.name} returned a follow-up step but sends no requests",
                              provider=self.name, operation="handle_event")

        ctx = OperationContext("handle_event")
        transport = self._transport
        assert transport is not None  # an HttpProvider always has one here

        async def attempt() -> Any:
            ctx.next_attempt()
            try:
                return await adrive(provider, _single(provider, step.request),
                                    transport.send, self._session)
            except TelephonyError as exc:
                raise exc._located(self.name, "handle_event") from None
            except Exception as exc:
                failure = self._unexpected(exc, "handle_event", sent=ctx.sends > 0)
            raise failure

        with serving(ctx):
            return await retry.arun(attempt, kind, self._policy, provider=self.name,
                                    operation="handle_event")

    def events(self, *, timeout: float | None = None) -> Any:
        """``async for event in client.events()``: the provider's event stream (ARI's WebSocket
        read by a background asyncio task, or the simulator's own events), with the same
        ``system`` gap event after a reconnect and :class:`telephony_core.streams.StreamError`
        when it gave up, as :meth:`telephony_core.Client.events`. Call it inside the running
        event loop."""
        return self._event_source("async_event_stream", timeout)

    # -- lifetime ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Log out and release connections. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            stream_close = getattr(self._provider, "aclose_stream", None)
            if stream_close is not None:
                await stream_close()
            if self._session is not None:
                await self._session.aclose()
            if self._transport is not None:
                await self._transport.aclose()
            self._provider.close()
        except TelephonyError as exc:  # closing must not fail the application's shutdown
            log.warning("%s: closing failed: %s", self.name, exc)
        finally:
            self._provider.forget_secrets()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncClient {self.name} {state} operations={len(self.operations)}>"


def connect_async(target: str | None = None, /, *, profile: str | None = None,
                  config: str | None = None, **options: Any) -> AsyncClient:
    """Create an :class:`AsyncClient`; the same arguments as :func:`telephony_core.connect`.
    No network traffic happens here (so it is not a coroutine)."""
    return AsyncClient(*resolve_target(target, profile=profile, config=config, **options))

"""The facade applications use: one object per configured provider.

``Client`` validates every payload against the provider's schema before any I/O, refuses
undeclared operations, runs the provider under the retry policy of the operation's kind and turns
every failure into the error hierarchy. It holds no per-call state, so one client is safe to share
between threads (the session, when the provider has one, is single flight across threads).
:class:`~telephony_core.AsyncClient` is the same for asyncio.
"""

from __future__ import annotations

import functools
import logging
import threading
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
from .config import ProviderConfig
from .context import OperationContext, reset_current, serving, set_current
from .errors import ProviderBug, TelephonyError
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
from .wire import HttpProvider, OneRequest, WireReply, WireRequest

__all__ = ["Client", "connect", "resolve_target"]

log: logging.Logger = get_logger("telephony_core.client")


class Client(Facade):
    """A connection to one provider. Create it with :func:`telephony_core.connect`."""

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        super().__init__(spec, config)
        self._close_lock = threading.Lock()
        self._transport = None
        self._session = None
        self._drive: Any = None
        provider = self._provider
        if isinstance(provider, HttpProvider) and spec.plugin_api >= 2:
            from .http import HttpTransport
            from .session import SyncSession, drive

            self._transport = HttpTransport(provider.settings, rate_limit_errors=False)
            self._drive = drive
            if provider.has_session:
                self._session = SyncSession(provider, self._transport.send)
            provider.runner = self.run_exchange
            bind = getattr(provider, "bind_driver", None)
            if callable(bind):  # an event stream's reader sends its steps through this client
                bind(self._follow)

    # -- doing things ------------------------------------------------------------------------

    @overload
    def invoke(self, op: CallRefOperation,
               payload: Mapping[str, Any] | None = ..., /, *,
               idempotency_key: str | None = ..., **fields: Any) -> CallRef: ...

    @overload
    def invoke(self, op: AckOperation,
               payload: Mapping[str, Any] | None = ..., /, *,
               idempotency_key: str | None = ..., **fields: Any) -> Ack: ...

    @overload
    def invoke(self, op: MusicOnHoldOperation,
               payload: Mapping[str, Any] | None = ..., /, *,
               idempotency_key: str | None = ..., **fields: Any) -> MusicOnHold: ...

    @overload
    def invoke(self, op: Literal["send_sms"],
               payload: Mapping[str, Any] | None = ..., /, *,
               idempotency_key: str | None = ..., **fields: Any) -> SmsReceipt: ...

    @overload
    def invoke(self, op: Literal["list_calls"],
               payload: Mapping[str, Any] | None = ..., /, *,
               idempotency_key: str | None = ..., **fields: Any) -> list[CallInfo]: ...

    @overload
    def invoke(self, op: str, payload: Mapping[str, Any] | None = ..., /, *,
               idempotency_key: str | None = ..., **fields: Any) -> Any: ...

    def invoke(self, op: str, payload: Mapping[str, Any] | None = None, /, *,
               idempotency_key: str | None = None, **fields: Any) -> Any:
        """Run operation ``op`` with a canonical payload (a mapping and/or keywords).

        ``idempotency_key`` names this logical operation (1-64 letters, digits, ``-_.:``); every
        retry carries the same key. Give your own (derived from your order or campaign item) to
        make a repeat after a crash recognisable; a provider whose vendor takes a key sends it,
        which is what makes its re-sends harmless. Without one, a random key is made.
        """
        return self._perform(*self._prepare(op, payload, fields, idempotency_key))

    def _perform(self, definition: Operation, body: dict[str, Any], ctx: OperationContext,
                 kind: Kind) -> Any:
        """Run a prepared operation under its deadline and retry policy. The first attempt
        runs inline and the retry loop only after a failure: this runs on every operation,
        and most succeed at once."""
        op = definition.name
        outcome = "ok"
        token = set_current(ctx)
        start = time.monotonic()
        deadline = retry.set_deadline(start + self._policy.deadline)
        try:
            try:
                return self._attempt(definition, body, ctx)
            except TelephonyError as exc:
                failure = exc  # retried outside the handler: no implicit chain to it
            return retry.after_failure(
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

    def _attempt(self, definition: Operation, body: dict[str, Any],
                 ctx: OperationContext) -> Any:
        """One attempt: the provider's exchange through the driver and session, its failures
        as the error hierarchy."""
        ctx.attempt += 1  # ctx.next_attempt(), without the call: this runs on every operation
        ctx.sends = 0
        try:
            if self._transport is None:  # plugin API 1 and in-process providers
                return self._provider.invoke(definition, body)
            return self._drive(self._provider, self._provider.exchange(definition, body),
                               self._transport.send, self._session)
        except TelephonyError as exc:
            raise self._sent_before(exc, ctx)._located(self.name, definition.name) from None
        except Exception as exc:
            failure = self._unexpected(exc, definition.name, sent=ctx.sends > 0)
        raise failure

    def run_exchange(self, exchange: Generator[WireRequest, WireReply, Any] | OneRequest
                     ) -> Any:
        """Drive a provider extra's sans-IO exchange (what ``client.provider.EXTRA()`` uses)
        through this client's driver and session, once: no retry, no idempotency key (an extra
        that is safe to repeat says so itself)."""
        if self._closed:
            raise TelephonyError("the client is closed", provider=self.name)
        if self._transport is None:
            raise TelephonyError("this provider sends nothing (plugin API 1 or in-process)",
                                 provider=self.name)
        from .session import drive
        from .wire import _authorized

        return drive(self._provider, _authorized(self._provider, exchange),
                     self._transport.send, self._session)

    def _run(self, op: str, idempotency_key: str | None, given: dict[str, Any]) -> Any:
        """The typed methods' shared step: their keyword arguments are the payload."""
        return self._perform(*self._prepare(op, None, given, idempotency_key, typed=True))

    def dial(self, caller: str, callee: str, *, auto_answer: bool | None = None,
             caller_id: str | None = None, permission_extension: str | None = None,
             reference: str | None = None, idempotency_key: str | None = None) -> CallRef:
        """Ring ``caller`` first, then connect it to ``callee``."""
        return self._run("dial", idempotency_key, {
            "caller": caller, "callee": callee, "auto_answer": auto_answer, "caller_id": caller_id,
            "permission_extension": permission_extension, "reference": reference})

    def transfer(self, call: str, to: str, *, leg: Leg | None = None,
                 permission_extension: str | None = None,
                 idempotency_key: str | None = None) -> CallRef:
        """Move a live call (``call:ID`` or ``ext:N``) to ``to`` (blind transfer)."""
        return self._run("transfer", idempotency_key, {
            "call": call, "to": to, "leg": leg, "permission_extension": permission_extension})

    def hold(self, call: str, *, leg: Leg | None = None,
             idempotency_key: str | None = None) -> Ack:
        return self._run("hold", idempotency_key, {"call": call, "leg": leg})

    def unhold(self, call: str, *, leg: Leg | None = None,
               idempotency_key: str | None = None) -> Ack:
        return self._run("unhold", idempotency_key, {"call": call, "leg": leg})

    def mute(self, call: str, *, leg: Leg | None = None,
             idempotency_key: str | None = None) -> Ack:
        return self._run("mute", idempotency_key, {"call": call, "leg": leg})

    def unmute(self, call: str, *, leg: Leg | None = None,
               idempotency_key: str | None = None) -> Ack:
        return self._run("unmute", idempotency_key, {"call": call, "leg": leg})

    def hangup(self, call: str, *, leg: Leg | None = None,
               idempotency_key: str | None = None) -> Ack:
        return self._run("hangup", idempotency_key, {"call": call, "leg": leg})

    def monitor(self, supervisor: str, call: str, mode: MonitorMode, *,
                idempotency_key: str | None = None) -> Ack:
        """``supervisor`` joins ``call`` in ``listen``, ``whisper`` or ``barge`` mode."""
        return self._run("monitor", idempotency_key, {
            "supervisor": supervisor, "call": call, "mode": mode})

    def play_prompt(self, to: str, prompts: list[str], *, caller_id: str | None = None,
                    permission_extension: str | None = None, auto_answer: bool | None = None,
                    menu: Mapping[str, str] | None = None, reference: str | None = None,
                    idempotency_key: str | None = None) -> CallRef:
        """Call ``to`` and play ``prompts`` (uploaded names or http(s) URLs) in order."""
        return self._run("play_prompt", idempotency_key, {
            "to": to, "prompts": prompts, "caller_id": caller_id, "permission_extension":
            permission_extension, "auto_answer": auto_answer, "menu": menu, "reference": reference})

    def get_music_on_hold(self, scope: Mapping[str, str], *,
                          idempotency_key: str | None = None) -> MusicOnHold:
        return self._run("get_music_on_hold", idempotency_key, {"scope": scope})

    def set_music_on_hold(self, scope: Mapping[str, str], *, active: bool | None = None,
                          source: Mapping[str, Any] | None = None,
                          internal_source: Mapping[str, Any] | None = None,
                          use_internal_source: bool | None = None,
                          idempotency_key: str | None = None) -> MusicOnHold:
        """Change only the settings given; ``source={"selection": "custom", "file": None}``
        removes the custom file."""
        return self._run("set_music_on_hold", idempotency_key, {
            "scope": scope, "active": active, "source": source, "internal_source": internal_source,
            "use_internal_source": use_internal_source})

    def send_sms(self, to: str, text: str, *, sender: str | None = None,
                 idempotency_key: str | None = None) -> SmsReceipt:
        return self._run("send_sms", idempotency_key, {"to": to, "text": text, "sender": sender})

    def list_calls(self, *, direction: Direction | None = None, ids: list[str] | None = None,
                   idempotency_key: str | None = None) -> list[CallInfo]:
        return self._run("list_calls", idempotency_key, {"direction": direction, "ids": ids})

    def accept_call(self, call: str, *, idempotency_key: str | None = None) -> Ack:
        return self._run("accept_call", idempotency_key, {"call": call})

    def reject_call(self, call: str, *, idempotency_key: str | None = None) -> Ack:
        return self._run("reject_call", idempotency_key, {"call": call})

    # -- events ------------------------------------------------------------------------------

    def handle_event(self, body: bytes | str | Mapping[str, Any],
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
                self._follow(step)
        return events

    def _follow(self, step: FollowUp) -> Any:
        kind = Kind.IDEMPOTENT if step.retry_safe else Kind.NON_IDEMPOTENT
        provider = self._provider
        if not isinstance(provider, HttpProvider):
            raise ProviderBug(f"{self.name} returned a follow-up step but sends no requests",
                              provider=self.name, operation="handle_event")

        def send_step() -> Any:
            if self._transport is None:
                return provider.call(step.request)
            from .session import drive

            return drive(provider, _single(provider, step.request), self._transport.send,
                         self._session)

        ctx = OperationContext("handle_event")

        def attempt() -> Any:
            ctx.next_attempt()
            try:
                return send_step()
            except TelephonyError as exc:
                raise exc._located(self.name, "handle_event") from None
            except Exception as exc:
                failure = self._unexpected(exc, "handle_event", sent=ctx.sends > 0)
            raise failure

        with serving(ctx):
            return retry.run(attempt, kind, self._policy, provider=self.name,
                             operation="handle_event")

    def events(self, *, timeout: float | None = None) -> Any:
        """Canonical events from the provider's event stream, as they arrive: ARI's WebSocket,
        or the simulator's own events (collected from ``connect``). A stream that reconnects
        queues a ``system`` event (``data["gap"]``) saying what may have been missed. The
        stream's reader runs in the background whether or not this is iterated (flows continue
        on events); iteration ends after ``timeout`` seconds without an event, and raises
        :class:`telephony_core.streams.StreamError` when the stream gave up. Providers whose
        events arrive only as webhooks have no stream: receive them at ``webhook_url`` and use
        :meth:`parse_event`."""
        return self._event_source("event_stream", timeout)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Log out and release connections. Safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._session is not None:
                self._session.close()
            if self._transport is not None:
                self._transport.close()
            self._provider.close()
        except TelephonyError as exc:  # closing must not fail the application's shutdown
            log.warning("%s: closing failed: %s", self.name, exc)
        finally:
            self._provider.forget_secrets()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Client {self.name} {state} operations={len(self.operations)}>"


def _single(provider: HttpProvider, request: WireRequest) -> OneRequest:
    """A one-request exchange (a flow's follow-up step)."""
    def read(reply: WireReply) -> Any:
        return provider.decode(reply, None)

    return OneRequest(provider.authorize(request), read)


def connect(target: str | None = None, /, *, profile: str | None = None,
            config: str | None = None, **options: Any) -> Client:
    """Create a :class:`Client`.

    * ``connect("yeastar://api:SECRET@pbx.example:8088?ca=/etc/pbx-ca.pem")``: a URL;
    * ``connect("yeastar", host=..., username=..., password=...)``: a name and options;
    * ``connect(profile="office")``: a ``[profiles.office]`` table of the TOML file
      ``config`` (default: ``$TELEPHONY_CONFIG`` or ``~/.config/telephony/config.toml``);
    * ``connect()``: ``$TELEPHONY_URL`` if set, else ``$TELEPHONY_PROFILE``; with neither, a
      ConfigurationError (a typo in a variable must not "succeed" against a simulated PBX:
      ``connect("sim://")`` asks for the simulator).

    Keyword options override what the URL or profile says. No network traffic happens here.
    """
    return Client(*resolve_target(target, profile=profile, config=config, **options))


def resolve_target(target: str | None = None, /, *, profile: str | None = None,
                   config: str | None = None,
                   **options: Any) -> tuple[ProviderSpec, ProviderConfig]:
    """What :func:`connect` and :func:`connect_async` share: the spec and validated config."""
    import os

    from . import registry
    from .config import load_profile, parse_url, resolve

    if target is None and profile is None:
        for variable in ("TELEPHONY_URL", "TELEPHONY_PROFILE"):
            if variable in os.environ and not os.environ[variable].strip():
                from .errors import ConfigurationError

                raise ConfigurationError(f"${variable} is set but empty: give a provider URL "
                                         f"or profile name, or unset it", key=variable)
        if os.environ.get("TELEPHONY_URL"):
            target = os.environ["TELEPHONY_URL"]
        elif os.environ.get("TELEPHONY_PROFILE"):
            profile = os.environ["TELEPHONY_PROFILE"]
        elif not options:
            from .errors import ConfigurationError

            raise ConfigurationError(
                "nothing says which telephony system to use: pass a provider URL "
                "(connect('yeastar://USER:PASSWORD@HOST:PORT')), a name and options, "
                "profile=NAME, or set $TELEPHONY_URL or $TELEPHONY_PROFILE. "
                "connect('sim://') gives the built-in simulator", key="url")
    raw: dict[str, Any] = {}
    if profile is not None:
        if target is not None:
            from .errors import ConfigurationError

            raise ConfigurationError("give a URL/provider name or a profile, not both",
                                     key="profile")
        raw = load_profile(profile, config)
        target = raw.pop("url", None) or raw.pop("provider", None)
        if target is None:
            from .errors import ConfigurationError

            raise ConfigurationError(f"profile {profile!r} has neither 'url' nor 'provider'",
                                     key="profile")
    if target is None:
        from .errors import ConfigurationError

        raise ConfigurationError("connect() with options needs a provider name or URL first",
                                 key="provider")
    if isinstance(target, str) and "://" in target:
        name, from_url = parse_url(target)
        raw = {**from_url, **raw}
    else:
        import re

        if not isinstance(target, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.+-]*", target):
            from .config import masked_url
            from .errors import ConfigurationError

            shown = (repr(target) if isinstance(target, str) and re.fullmatch(
                r"[A-Za-z0-9_.+-]{1,64}", target) else f"the value given ({masked_url(target)})")
            raise ConfigurationError(
                f"{shown} is neither a provider name nor a provider URL: expected "
                "NAME or NAME://[USER:PASSWORD@]HOST[:PORT][?option=value...]", key="url")
        name = target
    spec = registry.get(name)
    return spec, resolve(spec, {**raw, **options})

"""The facade applications use: one object per configured provider.

``Client`` validates every payload against the provider's schema before any I/O, refuses
undeclared operations, runs the provider under the retry policy of the operation's kind and turns
every failure into the error hierarchy. It holds no per-call state, so one client is safe to share
between threads (providers lock what they keep, such as a session token).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from . import retry
from .catalogue import OPERATIONS, Capability, Kind, operation
from .config import ProviderConfig
from .context import OperationContext, check_key, new_key, serving
from .errors import (
    EventError,
    PayloadError,
    PayloadProblem,
    ProviderBug,
    TelephonyError,
    UnsupportedOperation,
)
from .events import body_bytes
from .evidence import tracing
from .provider import FollowUp, ProviderSpec
from .redaction import get_logger, redact
from .results import Ack, CallInfo, CallRef, Event, MusicOnHold, SmsReceipt

__all__ = ["Client"]

log = get_logger("telephony_core.client")

#: The largest webhook/report body parse_event reads (no vendor sends near this much).
MAX_EVENT_BYTES = 1024 * 1024


def _unreadable(exc: Exception) -> str:
    """Say what was wrong with a body from the exception a parser raised, without the body."""
    if isinstance(exc, KeyError):
        return f"the field {redact(exc.args[0] if exc.args else '?')!r} is missing"
    if isinstance(exc, TypeError | AttributeError):
        return "a field has the wrong type (" + type(exc).__name__ + ")"
    if isinstance(exc, ValueError | UnicodeError):
        return "a value could not be read (" + type(exc).__name__ + ")"
    if isinstance(exc, IndexError):
        return "a list is shorter than expected"
    return f"the provider's parser failed ({type(exc).__name__})"


def _scrubbed(exc: BaseException) -> BaseException:
    """The provider's exception, kept for its traceback, with any secret redacted from its
    message and no chain below it (which could hold a requests error with a URL)."""
    exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    return exc


def _fields(**fields: Any) -> dict[str, Any]:
    """The payload from keyword arguments, leaving out the ones not given (None).

    Values are passed as given (a tuple becomes a list, a read-only mapping a dict): the schema
    then refuses a wrong type with a PayloadError naming the field. Converting first would turn
    ``prompts="welcome"`` into seven one-letter prompts, or ``ids=5`` into a TypeError.
    """
    return {k: _plain(v) for k, v in fields.items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    return value


class Client:
    """A connection to one provider. Create it with :func:`telephony_core.connect`."""

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        self.spec = spec
        self.config = config
        self._provider = spec.create(config)
        self._policy = retry.RetryPolicy(retries=int(config.get("retries", 2)),
                                         deadline=float(config.get("deadline", 30)))
        self._closed = False
        self._close_lock = threading.Lock()

    # -- what the provider can do ----------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def provider(self) -> Any:
        """The provider implementation (for provider-specific extras; most code never needs it)."""
        return self._provider

    @property
    def operations(self) -> tuple[str, ...]:
        """The operations this provider declares, in catalogue order."""
        return tuple(name for name in OPERATIONS if name in self.spec.operations)

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.spec.capabilities

    def supports(self, what: str | Capability) -> bool:
        """Does the provider declare this operation, or any operation of this capability?"""
        return self.spec.supports(what)

    def require(self, *capabilities: str | Capability) -> None:
        """Raise :class:`UnsupportedOperation` at once, naming everything missing."""
        missing = [str(c) for c in capabilities if not self.supports(c)]
        if missing:
            raise UnsupportedOperation(
                ", ".join(missing), self.operations, provider=self.name,
                message=f"{self.name} lacks {', '.join(missing)}; it supports: "
                        f"{', '.join(self.operations) or 'nothing'}")

    def schema(self, op: str) -> dict[str, Any]:
        """The JSON Schema this provider accepts for ``op``."""
        return self.spec.schema(op)

    # -- doing things ------------------------------------------------------------------------

    def invoke(self, op: str, payload: Mapping[str, Any] | None = None, /, *,
               idempotency_key: str | None = None, **fields: Any) -> Any:
        """Run operation ``op`` with a canonical payload (a mapping and/or keywords).

        ``idempotency_key`` names this logical operation (1-64 letters, digits, ``-_.:``); every
        retry carries the same key. Give your own (derived from your order or campaign item) to
        make a repeat after a crash recognisable; a provider whose vendor takes a key sends it,
        which is what makes its re-sends harmless. Without one, a random key is made.
        """
        definition = operation(op)
        if self._closed:
            raise TelephonyError("the client is closed", provider=self.name, operation=op)
        if op not in self.spec.operations:
            raise UnsupportedOperation(op, self.spec.operations, provider=self.name)
        if payload is not None and not isinstance(payload, Mapping):
            raise PayloadError([PayloadProblem(
                "$", f"the payload must be an object (a mapping of field names to values), not "
                     f"{type(payload).__name__}")], provider=self.name, operation=op)
        body = {**(dict(payload) if payload is not None else {}), **fields}
        from .schemas import validate

        validate(self.spec.validator(op), body, provider=self.name, operation=op)
        key = (new_key() if idempotency_key is None
               else check_key(idempotency_key, provider=self.name, operation=op))
        tries = 0

        def attempt() -> Any:
            nonlocal tries
            tries += 1
            with serving(OperationContext(op, key, tries)), tracing() as trace:
                try:
                    return self._provider.invoke(definition, body)
                except TelephonyError as exc:
                    raise exc._located(self.name, op) from None
                except Exception as exc:
                    failure = self._unexpected(exc, op, sent=trace.sends > 0)
            raise failure

        kind = Kind.IDEMPOTENT if (definition.kind is Kind.NON_IDEMPOTENT
                                   and op in self._provider.retry_safe) else definition.kind
        return retry.run(attempt, kind, self._policy, provider=self.name, operation=op)

    def _unexpected(self, exc: Exception, op: str, *, sent: bool) -> TelephonyError:
        """A provider raised something that is not a TelephonyError.

        Before its first send it is a bug in the provider: nothing left, so ProviderBug (never
        retried, never OutcomeUnknown), with the original chained for its traceback. After a
        send, most often a reply of an unexpected shape: "may have happened".
        """
        log.debug("%s.%s: unexpected %s from the provider", self.name, op, type(exc).__name__)
        if not sent:
            bug = ProviderBug(
                f"the provider failed before sending anything ({type(exc).__name__}: "
                f"{redact(exc)}); this is a bug in the {self.name} provider, please report it",
                provider=self.name, operation=op)
            bug.__cause__ = _scrubbed(exc)
            return bug
        from .http import wrap_unexpected

        return wrap_unexpected(exc, provider=self.name, operation=op)

    def _run(self, op: str, idempotency_key: str | None, **fields: Any) -> Any:
        return self.invoke(op, _fields(**fields), idempotency_key=idempotency_key)

    def dial(self, caller: str, callee: str, *, auto_answer: bool | None = None,
             caller_id: str | None = None, permission_extension: str | None = None,
             reference: str | None = None, idempotency_key: str | None = None) -> CallRef:
        """Ring ``caller`` first, then connect it to ``callee``."""
        return self._run("dial", idempotency_key, caller=caller, callee=callee,
                         auto_answer=auto_answer, caller_id=caller_id,
                         permission_extension=permission_extension, reference=reference)

    def transfer(self, call: str, to: str, *, leg: str | None = None,
                 permission_extension: str | None = None,
                 idempotency_key: str | None = None) -> CallRef:
        """Move a live call (``call:ID`` or ``ext:N``) to ``to`` (blind transfer)."""
        return self._run("transfer", idempotency_key, call=call, to=to, leg=leg,
                         permission_extension=permission_extension)

    def hold(self, call: str, *, leg: str | None = None,
             idempotency_key: str | None = None) -> Ack:
        return self._run("hold", idempotency_key, call=call, leg=leg)

    def unhold(self, call: str, *, leg: str | None = None,
               idempotency_key: str | None = None) -> Ack:
        return self._run("unhold", idempotency_key, call=call, leg=leg)

    def mute(self, call: str, *, leg: str | None = None,
             idempotency_key: str | None = None) -> Ack:
        return self._run("mute", idempotency_key, call=call, leg=leg)

    def unmute(self, call: str, *, leg: str | None = None,
               idempotency_key: str | None = None) -> Ack:
        return self._run("unmute", idempotency_key, call=call, leg=leg)

    def hangup(self, call: str, *, leg: str | None = None,
               idempotency_key: str | None = None) -> Ack:
        return self._run("hangup", idempotency_key, call=call, leg=leg)

    def monitor(self, supervisor: str, call: str, mode: str, *,
                idempotency_key: str | None = None) -> Ack:
        """``supervisor`` joins ``call`` in ``listen``, ``whisper`` or ``barge`` mode."""
        return self._run("monitor", idempotency_key, supervisor=supervisor, call=call, mode=mode)

    def play_prompt(self, to: str, prompts: list[str], *, caller_id: str | None = None,
                    permission_extension: str | None = None, auto_answer: bool | None = None,
                    menu: Mapping[str, str] | None = None, reference: str | None = None,
                    idempotency_key: str | None = None) -> CallRef:
        """Call ``to`` and play ``prompts`` (uploaded names or http(s) URLs) in order."""
        return self._run("play_prompt", idempotency_key, to=to, prompts=prompts,
                         caller_id=caller_id, permission_extension=permission_extension,
                         auto_answer=auto_answer, menu=menu, reference=reference)

    def get_music_on_hold(self, scope: Mapping[str, str], *,
                          idempotency_key: str | None = None) -> MusicOnHold:
        return self._run("get_music_on_hold", idempotency_key, scope=scope)

    def set_music_on_hold(self, scope: Mapping[str, str], *, active: bool | None = None,
                          source: Mapping[str, Any] | None = None,
                          internal_source: Mapping[str, Any] | None = None,
                          use_internal_source: bool | None = None,
                          idempotency_key: str | None = None) -> MusicOnHold:
        """Change only the settings given; ``source={"selection": "custom", "file": None}``
        removes the custom file."""
        return self._run("set_music_on_hold", idempotency_key, scope=scope, active=active,
                         source=source, internal_source=internal_source,
                         use_internal_source=use_internal_source)

    def send_sms(self, to: str, text: str, *, sender: str | None = None,
                 idempotency_key: str | None = None) -> SmsReceipt:
        return self._run("send_sms", idempotency_key, to=to, text=text, sender=sender)

    def list_calls(self, *, direction: str | None = None, ids: list[str] | None = None,
                   idempotency_key: str | None = None) -> list[CallInfo]:
        return self._run("list_calls", idempotency_key, direction=direction, ids=ids)

    def accept_call(self, call: str, *, idempotency_key: str | None = None) -> Ack:
        return self._run("accept_call", idempotency_key, call=call)

    def reject_call(self, call: str, *, idempotency_key: str | None = None) -> Ack:
        return self._run("reject_call", idempotency_key, call=call)

    # -- events ------------------------------------------------------------------------------

    def parse_event(self, body: bytes | str | Mapping[str, Any],
                    headers: Mapping[str, str] | None = None, *,
                    url: str | None = None) -> list[Event]:
        """Turn a webhook/report body the provider POSTed to you into canonical events.

        Whatever the body, this raises nothing but a :class:`TelephonyError`: an unreadable
        body (not JSON, fields missing or of the wrong type, too deep, over
        ``MAX_EVENT_BYTES``) is an :class:`EventError`, a bad signature a
        :class:`SignatureError`. Answer the vendor 2xx anyway where it re-sends on failure.
        ``url`` is the public URL the vendor posted to, for providers whose signatures cover it
        (Twilio): behind a proxy, pass the URL as the vendor saw it.
        """
        if not self.spec.events:
            raise UnsupportedOperation("parse_event", self.operations, provider=self.name,
                                       message=f"{self.name} does not declare events")
        failure: TelephonyError | None = None
        try:
            data = body_bytes(body)
            if len(data) > MAX_EVENT_BYTES:
                raise EventError(f"the body is {len(data):,} bytes, more than the "
                                 f"{MAX_EVENT_BYTES:,} an event may have")
            if headers is not None and not isinstance(headers, Mapping):
                raise EventError(f"headers must be a mapping, not {type(headers).__name__}")
            extra = {"url": url} if url is not None else {}
            events = self._provider.parse_event(data, {str(k): str(v) for k, v in
                                                       (headers or {}).items()}, **extra)
            return list(events)
        except TelephonyError as exc:
            failure = exc._located(self.name, "parse_event")
            if isinstance(exc, PayloadError) and not isinstance(exc, EventError):
                failure = EventError("; ".join(p.message for p in exc.problems),
                                     provider=self.name)
        except RecursionError:
            failure = EventError("the body is nested too deeply", provider=self.name)
        except Exception as exc:  # a provider's parser met a shape it did not expect
            log.debug("%s.parse_event: %s on a body it could not read", self.name,
                      type(exc).__name__)
            failure = EventError(_unreadable(exc), provider=self.name)
        raise failure

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

    def _follow(self, step: FollowUp) -> None:
        kind = Kind.IDEMPOTENT if step.retry_safe else Kind.NON_IDEMPOTENT
        call = getattr(self._provider, "call", None)
        if call is None:
            raise ProviderBug(f"{self.name} returned a follow-up step but sends no requests",
                              provider=self.name, operation="handle_event")

        def attempt() -> Any:
            with tracing() as trace:
                try:
                    return call(step.request)
                except TelephonyError as exc:
                    raise exc._located(self.name, "handle_event") from None
                except Exception as exc:
                    failure = self._unexpected(exc, "handle_event", sent=trace.sends > 0)
            raise failure

        retry.run(attempt, kind, self._policy, provider=self.name, operation="handle_event")

    def events(self, *, timeout: float | None = None) -> Any:
        """Canonical events from the provider's event stream (a WebSocket, for ARI), as they
        arrive, with a ``system`` event (``data["gap"]``) after a reconnect saying what may
        have been missed. The stream's reader runs in the background whether or not this is
        iterated (flows continue on events); it ends after ``timeout`` seconds without an
        event, and raises :class:`telephony_core.streams.StreamError` when the stream gave up.
        Webhook providers have no stream: use :meth:`parse_event`."""
        stream = getattr(self._provider, "event_stream", None)
        source = stream() if callable(stream) else None
        if source is None:
            raise UnsupportedOperation("events", self.operations, provider=self.name,
                                       message=f"{self.name} has no event stream; its events "
                                               "arrive as webhooks (use parse_event)")
        return source.events(timeout=timeout)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Log out and release connections. Safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
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


def connect(target: str | None = None, /, *, profile: str | None = None,
            config: str | None = None, **options: Any) -> Client:
    """Create a :class:`Client`.

    * ``connect("yeastar://api:SECRET@pbx.example:8088?ca=/etc/pbx-ca.pem")``: a URL;
    * ``connect("yeastar", host=..., username=..., password=...)``: a name and options;
    * ``connect(profile="office")``: a ``[profiles.office]`` table of the TOML file
      ``config`` (default: ``$TELEPHONY_CONFIG`` or ``~/.config/telephony/config.toml``);
    * ``connect()``: ``$TELEPHONY_URL`` if set, else ``$TELEPHONY_PROFILE``, else the built-in
      simulator.

    Keyword options override what the URL or profile says. No network traffic happens here.
    """
    import os

    from . import registry
    from .config import load_profile, parse_url, resolve

    if target is None and profile is None:
        if os.environ.get("TELEPHONY_URL"):
            target = os.environ["TELEPHONY_URL"]
        elif os.environ.get("TELEPHONY_PROFILE"):
            profile = os.environ["TELEPHONY_PROFILE"]
        elif not options:
            target = "sim://"
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
    return Client(spec, resolve(spec, {**raw, **options}))

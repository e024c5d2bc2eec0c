"""What the sync and async clients share: everything but I/O.

Introspection (operations, capabilities, schemas), validation before any traffic, the operation's
idempotency key, parsing webhooks (pure), and turning a provider's unexpected exceptions into the
error hierarchy. :class:`~telephony_core.Client` and :class:`~telephony_core.AsyncClient` add the
sending, each with its own driver.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from . import retry
from .catalogue import OPERATIONS, Capability, Kind, Operation, operation
from .config import ProviderConfig
from .context import OperationContext, check_key
from .errors import (
    EventError,
    PayloadError,
    PayloadProblem,
    ProviderBug,
    RateLimited,
    TelephonyError,
    TransportError,
    UnsupportedOperation,
)
from .events import body_bytes
from .provider import ProviderSpec
from .redaction import get_logger, redact
from .results import Event

__all__ = ["MAX_EVENT_BYTES", "Facade", "payload_from"]

log: logging.Logger = get_logger("telephony_core.client")

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


def payload_from(**fields: Any) -> dict[str, Any]:
    """The payload from keyword arguments, leaving out the ones not given (None).

    Values are passed as given (a tuple becomes a list, a read-only mapping a dict): the schema
    then refuses a wrong type with a PayloadError naming the field. Converting first would turn
    ``prompts="welcome"`` into seven one-letter prompts, or ``ids=5`` into a TypeError.
    """
    return {k: (v if type(v) in _AS_GIVEN else _plain(v))
            for k, v in fields.items() if v is not None}


#: JSON value types that go into a payload as they are (checked by exact type: a subclass of
#: str or dict goes through :func:`_plain`, which leaves it as it is too)
_AS_GIVEN = frozenset({str, bool, int, float, dict, list})


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    return value


class Facade:
    """The part of a client that does no I/O (see the module docstring)."""

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        self.spec = spec
        self.config = config
        self._provider = spec.create(config)
        self._policy = retry.RetryPolicy(retries=int(config.get("retries", 2)),
                                         deadline=float(config.get("deadline", 30)))
        self._closed = False
        #: (definition, payload validator, retry kind) of each operation used so far
        self._plans: dict[str, tuple[Operation, Any, Kind]] = {}

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

    # -- before an operation -----------------------------------------------------------------

    def _prepare(self, op: str, payload: Mapping[str, Any] | None, fields: dict[str, Any],
                 idempotency_key: str | None, *, typed: bool = False
                 ) -> tuple[Operation, dict[str, Any], OperationContext, Kind]:
        """Refuse, validate and key an operation; nothing is sent yet. ``typed``: ``fields``
        are a typed method's arguments, the ones not given None (:func:`payload_from`).

        This runs on every operation, so it avoids what costs without buying anything: what
        is fixed per operation name (its definition, validator and retry kind) is looked up
        once per client, a payload that is already a dict is copied once, and no helper is
        called where a line does (on a fast network every call shows: docs/performance.md)."""
        plan = self._plans.get(op) if type(op) is str else None
        if plan is None:
            operation(op)  # raises UnknownOperation listing the real ones
        if self._closed:
            raise TelephonyError("the client is closed", provider=self.name, operation=op)
        if plan is None:
            plan = self._plan(op)
        definition, validator, kind = plan
        if typed:
            body = {}
            for name, value in fields.items():  # payload_from(**fields), inline
                if value is not None:
                    body[name] = value if type(value) in _AS_GIVEN else _plain(value)
        elif payload is None:
            body = fields  # a fresh dict: it is this call's keyword arguments
        elif type(payload) is dict:
            body = {**payload, **fields} if fields else payload.copy()
        elif isinstance(payload, Mapping):
            body = {**payload, **fields}
        else:
            raise PayloadError([PayloadProblem(
                "$", f"the payload must be an object (a mapping of field names to values), not "
                     f"{type(payload).__name__}")], provider=self.name, operation=op)
        validator.check(body, provider=self.spec.name, operation=op)
        key = (None if idempotency_key is None
               else check_key(idempotency_key, provider=self.name, operation=op))
        return definition, body, OperationContext(op, key), kind

    def _plan(self, op: str) -> tuple[Operation, Any, Kind]:
        """What is fixed for ``op`` on this client: its definition, the payload validator and
        the kind the retry policy goes by (a provider's ``retry_safe`` makes a non-idempotent
        operation idempotent: its vendor de-duplicates on the key it sends)."""
        if op not in self.spec.operations:
            raise UnsupportedOperation(op, self.spec.operations, provider=self.name)
        definition = operation(op)
        kind = definition.kind
        if kind is Kind.NON_IDEMPOTENT and op in self._provider.retry_safe:
            kind = Kind.IDEMPOTENT
        plan = self._plans[op] = (definition, self.spec.validator(op), kind)
        return plan

    @staticmethod
    def _sent_before(exc: TelephonyError, ctx: OperationContext) -> TelephonyError:
        """A request that never left, after an earlier request of the same attempt did: the
        operation as a whole may have been acted on (Twilio's conference dial placed the
        caller's call, then failed to place the callee's), so it counts as sent."""
        if ctx.sends <= 1:
            return exc
        if isinstance(exc, TransportError) and not exc.request_sent:
            return TransportError(
                f"{exc.message} (an earlier request of this operation had been sent)",
                request_sent=True, reason=exc.reason, provider=exc.provider,
                operation=exc.operation)
        if isinstance(exc, RateLimited):  # refused, but after a request that may have acted
            return TransportError(
                f"{exc.message}, after an earlier request of this operation had been sent",
                request_sent=True, reason="other", provider=exc.provider,
                operation=exc.operation)
        return exc

    def _log_outcome(self, op: str, started: float, outcome: str) -> None:
        """One INFO line per operation: provider, operation, outcome, duration (nothing of the
        payload, so nothing secret). ``started`` is a ``time.monotonic()`` value; the caller
        checks ``log.isEnabledFor(logging.INFO)`` first (no call per operation otherwise)."""
        log.info("%s.%s %s in %.1f ms", self.name, op, outcome,
                 (time.monotonic() - started) * 1000)

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

    # -- events ------------------------------------------------------------------------------

    def _event_source(self, hook: str, timeout: float | None) -> Any:
        """What ``events()`` iterates: the provider's stream from its ``hook`` method
        (``event_stream`` for the sync client, ``async_event_stream`` for the async one)."""
        stream = getattr(self._provider, hook, None)
        source = stream() if callable(stream) else None
        if source is None:
            raise UnsupportedOperation("events", self.operations, provider=self.name,
                                       message=f"{self.name} has no event stream; its events "
                                               "arrive as webhooks (use parse_event)")
        return source.events(timeout=timeout)

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
            # only providers whose signatures cover the URL take it (Twilio); the others
            # have nothing to check it against, so it is not theirs to refuse
            extra = {"url": url} if url is not None and _takes_url(self._provider) else {}
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


def _takes_url(provider: Any) -> bool:
    """Whether ``provider.parse_event`` accepts the ``url`` keyword (or any keyword)."""
    import inspect

    try:
        params = inspect.signature(provider.parse_event).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "url" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


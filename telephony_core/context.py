"""The logical operation a provider is serving right now: its name and idempotency key.

The client fixes an idempotency key once per logical operation (the caller's
``idempotency_key=``, else a fresh random one) *before* the retry loop, so every attempt of the
same operation carries the same key. A provider whose vendor takes a key (Telnyx ``command_id``,
an ARI channel id chosen by the client) reads it with :func:`current` and sends it on every
attempt; that is what makes a re-send harmless, and what lets the provider declare the operation
in :attr:`Provider.retry_safe`.
"""

from __future__ import annotations

import contextvars
import re
import uuid

import attrs

from .errors import PayloadError, PayloadProblem

__all__ = ["OperationContext", "Trace", "check_key", "current", "new_key", "note_send", "tracing"]

#: What an idempotency key may be: the intersection of what vendors accept as ids (Telnyx
#: command_id, ARI channel ids, Temporal workflow ids): 1-64 of letters, digits, ``-_.:``.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


@attrs.frozen
class OperationContext:
    """What a provider may know about the operation it is serving."""

    operation: str
    idempotency_key: str
    attempt: int = 1


_current: contextvars.ContextVar[OperationContext | None] = contextvars.ContextVar(
    "telephony_operation", default=None)


def current() -> OperationContext | None:
    """The operation being served in this context (None outside an operation)."""
    return _current.get()


def new_key() -> str:
    return uuid.uuid4().hex


def check_key(key: object, *, provider: str | None = None, operation: str | None = None) -> str:
    """``key`` if it is a valid idempotency key, else a PayloadError naming the field."""
    if isinstance(key, str) and _KEY.fullmatch(key):
        return key
    shown = repr(key) if isinstance(key, str) and len(key) <= 80 else type(key).__name__
    raise PayloadError([PayloadProblem(
        "idempotency_key", f"{shown} is not a valid idempotency key: expected 1-64 letters, "
                           "digits, '-', '_', '.' or ':', starting with a letter or digit")],
        provider=provider, operation=operation)


class serving:
    """``with serving(ctx):`` makes ``ctx`` the current operation."""

    def __init__(self, ctx: OperationContext) -> None:
        self.ctx = ctx

    def __enter__(self) -> OperationContext:
        self._token = _current.set(self.ctx)
        return self.ctx

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)


class Trace:
    """Whether an operation's attempt reached the transport at all (``sends`` > 0).

    An exception raised by a provider before its first send is a bug in the provider, not a
    network outcome: nothing left, so it must not become ``OutcomeUnknown``.
    """

    __slots__ = ("sends",)

    def __init__(self) -> None:
        self.sends: int = 0


_trace: contextvars.ContextVar[Trace | None] = contextvars.ContextVar(
    "telephony_trace", default=None)


class tracing:
    """``with tracing() as trace:`` counts the transport sends made in this context."""

    def __enter__(self) -> Trace:
        self.trace: Trace = Trace()
        self._token = _trace.set(self.trace)
        return self.trace

    def __exit__(self, *exc_info: object) -> None:
        _trace.reset(self._token)


def note_send() -> None:
    """Called by a transport as it starts sending a request."""
    trace = _trace.get()
    if trace is not None:
        trace.sends += 1

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
from collections.abc import Callable

from .errors import PayloadError, PayloadProblem

__all__ = ["OperationContext", "check_key", "current", "new_key", "note_send", "serving",
           "uncounted"]

#: What an idempotency key may be: the intersection of what vendors accept as ids (Telnyx
#: command_id, ARI channel ids, Temporal workflow ids): 1-64 of letters, digits, ``-_.:``.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


class OperationContext:
    """What a provider may know about the logical operation it is serving.

    One per logical operation, shared by its attempts: ``attempt`` counts them, ``sends`` counts
    the requests the current attempt started (a failure before the first is a bug in the
    provider, not a network outcome). The idempotency key is made on first use, so operations
    whose provider never asks for one pay nothing for it.
    """

    __slots__ = ("_key", "attempt", "operation", "sends")

    def __init__(self, operation: str, idempotency_key: str | None = None) -> None:
        self.operation: str = operation
        self._key = idempotency_key
        self.attempt: int = 0
        self.sends: int = 0

    @property
    def idempotency_key(self) -> str:
        """The caller's key, or a random one fixed for every attempt of this operation."""
        if self._key is None:
            self._key = new_key()
        return self._key

    def next_attempt(self) -> None:
        self.attempt += 1
        self.sends = 0

    def __repr__(self) -> str:
        return f"OperationContext({self.operation!r}, attempt={self.attempt})"


_current: contextvars.ContextVar[OperationContext | None] = contextvars.ContextVar(
    "telephony_operation", default=None)


def current() -> OperationContext | None:
    """The operation being served in this context (None outside an operation)."""
    return _current.get()


#: ``token = set_current(ctx)`` ... ``reset_current(token)``: :class:`serving` without the
#: context manager's calls, for the clients' per-operation path
set_current: Callable[[OperationContext | None],
                      contextvars.Token[OperationContext | None]] = _current.set
reset_current: Callable[[contextvars.Token[OperationContext | None]], None] = _current.reset


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

    __slots__ = ("_token", "ctx")

    def __init__(self, ctx: OperationContext) -> None:
        self.ctx: OperationContext = ctx

    def __enter__(self) -> OperationContext:
        self._token = _current.set(self.ctx)
        return self.ctx

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)


class uncounted:
    """Requests sent in this block (a session's login or refresh) are not the operation's own:
    they do not count as "an earlier request of this operation was sent"."""

    __slots__ = ("_before", "_ctx")

    def __enter__(self) -> None:
        self._ctx = _current.get()
        self._before = self._ctx.sends if self._ctx is not None else 0

    def __exit__(self, *exc_info: object) -> None:
        if self._ctx is not None:
            self._ctx.sends = self._before


def note_send() -> None:
    """Called by a transport as it starts sending a request."""
    ctx = _current.get()
    if ctx is not None:
        ctx.sends += 1

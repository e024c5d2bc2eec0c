"""The retry policy: decided by the operation's kind, never by the HTTP method.

* A failure before the request could have left (refused, DNS, TLS, connect timeout) is retried
  for every kind: nothing happened on the far side.
* After the request may have left (read timeout, reset, truncated or unreadable reply), reads
  and idempotent operations are retried; a non-idempotent one (``dial``, ``send_sms``...) ends in
  :class:`OutcomeUnknown` at once, because sending it again could place a second call.
* A rate limit (HTTP 429, a complete refusal: nothing was acted on) is retried for every kind,
  honouring ``Retry-After`` up to a cap; a provider's "transient" refusal is retried for reads
  and idempotent operations only (a 5xx does not prove nothing happened). Backoff is capped and
  jittered.
* Everything happens within the operation's overall deadline.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs

from .catalogue import Kind
from .errors import OutcomeUnknown, ProviderError, RateLimited, TelephonyError, TransportError
from .redaction import get_logger

__all__ = ["RetryPolicy", "aafter_failure", "after_failure", "arun", "deadline_at",
           "deadline_remaining", "reset_deadline", "run", "set_deadline"]

log: logging.Logger = get_logger("telephony_core.retry")
T = TypeVar("T")

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def deadline_at() -> float | None:
    """The current operation's deadline as a ``time.monotonic()`` value (None outside one)."""
    return _deadline.get()


def deadline_remaining() -> float | None:
    """Seconds left of the current operation's deadline (None outside an operation)."""
    end = _deadline.get()
    return None if end is None else end - time.monotonic()


@attrs.frozen
class RetryPolicy:
    retries: int = 2
    deadline: float = 30.0
    backoff_base: float = 0.05
    backoff_cap: float = 2.0
    retry_after_cap: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for retry number ``attempt`` (1-based)."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))


#: Transport failures that would fail the same way again: retrying only burns the deadline.
_NEVER_AGAIN = frozenset({"redirect", "too_large", "deadline", "closed"})


def _verdict(exc: TelephonyError, kind: Kind) -> tuple[bool, float | None]:
    """(may retry, wait the provider asked for)."""
    if isinstance(exc, TransportError):
        if exc.reason in _NEVER_AGAIN:
            return False, None
        return (not exc.request_sent) or kind.retryable, None
    if isinstance(exc, RateLimited):
        return True, exc.retry_after  # a 429 is a complete refusal: nothing was acted on
    if isinstance(exc, ProviderError):
        return kind.retryable and exc.category == "transient", None
    return False, None


def _next_delay(exc: TelephonyError, kind: Kind, policy: RetryPolicy, *, start: float,
                tries: int, provider: str, operation: str) -> float:
    """How long to wait before the next attempt, or raise: the error itself when it must not be
    retried, OutcomeUnknown when a non-idempotent request may have been acted on."""
    if isinstance(exc, TransportError) and exc.request_sent and not kind.retryable:
        raise OutcomeUnknown(
            f"the request may have reached the provider but no usable answer came "
            f"back ({exc.message}); it was not re-sent, since that could repeat it. "
            "Check list_calls or the provider's events before trying again",
            reason=exc.reason, provider=provider, operation=operation) from None
    retry, wait = _verdict(exc, kind)
    left = start + policy.deadline - time.monotonic()
    if not retry or tries > policy.retries:
        raise exc
    delay = policy.backoff(tries)
    if wait is not None:
        delay = max(delay, min(wait, policy.retry_after_cap))
    if delay >= left:
        raise exc
    log.info("%s.%s failed (%s); retry %d of %d in %.2fs", provider, operation,
             type(exc).__name__, tries, policy.retries, delay)
    return delay


#: ``token = set_deadline(time.monotonic() + seconds)`` ... ``reset_deadline(token)``: the
#: deadline :func:`run` keeps, for a client that makes its first attempt inline and calls
#: :func:`after_failure` only when it fails (most operations succeed at once, and this runs on
#: every one: the context variable's own methods, no wrapper call)
set_deadline: Callable[[float | None], contextvars.Token[float | None]] = _deadline.set
reset_deadline: Callable[[contextvars.Token[float | None]], None] = _deadline.reset


def after_failure(failure: TelephonyError, attempt: Callable[[], T], kind: Kind,
                  policy: RetryPolicy, *, start: float, provider: str, operation: str) -> T:
    """Attempt 1 failed with ``failure``: retry ``attempt`` as the policy allows, or raise."""
    tries = 1
    while True:
        time.sleep(_next_delay(failure, kind, policy, start=start, tries=tries,
                               provider=provider, operation=operation))
        tries += 1
        try:
            return attempt()
        except TelephonyError as exc:
            failure = exc


def run(attempt: Callable[[], T], kind: Kind, policy: RetryPolicy, *, provider: str,
        operation: str) -> T:
    """Call ``attempt`` under ``policy`` and the deadline; see the module docstring."""
    start = time.monotonic()
    token = _deadline.set(start + policy.deadline)
    try:
        try:
            return attempt()
        except TelephonyError as exc:
            failure = exc  # retried outside the handler: no implicit chain to this failure
        return after_failure(failure, attempt, kind, policy, start=start, provider=provider,
                             operation=operation)
    finally:
        _deadline.reset(token)


async def aafter_failure(failure: TelephonyError, attempt: Callable[[], Awaitable[T]],
                         kind: Kind, policy: RetryPolicy, *, start: float, provider: str,
                         operation: str) -> T:
    """:func:`after_failure` for coroutines (asyncio sleeps)."""
    import asyncio

    tries = 1
    while True:
        await asyncio.sleep(_next_delay(failure, kind, policy, start=start, tries=tries,
                                        provider=provider, operation=operation))
        tries += 1
        try:
            return await attempt()
        except TelephonyError as exc:
            failure = exc


async def arun(attempt: Callable[[], Awaitable[T]], kind: Kind, policy: RetryPolicy, *,
               provider: str, operation: str) -> T:
    """:func:`run` for coroutines: asyncio sleeps, the same decisions and deadline."""
    start = time.monotonic()
    token = _deadline.set(start + policy.deadline)
    try:
        try:
            return await attempt()
        except TelephonyError as exc:
            failure = exc
        return await aafter_failure(failure, attempt, kind, policy, start=start,
                                    provider=provider, operation=operation)
    finally:
        _deadline.reset(token)

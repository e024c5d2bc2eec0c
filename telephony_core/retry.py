"""The retry policy: decided by the operation's kind, never by the HTTP method.

* A failure before the request could have left (refused, DNS, TLS, connect timeout) is retried
  for every kind: nothing happened on the far side.
* After the request may have left (read timeout, reset, truncated or unreadable reply), reads
  and idempotent operations are retried; a non-idempotent one (``dial``, ``send_sms``...) ends in
  :class:`OutcomeUnknown` at once, because sending it again could place a second call.
* A provider's "transient" refusal or a rate limit is retried for reads and idempotent operations
  only, with capped, jittered exponential backoff, honouring ``Retry-After`` up to a cap.
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

__all__ = ["RetryPolicy", "arun", "deadline_at", "deadline_remaining", "run"]

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
        return kind.retryable, exc.retry_after
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


def run(attempt: Callable[[], T], kind: Kind, policy: RetryPolicy, *, provider: str,
        operation: str) -> T:
    """Call ``attempt`` under ``policy`` and the deadline; see the module docstring."""
    start = time.monotonic()
    token = _deadline.set(start + policy.deadline)
    try:
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except TelephonyError as exc:
                delay = _next_delay(exc, kind, policy, start=start, tries=tries,
                                    provider=provider, operation=operation)
            time.sleep(delay)
    finally:
        _deadline.reset(token)


async def arun(attempt: Callable[[], Awaitable[T]], kind: Kind, policy: RetryPolicy, *,
               provider: str, operation: str) -> T:
    """:func:`run` for coroutines: asyncio sleeps, the same decisions and deadline."""
    import asyncio
    start = time.monotonic()
    token = _deadline.set(start + policy.deadline)
    try:
        tries = 0
        while True:
            tries += 1
            try:
                return await attempt()
            except TelephonyError as exc:
                delay = _next_delay(exc, kind, policy, start=start, tries=tries,
                                    provider=provider, operation=operation)
            await asyncio.sleep(delay)
    finally:
        _deadline.reset(token)

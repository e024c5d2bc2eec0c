"""The activity: one item, one profile, one call of the client, and an honest verdict.

The activity calls ``client.invoke`` exactly once. Whatever re-sending is safe happens inside
that call, under the client's retry policy (which re-sends a non-idempotent operation only when
the provider declares it ``retry_safe``, i.e. the vendor de-duplicates on the idempotency key).
The verdict says what the failure proves:

* ``sent``: the provider accepted it;
* ``refused``: the client refused it before sending, the request never left (connection
  refused...), or the provider gave a typed refusal (``busy``, ``not_found``, ``forbidden``,
  ``invalid``, a rate limit, HTTP 503): nothing was done, so another profile may be tried
  (``again``: the same profile may take it later);
* ``unknown``: it may have happened (``OutcomeUnknown``, a transport failure after the request
  left, an error the provider could not classify such as an HTTP 500): never re-sent, never
  failed over.

Errors are returned as data, not raised, so Temporal never retries an activity because of a
provider's answer; the only Temporal-level retry is for a lost worker, and only where
:mod:`.workflows` allows it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..client import Client
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    OutcomeUnknown,
    PayloadError,
    ProviderBug,
    ProviderError,
    RateLimited,
    TelephonyError,
    TransportError,
    UnsupportedOperation,
)
from ..redaction import get_logger, redact

__all__ = ["ProfileClients", "Sender", "verdict"]

log: logging.Logger = get_logger("telephony_core.campaigns")

#: Refusals that prove the operation was not carried out: the client refused it before
#: sending (payload, undeclared operation, configuration, a provider bug before sending), or
#: the provider refused the request or its credentials.
_REFUSALS = (PayloadError, UnsupportedOperation, ConfigurationError, ProviderBug,
             RateLimited, AuthenticationError)

#: A provider's typed refusals: the vendor's answer names why it did not act. A "transient" or
#: "unknown" ProviderError (most often an HTTP 500, or a code the provider could not classify)
#: proves nothing of the kind: the request may have been acted on before the failure.
_TYPED_REFUSALS = frozenset({"not_found", "busy", "forbidden", "invalid"})


def _refused_for_now(exc: TelephonyError) -> bool:
    """A refusal that may pass if the same request is sent later (busy, 503, rate limit)."""
    if isinstance(exc, RateLimited):
        return True
    return isinstance(exc, ProviderError) and (
        exc.category == "busy" or (exc.category == "transient" and exc.vendor_code == "503"))


def _result_data(result: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("call_id", "message_id", "status", "provider"):
        value = getattr(result, name, None)
        if isinstance(value, str | int | float | bool):
            out[name] = value
    return out


def _reason(exc: TelephonyError) -> str:
    if isinstance(exc, ProviderError):
        return exc.code
    if isinstance(exc, TransportError | OutcomeUnknown):
        return f"{type(exc).__name__}:{exc.reason}"
    return type(exc).__name__


def verdict(exc: BaseException) -> dict[str, Any]:
    """What a failure of ``client.invoke`` proves, as the activity's result."""
    detail = redact(str(exc)) if isinstance(exc, TelephonyError) else type(exc).__name__
    if isinstance(exc, OutcomeUnknown):
        return {"status": "unknown", "reason": _reason(exc), "detail": detail}
    if isinstance(exc, TransportError):
        if exc.request_sent:
            # an idempotent operation whose retries ran out after the request had left
            return {"status": "unknown", "reason": _reason(exc), "detail": detail}
        return {"status": "refused", "reason": _reason(exc), "detail": detail}
    if isinstance(exc, ProviderError) and not (
            exc.category in _TYPED_REFUSALS or _refused_for_now(exc)):
        return {"status": "unknown", "reason": _reason(exc), "detail": detail}
    if isinstance(exc, (*_REFUSALS, ProviderError)):
        out = {"status": "refused", "reason": _reason(exc), "detail": detail}
        if isinstance(exc, TelephonyError) and _refused_for_now(exc):
            out["again"] = True  # the same profile may take it later
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, int | float):
                out["retry_after"] = float(retry_after)
        return out
    # anything else (a closed client, an error of an unexpected kind): we cannot prove that
    # nothing left, so it is treated as "may have happened"
    return {"status": "unknown", "reason": type(exc).__name__, "detail": str(detail)}


@attrs.define
class ProfileClients:
    """One shared client per profile name in this worker process (clients are thread-safe).

    ``targets`` maps a profile name to what :func:`telephony_core.connect` takes: a provider
    URL, or ``None`` for the ``[profiles.NAME]`` table of the configuration file ``config``.
    A name missing from ``targets`` is looked up in the configuration file too; ``sim`` falls
    back to the built-in simulator.
    """

    targets: Mapping[str, str | None] = attrs.field(factory=dict)
    config: str | None = None
    _clients: dict[str, Client] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def connect(self, profile: str) -> Client:
        from ..client import connect

        target = self.targets.get(profile)
        if target is not None:
            return connect(target)
        try:
            return connect(profile=profile, config=self.config)
        except ConfigurationError:
            if profile == "sim":
                return connect("sim://")
            raise

    def get(self, profile: str) -> Client:
        with self._lock:
            client = self._clients.get(profile)
            if client is None:
                client = self._clients[profile] = self.connect(profile)
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


@attrs.define
class Sender:
    """The activity implementation: ``send(request)`` with ``{"item": ..., "profile": ...}``."""

    clients: ProfileClients
    #: called with (profile, item key) just before the client is called: tests use it to
    #: observe or slow down sends; None in production
    before_send: Callable[[str, str], None] | None = None

    def send(self, request: Mapping[str, Any]) -> dict[str, Any]:
        item, profile = request["item"], request["profile"]
        try:
            client = self.clients.get(profile)
        except TelephonyError as exc:
            return verdict(exc)
        if self.before_send is not None:
            self.before_send(profile, item["key"])
        try:
            result = client.invoke(item["operation"], item["payload"],
                                   idempotency_key=item["key"])
        except TelephonyError as exc:
            log.info("campaign item %s on %s: %s", item["key"], profile, type(exc).__name__)
            return verdict(exc)
        except Exception as exc:  # the client wraps provider failures; this is a client bug
            log.exception("campaign item %s on %s: unexpected failure", item["key"], profile)
            return verdict(exc)
        return {"status": "sent", "result": _result_data(result)}

"""HTTP statuses for telephony errors, for web applications of any framework.

Two situations call for different answers, so there are two functions:

* :func:`status_for` -- your own endpoint ran an operation (``client.dial(...)`` behind
  ``POST /calls``) and it failed: which status to give *your* caller. A busy extension is a
  409, an unknown one a 404, a provider that could not be reached a 502 or 504.
* :func:`webhook_status` -- your webhook endpoint could not take a vendor's report: a forged
  or stale signature is refused (403); a body that cannot be read is acknowledged (200), since
  vendors re-send what was not acknowledged and a re-sent unreadable body stays unreadable.

:func:`problem` gives a JSON-ready body to go with the status; it carries the error's message,
which never holds a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .errors import (
    AuthenticationError,
    Category,
    ConfigurationError,
    EventError,
    OutcomeUnknown,
    PayloadError,
    ProviderBug,
    ProviderError,
    RateLimited,
    SignatureError,
    TelephonyError,
    TransportError,
    UnsupportedOperation,
)
from .redaction import redact

__all__ = ["CATEGORY_STATUS", "problem", "retry_after", "status_for", "webhook_status"]

#: A refused operation (:class:`ProviderError`) by its ``category``.
CATEGORY_STATUS: Final[Mapping[Category, int]] = {
    "not_found": 404,   # the extension, call or number does not exist
    "busy": 409,        # it exists but is not in a state to do that now (conflict)
    "forbidden": 403,   # the provider does not allow it for these credentials
    "invalid": 422,     # the provider refused the values
    "transient": 503,   # try again later
    "unknown": 502,     # the provider refused for a reason it did not make clear
}

#: Transport reasons meaning "no answer in time" (504); the rest of TransportError is 502.
_TIMEOUTS: Final = frozenset({"connect_timeout", "read_timeout", "deadline"})


def status_for(error: BaseException) -> int:
    """The HTTP status your endpoint should answer when an operation raised ``error``.

    ===============================  ======================================================
    ``ProviderError``                by category: :data:`CATEGORY_STATUS`
    ``PayloadError``                 422 (the values your caller sent are not acceptable)
    ``SignatureError``               403
    ``EventError``                   400
    ``UnsupportedOperation``         501 (this provider cannot do that)
    ``RateLimited``                  503 (send ``Retry-After``: :func:`retry_after`)
    ``OutcomeUnknown``               504 (it may have happened: look before retrying)
    ``TransportError``               504 on a timeout reason, else 502
    ``AuthenticationError``          502 (the provider refused *your server's* credentials)
    ``ConfigurationError``,          500 (a fault of your deployment or of a plugin)
    ``ProviderBug``, anything else
    ===============================  ======================================================
    """
    if isinstance(error, ProviderError):
        return CATEGORY_STATUS.get(error.category, 502)
    if isinstance(error, SignatureError):
        return 403
    if isinstance(error, EventError):
        return 400
    if isinstance(error, PayloadError):
        return 422
    if isinstance(error, UnsupportedOperation):
        return 501
    if isinstance(error, RateLimited):
        return 503
    if isinstance(error, OutcomeUnknown):
        return 504
    if isinstance(error, TransportError):
        return 504 if error.reason in _TIMEOUTS else 502
    if isinstance(error, AuthenticationError):
        return 502
    if isinstance(error, ConfigurationError | ProviderBug):
        return 500
    return 500


def webhook_status(error: BaseException) -> int:
    """The HTTP status a webhook endpoint answers the vendor when taking a report failed.

    A bad signature is refused (403): the request did not come from the vendor. An unreadable
    body is acknowledged (200) and should be logged: vendors re-send what is not acknowledged,
    and the same body would fail the same way. Anything else (your own handler failed) is a
    500, and the vendor will re-send it.
    """
    if isinstance(error, SignatureError):
        return 403
    if isinstance(error, EventError):
        return 200
    return 500


def retry_after(error: BaseException) -> str | None:
    """The ``Retry-After`` header value (whole seconds) for a :class:`RateLimited`, else None."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return str(max(0, round(error.retry_after)))
    return None


def problem(error: BaseException) -> dict[str, str | int]:
    """A JSON-ready body describing ``error`` for your caller: ``status``, ``error`` (the class
    name), ``message`` and, for a :class:`ProviderError`, ``category`` and ``code``. Errors
    that are not telephony errors are described only as an internal error."""
    status = status_for(error)
    if not isinstance(error, TelephonyError):
        return {"status": status, "error": "InternalError", "message": "internal error"}
    body: dict[str, str | int] = {"status": status, "error": type(error).__name__,
                                  "message": redact(str(error))}
    if isinstance(error, ProviderError):
        body["category"] = error.category
        body["code"] = error.code
    return body


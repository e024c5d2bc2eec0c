"""The one error hierarchy every provider's failures are translated into.

Applications catch these and nothing else: a provider that lets a ``KeyError`` or a
``requests`` exception escape is a bug the facade papers over by wrapping it. Every error
carries the provider and operation it came from, and its message is built from
already-redacted text, so printing or logging an error can never leak a secret.

Every error pickles and deep-copies to an equal error (all attributes kept), so it crosses
process boundaries (multiprocessing, Celery, Temporal activities) intact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "EventError",
    "InsecureTransportWarning",
    "OutcomeUnknown",
    "PayloadError",
    "PayloadProblem",
    "ProviderBug",
    "ProviderError",
    "ProviderLoadError",
    "ProviderNotFound",
    "RateLimited",
    "SignatureError",
    "TelephonyError",
    "TelephonyWarning",
    "TransportError",
    "TransportReason",
    "UnknownOperation",
    "UnsupportedOperation",
]

Category = Literal["not_found", "busy", "forbidden", "invalid", "transient", "unknown"]
CATEGORIES: tuple[str, ...] = ("not_found", "busy", "forbidden", "invalid", "transient", "unknown")

#: Why a transport failed, for an application that acts on it (``TransportError.reason``).
TransportReason = Literal[
    "refused",          # nothing listens there (connection refused)
    "dns",              # the host name does not resolve
    "connect_timeout",  # no connection within connect_timeout
    "tls",              # the TLS handshake failed (certificate, protocol, plain-HTTP port)
    "read_timeout",     # the provider went silent after the request was sent
    "reset",            # the connection broke while sending or reading
    "truncated",        # the reply ended early (head or body)
    "redirect",         # the provider answered 3xx; redirects are never followed
    "too_large",        # the reply exceeded max_reply_bytes
    "deadline",         # the operation's deadline passed
    "proxy",            # the configured proxy refused or failed
    "closed",           # the client was closed
    "malformed",        # the reply arrived but could not be read
    "other",
]
TRANSPORT_REASONS: tuple[str, ...] = (
    "refused", "dns", "connect_timeout", "tls", "read_timeout", "reset", "truncated", "redirect",
    "too_large", "deadline", "proxy", "closed", "malformed", "other",
)


class TelephonyWarning(UserWarning):
    """Base of the library's warnings: filter them with ``-W`` or :mod:`warnings`."""


class InsecureTransportWarning(TelephonyWarning):
    """Credentials would travel unencrypted (plain http to a non-loopback host) or the
    provider's certificate is not verified (``insecure=true``)."""


def _rebuild(cls: type[TelephonyError], args: tuple[Any, ...],
             state: dict[str, Any]) -> TelephonyError:
    """Unpickle without calling ``__init__`` (whose signature differs per class)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class TelephonyError(Exception):
    """Base class: something an application asked for did not happen (or may not have)."""

    def __init__(self, message: str, *, provider: str | None = None,
                 operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.operation = operation

    def __str__(self) -> str:
        where = ".".join(p for p in (self.provider, self.operation) if p)
        return f"[{where}] {self.message}" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, TelephonyError)
        return self.args == other.args and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), self.message))

    def _located(self, provider: str | None, operation: str | None) -> TelephonyError:
        """Fill in where the error happened, keeping anything the raiser already set."""
        self.provider = self.provider or provider
        self.operation = self.operation or operation
        return self


class ConfigurationError(TelephonyError):
    """A URL, profile or option is wrong; the message names the key and what was expected."""

    def __init__(self, message: str, *, key: str | None = None, provider: str | None = None,
                 operation: str | None = None) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.key = key


class ProviderNotFound(ConfigurationError):
    """No installed provider has that name; ``installed`` lists the names that are."""

    def __init__(self, name: str, installed: Iterable[str]) -> None:
        self.name = name
        self.installed: list[str] = sorted(installed)
        listing = ", ".join(self.installed) or "none"
        super().__init__(f"no provider named {name!r} is installed (installed: {listing})")


class ProviderLoadError(ConfigurationError):
    """A provider plugin is installed but could not be imported; carries the import error."""

    def __init__(self, name: str, distribution: str | None, reason: str) -> None:
        self.name = name
        self.distribution = distribution
        self.reason = reason
        dist = f" (from {distribution})" if distribution else ""
        super().__init__(f"provider {name!r}{dist} failed to load: {reason}", provider=name)


class UnsupportedOperation(TelephonyError):
    """The provider does not declare this operation; ``supported`` lists what it does declare."""

    def __init__(self, operation: str, supported: Iterable[str], *, provider: str | None = None,
                 message: str | None = None) -> None:
        self.supported: list[str] = sorted(supported)
        message = message or (
            f"{provider or 'this provider'} does not support {operation!r}; it supports: "
            f"{', '.join(self.supported) or 'nothing'}"
        )
        super().__init__(message, provider=provider, operation=operation)


class UnknownOperation(UnsupportedOperation):
    """The name is not an operation of the catalogue at all (most often a typo)."""

    def __init__(self, operation: str, known: Iterable[str], *,
                 provider: str | None = None) -> None:
        known = sorted(known)
        super().__init__(
            operation, known, provider=provider,
            message=f"{operation!r} is not an operation of the catalogue; operations are: "
                    f"{', '.join(known)}",
        )


class PayloadProblem(tuple[str, str]):
    """One validation failure: where in the payload (a JSON path) and what is wrong there."""

    __slots__ = ()

    def __new__(cls, path: str, message: str) -> PayloadProblem:
        return super().__new__(cls, (path, message))

    def __getnewargs__(self) -> tuple[str, str]:
        return (self[0], self[1])

    @property
    def path(self) -> str:
        return self[0]

    @property
    def message(self) -> str:
        return self[1]

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PayloadError(TelephonyError, ValueError):
    """The payload failed the provider's schema. Raised before any network traffic.

    ``problems`` holds every failure, not only the first, so a user fixes them in one go.
    """

    def __init__(self, problems: Sequence[PayloadProblem], *, provider: str | None = None,
                 operation: str | None = None) -> None:
        self.problems: list[PayloadProblem] = [PayloadProblem(*p) for p in problems]
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid payload: {lines}", provider=provider, operation=operation)


class EventError(TelephonyError, ValueError):
    """A webhook or report body could not be turned into events (not JSON, a field missing or
    of the wrong type, too large). ``problem`` says what, without echoing the body.

    A web application should still answer the vendor 2xx for bodies it cannot read (most
    vendors re-send on failure) and log this error.
    """

    def __init__(self, problem: str, *, provider: str | None = None,
                 operation: str | None = "parse_event") -> None:
        self.problem = problem
        super().__init__(f"the event body could not be read: {problem}", provider=provider,
                         operation=operation)


class SignatureError(EventError):
    """A webhook's signature is missing, wrong or stale: the body was not parsed."""

    def __init__(self, problem: str, *, provider: str | None = None,
                 operation: str | None = "parse_event") -> None:
        super().__init__(problem, provider=provider, operation=operation)
        self.message: str = f"the webhook signature does not verify: {problem}"


class TransportError(TelephonyError):
    """The provider could not be reached or did not answer usably.

    ``request_sent`` says whether any byte of the request may have left this machine: when it is
    False (refused, DNS, TLS handshake, connect timeout) nothing can have happened on the far
    side. ``reason`` is one of :data:`TRANSPORT_REASONS`, for an application that acts on it.
    """

    def __init__(self, message: str, *, request_sent: bool = False,
                 reason: TransportReason = "other", provider: str | None = None,
                 operation: str | None = None) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.request_sent = request_sent
        self.reason = reason


class ProviderBug(TelephonyError):
    """The provider's code failed before anything was sent (a bug in the plugin, not a network
    outcome). Nothing left this machine, so nothing happened on the far side; it is never
    retried. The original exception is chained as ``__cause__`` for its traceback.
    """

    request_sent = False


class OutcomeUnknown(TelephonyError):
    """A non-idempotent request may have reached the provider, but no usable answer came back.

    The call may or may not have been placed (the SMS may or may not be on its way). It is
    never retried automatically: the application must look (``list_calls``, events) before
    deciding to try again. ``reason`` is the transport's reason (:data:`TRANSPORT_REASONS`).
    """

    def __init__(self, message: str, *, reason: TransportReason = "other",
                 provider: str | None = None, operation: str | None = None) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.reason = reason


class AuthenticationError(TelephonyError):
    """The provider refused the credentials or the session token."""


class RateLimited(TelephonyError):
    """The provider asked us to slow down; ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 provider: str | None = None, operation: str | None = None) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.retry_after = retry_after


class ProviderError(TelephonyError):
    """The provider understood the request and refused it.

    ``code`` is a short canonical reason (``extension_not_idle``), ``category`` groups reasons
    an application can act on alike, ``vendor_code`` is the provider's own code for support.
    """

    def __init__(self, message: str, *, code: str = "error", category: Category = "unknown",
                 vendor_code: str | None = None, provider: str | None = None,
                 operation: str | None = None) -> None:
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, not {category!r}")
        super().__init__(message, provider=provider, operation=operation)
        self.code = code
        self.category = category
        self.vendor_code = vendor_code

    def __str__(self) -> str:
        vendor = f" (vendor code {self.vendor_code})" if self.vendor_code else ""
        return f"{super().__str__()} [{self.category}: {self.code}]{vendor}"

"""The one error hierarchy every provider's failures are translated into.

Applications catch these and nothing else: a provider that lets a ``KeyError`` or a
``requests`` exception escape is a bug the facade papers over by wrapping it. Every error
carries the provider and operation it came from, and its message is built from
already-redacted text, so printing or logging an error can never leak a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "OutcomeUnknown",
    "PayloadError",
    "PayloadProblem",
    "ProviderError",
    "ProviderLoadError",
    "ProviderNotFound",
    "RateLimited",
    "TelephonyError",
    "TransportError",
    "UnknownOperation",
    "UnsupportedOperation",
]

Category = Literal["not_found", "busy", "forbidden", "invalid", "transient", "unknown"]
CATEGORIES: tuple[str, ...] = ("not_found", "busy", "forbidden", "invalid", "transient", "unknown")


class TelephonyError(Exception):
    """Base class: something an application asked for did not happen (or may not have)."""

    def __init__(self, message: str, *, provider: str | None = None, operation: str | None = None):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.operation = operation

    def __str__(self) -> str:
        where = ".".join(p for p in (self.provider, self.operation) if p)
        return f"[{where}] {self.message}" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def _located(self, provider: str | None, operation: str | None) -> TelephonyError:
        """Fill in where the error happened, keeping anything the raiser already set."""
        self.provider = self.provider or provider
        self.operation = self.operation or operation
        return self


class ConfigurationError(TelephonyError):
    """A URL, profile or option is wrong; the message names the key and what was expected."""

    def __init__(self, message: str, *, key: str | None = None, **kw):
        super().__init__(message, **kw)
        self.key = key


class ProviderNotFound(ConfigurationError):
    """No installed provider has that name; ``installed`` lists the names that are."""

    def __init__(self, name: str, installed: Iterable[str]):
        self.name = name
        self.installed = sorted(installed)
        listing = ", ".join(self.installed) or "none"
        super().__init__(f"no provider named {name!r} is installed (installed: {listing})")


class ProviderLoadError(ConfigurationError):
    """A provider plugin is installed but could not be imported; carries the import error."""

    def __init__(self, name: str, distribution: str | None, reason: str):
        self.name = name
        self.distribution = distribution
        self.reason = reason
        dist = f" (from {distribution})" if distribution else ""
        super().__init__(f"provider {name!r}{dist} failed to load: {reason}", provider=name)


class UnsupportedOperation(TelephonyError):
    """The provider does not declare this operation; ``supported`` lists what it does declare."""

    def __init__(self, operation: str, supported: Iterable[str], *, provider: str | None = None,
                 message: str | None = None):
        self.supported = sorted(supported)
        message = message or (
            f"{provider or 'this provider'} does not support {operation!r}; it supports: "
            f"{', '.join(self.supported) or 'nothing'}"
        )
        super().__init__(message, provider=provider, operation=operation)


class UnknownOperation(UnsupportedOperation):
    """The name is not an operation of the catalogue at all (most often a typo)."""

    def __init__(self, operation: str, known: Iterable[str], *, provider: str | None = None):
        known = sorted(known)
        super().__init__(
            operation, known, provider=provider,
            message=f"{operation!r} is not an operation of the catalogue; operations are: "
                    f"{', '.join(known)}",
        )


class PayloadProblem(tuple):
    """One validation failure: where in the payload (a JSON path) and what is wrong there."""

    __slots__ = ()

    def __new__(cls, path: str, message: str):
        return super().__new__(cls, (path, message))

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

    def __init__(self, problems: Sequence[PayloadProblem], **kw):
        self.problems = list(problems)
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid payload: {lines}", **kw)


class TransportError(TelephonyError):
    """The provider could not be reached or did not answer usably.

    ``request_sent`` says whether the request may have left this machine; when it is False
    (refused, DNS, TLS, connect timeout) nothing can have happened on the far side.
    """

    def __init__(self, message: str, *, request_sent: bool = False, **kw):
        super().__init__(message, **kw)
        self.request_sent = request_sent


class OutcomeUnknown(TelephonyError):
    """A non-idempotent request may have reached the provider, but no usable answer came back.

    The call may or may not have been placed (the SMS may or may not be on its way). It is
    never retried automatically: the application must look (``list_calls``, events) before
    deciding to try again.
    """


class AuthenticationError(TelephonyError):
    """The provider refused the credentials or the session token."""


class RateLimited(TelephonyError):
    """The provider asked us to slow down; ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderError(TelephonyError):
    """The provider understood the request and refused it.

    ``code`` is a short canonical reason (``extension_not_idle``), ``category`` groups reasons
    an application can act on alike, ``vendor_code`` is the provider's own code for support.
    """

    def __init__(self, message: str, *, code: str = "error", category: Category = "unknown",
                 vendor_code: str | None = None, **kw):
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, not {category!r}")
        super().__init__(message, **kw)
        self.code = code
        self.category = category
        self.vendor_code = vendor_code

    def __str__(self) -> str:
        vendor = f" (vendor code {self.vendor_code})" if self.vendor_code else ""
        return f"{super().__str__()} [{self.category}: {self.code}]{vendor}"

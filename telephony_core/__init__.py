"""telephony_core: one API for many telephony systems.

    import telephony_core
    with telephony_core.connect("yeastar://api:SECRET@pbx.example:8088") as client:
        client.dial(caller="ext:1002", callee="tel:41000")

Importing this package loads no provider; :func:`connect` imports only the one asked for.
"""

import logging
from typing import TYPE_CHECKING

from .catalogue import OPERATIONS, Capability, Kind, Operation
from .client import Client, connect
from .errors import (
    AuthenticationError,
    ConfigurationError,
    EventError,
    InsecureTransportWarning,
    OutcomeUnknown,
    PayloadError,
    ProviderBug,
    ProviderError,
    ProviderLoadError,
    ProviderNotFound,
    RateLimited,
    SignatureError,
    TelephonyError,
    TelephonyWarning,
    TransportError,
    UnknownOperation,
    UnsupportedOperation,
)
from .events import Deduplicator
from .registry import register, unregister
from .results import Ack, CallInfo, CallRef, Event, MusicOnHold, MusicSource, SmsReceipt

if TYPE_CHECKING:
    from .aclient import AsyncClient, connect_async

__version__ = "0.2.0"

# A library logs; the application decides where it goes (no "last resort" stderr lines).
logging.getLogger("telephony_core").addHandler(logging.NullHandler())


def __getattr__(name: str) -> object:
    """AsyncClient and connect_async load asyncio's machinery only when first used."""
    if name in ("AsyncClient", "connect_async"):
        from . import aclient

        return getattr(aclient, name)
    raise AttributeError(f"module 'telephony_core' has no attribute {name!r}")

__all__ = [
    "OPERATIONS",
    "Ack",
    "AsyncClient",
    "AuthenticationError",
    "CallInfo",
    "CallRef",
    "Capability",
    "Client",
    "ConfigurationError",
    "Deduplicator",
    "Event",
    "EventError",
    "InsecureTransportWarning",
    "Kind",
    "MusicOnHold",
    "MusicSource",
    "Operation",
    "OutcomeUnknown",
    "PayloadError",
    "ProviderBug",
    "ProviderError",
    "ProviderLoadError",
    "ProviderNotFound",
    "RateLimited",
    "SignatureError",
    "SmsReceipt",
    "TelephonyError",
    "TelephonyWarning",
    "TransportError",
    "UnknownOperation",
    "UnsupportedOperation",
    "connect",
    "connect_async",
    "register",
    "unregister",
]

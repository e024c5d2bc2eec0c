"""Telnyx webhook signatures: Ed25519 over ``timestamp|body``.

Telnyx signs each webhook with its account key pair and sends ``telnyx-signature-ed25519``
(base64 signature) and ``telnyx-timestamp`` (Unix seconds); spec3.json documents both headers on
every webhook ("Ed25519 signature of timestamp|payload"). The public key is shown in the Mission
Control portal (base64 of the 32 raw key bytes). A stale timestamp is refused so that a
recorded webhook cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from telephony_core.errors import ConfigurationError, SignatureError

__all__ = ["load_public_key", "sign", "verify"]

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"


def load_public_key(value: str) -> Ed25519PublicKey:
    """A base64 Ed25519 public key (32 bytes), as Telnyx's portal shows it."""
    try:
        raw = base64.b64decode(value, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            "public_key is not an Ed25519 public key: expected the base64 of 32 bytes, as "
            "Telnyx's portal shows it (Keys & Credentials > Public Key)", key="public_key",
            provider="telnyx") from None


def sign(private_key: Ed25519PrivateKey, timestamp: int | str, body: bytes) -> str:
    """The header value Telnyx would send (used by the emulator, with its own key pair)."""
    return base64.b64encode(private_key.sign(f"{timestamp}|".encode() + body)).decode("ascii")


def verify(key: Ed25519PublicKey, body: bytes, headers: Mapping[str, str], *,
           tolerance: float, now: float | None = None) -> None:
    """Raise SignatureError unless ``body`` carries a valid, fresh Telnyx signature."""
    lower = {k.lower(): v for k, v in headers.items()}
    signature, stamp = lower.get(SIGNATURE_HEADER), lower.get(TIMESTAMP_HEADER)
    if not signature or not stamp:
        raise SignatureError(f"the webhook has no {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} "
                             "headers: it was not signed by Telnyx", provider="telnyx")
    try:
        moment = int(stamp.strip())
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not Unix seconds", provider="telnyx") \
            from None
    age = (time.time() if now is None else now) - moment
    if abs(age) > tolerance:
        raise SignatureError(
            f"the webhook's timestamp is {abs(int(age))} s {'old' if age > 0 else 'ahead'}, "
            f"outside the signature_tolerance of {tolerance:g} s: refused as a possible replay "
            "(check the clocks, or raise signature_tolerance)", provider="telnyx")
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
        key.verify(raw, f"{moment}|".encode() + body)
    except (binascii.Error, ValueError, InvalidSignature):
        raise SignatureError("the webhook's Ed25519 signature does not match its body and "
                             "timestamp under the configured public_key", provider="telnyx") \
            from None

"""Finding secrets where they must not be: log records, error messages, reprs."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

__all__ = ["forms_of", "leaks"]


def forms_of(secret: str) -> set[str]:
    """The secret and the derived forms that are as good as it (MD5 hex, base64)."""
    return {secret, hashlib.md5(secret.encode()).hexdigest(),
            base64.b64encode(secret.encode()).decode().rstrip("=")}


def leaks(secrets: Iterable[str], places: dict[str, str]) -> list[str]:
    """``"where: which secret"`` for each place whose text holds a secret (or a derived form)."""
    found = []
    for where, text in places.items():
        for secret in secrets:
            if any(form in text for form in forms_of(secret)):
                shown = secret[:3] + "..."
                found.append(f"{where} contains the secret {shown!r} "
                             f"(or its MD5/base64 form): {text[:300]!r}")
    return found

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
    secrets = list(secrets)
    found = []
    for where, text in places.items():
        for secret in secrets:
            forms = forms_of(secret)
            at = min((text.find(f) for f in forms if f in text), default=-1)
            if at >= 0:
                excerpt = text[max(0, at - 120):at + 120]
                for other in secrets:  # the report must not leak what it reports
                    for form in forms_of(other):
                        excerpt = excerpt.replace(form, "<SECRET>")
                found.append(f"{where} contains the secret {secret[:3] + '...'!r} (or its "
                             f"MD5/base64 form): ...{excerpt!r}...")
    return found

"""Finding secrets where they must not be: log records, error messages, reprs."""

from __future__ import annotations

from collections.abc import Iterable

from ..redaction import encoded_forms

__all__ = ["forms_of", "leaks"]


def forms_of(secret: str) -> set[str]:
    """The secret and every form as good as it: URL-encoded, base64 of it and inside base64 of
    ``user:secret`` at each alignment (a 3-letter user name puts it at another one than a
    4-letter one), MD5/SHA hex (see :func:`telephony_core.redaction.encoded_forms`)."""
    return encoded_forms(secret)


def leaks(secrets: Iterable[str], places: dict[str, str]) -> list[str]:
    """``"where: which secret"`` for each place whose text holds a secret (or a derived form)."""
    secrets = list(secrets)
    every = {s: forms_of(s) for s in secrets}
    found = []
    for where, text in places.items():
        for secret in secrets:
            forms = every[secret]
            hits = [(text.find(f), f) for f in forms if f in text]
            if hits:
                at, form = min(hits)
                excerpt = text[max(0, at - 120):at + 120]
                for other in secrets:  # the report must not leak what it reports
                    for masked in sorted(every[other], key=len, reverse=True):
                        excerpt = excerpt.replace(masked, "<SECRET>")
                how = "itself" if form == secret else "an encoded form"
                found.append(f"{where} contains the secret {secret[:3] + '...'!r} ({how}: "
                             f"raw, URL-encoded, base64 or inside base64 of user:secret, or a "
                             f"hash): ...{excerpt!r}...")
    return found

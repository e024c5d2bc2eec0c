"""Keeping secrets out of logs, reprs, exception messages and CLI output.

Two layers, because neither alone is enough:

* known values: every client registers its secrets (passwords, app secrets, the MD5 of a
  password, session tokens as they are issued) and any text that passes through
  :func:`redact` has them replaced;
* shapes: ``token=...`` in a URL, ``"password": "..."`` in a JSON body and ``Authorization``
  headers are masked even when the value was never registered.

A logging filter applies both to urllib3's and requests' own loggers, whose DEBUG lines print
full URLs (``GET /api/v1.0.0/outbound/query?token=...``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable

__all__ = [
    "MASK", "SECRETS", "Secret", "SecretRegistry", "encoded_forms", "get_logger",
    "install_log_filter", "redact",
]

MASK = "***"

_SECRET_KEYS = r"token|password|passwd|secret|accesskey|access_key|api_key|apikey|sessionid"
_SHAPES = (
    (re.compile(rf"(?i)((?:{_SECRET_KEYS})=)[^&\s'\"#]+"), rf"\g<1>{MASK}"),
    (re.compile(rf"(?i)([\"'](?:{_SECRET_KEYS})[\"']\s*:\s*)(\"[^\"]*\"|'[^']*')"),
     rf"\g<1>'{MASK}'"),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=,]\s*[\"']?)(basic|bearer|digest)?\s*"
                r"[^\s,'\"})]+"), rf"\g<1>\g<2> {MASK}"),
    # a Basic/Bearer credential however it was built or shown (a header tuple, a bare value)
    (re.compile(r"(?<![A-Za-z])(Basic|Bearer)\s+(?!\*\*\*)[A-Za-z0-9+/=._~-]{6,}"),
     rf"\g<1> {MASK}"),
    (re.compile(r"(?i)(://[^:/@\s]+:)[^@\s/]+@"), rf"\g<1>{MASK}@"),
)


class Secret:
    """A configuration value that must never be shown. ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: object):
        self._value = str(value) if not isinstance(value, Secret) else value.reveal()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


class SecretRegistry:
    """The process-wide set of secret values, reference-counted across clients."""

    MIN_LENGTH = 4  # shorter values would mask unrelated text ("1", "api") everywhere

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str | Secret | None) -> None:
        """Mask these values, and their encoded forms (:func:`encoded_forms`), from now on."""
        with self._lock:
            for value in values:
                text = value.reveal() if isinstance(value, Secret) else value
                if text and len(text) >= self.MIN_LENGTH:
                    for form in encoded_forms(text, hashes=False):
                        self._counts[form] += 1
            self._pattern = None

    def discard(self, *values: str | Secret | None) -> None:
        with self._lock:
            for value in values:
                text = value.reveal() if isinstance(value, Secret) else value
                if not text or len(text) < self.MIN_LENGTH:
                    continue
                for form in encoded_forms(text, hashes=False):
                    if form in self._counts:
                        self._counts[form] -= 1
                        if self._counts[form] <= 0:
                            del self._counts[form]
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._counts:
            with self._lock:
                alts = sorted(self._counts, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, alts)))
        return pattern

    def redact(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for shape, replacement in _SHAPES:
            text = shape.sub(replacement, text)
        return text


def _base64_cores(secret: bytes) -> set[str]:
    """The base64 text that stands for ``secret`` wherever it sits in an encoded value: at each
    of the three byte alignments (``user:secret`` puts it at any), the characters that depend
    on the secret's bytes alone. An encoded ``api:`` + secret contains one of them."""
    import base64

    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode().rstrip("=")
        start = -(-8 * shift // 6)  # the first character made of the secret's bits only
        end = 8 * (shift + len(secret)) // 6
        cores.add(encoded[start:end])
        cores.add(encoded[start:])  # at the end of the value (a Basic header's password)
    return cores


def encoded_forms(secret: str, *, hashes: bool = True, min_length: int = 6) -> set[str]:
    """The forms a secret travels in, each as good as the secret: itself, URL-encoded (``%XX``
    and ``+`` for spaces), base64 of it and inside base64 of ``user:secret`` at every alignment,
    and (``hashes``) the MD5, SHA-1 and SHA-256 hex digests some vendors take instead of the
    password. Derived forms shorter than ``min_length`` are left out: they would match
    unrelated text."""
    import base64
    import hashlib
    from urllib.parse import quote, quote_plus

    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret),
             base64.b64encode(raw).decode().rstrip("="),
             base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    forms |= _base64_cores(raw)
    if hashes:
        for name in ("md5", "sha1", "sha256"):
            digest = hashlib.new(name, raw).hexdigest()
            forms |= {digest, digest.upper()}
    return {f for f in forms if f == secret or len(f) >= min_length}


SECRETS = SecretRegistry()


def redact(text: object, extra: Iterable[str] = ()) -> str:
    """``text`` as a string with every known secret and secret-shaped value masked."""
    out = SECRETS.redact(str(text))
    for value in extra:
        if value:
            out = out.replace(value, MASK)
    return out


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with secrets masked (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is logging's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True


_FILTERED_LOGGERS = (
    "urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response",
    "urllib3.util.retry", "urllib3.poolmanager", "requests", "telephony_core",
    "httpx", "httpcore", "httpcore.http11", "httpcore.http2", "httpcore.connection",
    "httpcore.proxy", "hpack", "hpack.hpack",
)
_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """A logger whose records are redacted (filters do not apply to records of child loggers,
    so every module of the library and of providers takes its logger from here)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def install_log_filter() -> None:
    """Attach the redacting filter to the loggers that print URLs and bodies (idempotent)."""
    for name in _FILTERED_LOGGERS:
        get_logger(name)

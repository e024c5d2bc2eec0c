"""X-Twilio-Signature: computing and checking it (pure functions, no I/O).

Twilio signs every webhook it sends with HMAC-SHA1 keyed by the account's Auth Token over the
full URL it requested (query string included) followed by the POST form parameters sorted by
name, each written as name + value with no separator; the digest is base64-encoded. A JSON body
is not signed as parameters: Twilio adds ``bodySHA256`` (hex SHA-256 of the raw body) to the URL
and signs the URL alone. Sources:
https://www.twilio.com/docs/usage/webhooks/webhooks-security and
https://www.twilio.com/docs/api/errors/57012 (the JSON-body variant and ``bodySHA256``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from telephony_core.errors import SignatureError

__all__ = ["SignatureError", "body_hash_ok", "compute_signature", "signature_ok",
           "url_variants"]


def compute_signature(token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The base64 HMAC-SHA1 Twilio sends for ``url`` and form ``params``.

    Parameters are sorted by name, then value (a repeated name contributes each value), as
    Twilio's helper libraries do."""
    pairs = sorted(set(params))
    data = url + "".join(name + value for name, value in pairs)
    digest = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """``url`` as given, and with its default port added or removed: Twilio's helper libraries
    accept both, because some proxies add ``:443`` and Twilio may sign either form."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    out = [url]
    if default is None or parts.hostname is None:
        return out
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = userinfo + "@" if userinfo else ""
    try:
        port = parts.port
    except ValueError:
        return out
    if port is None:
        out.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    elif port == default:
        out.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return out


def signature_ok(token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    """True when ``given`` is Twilio's signature of ``url`` and ``params`` (constant time)."""
    pairs = list(params)
    return any(hmac.compare_digest(compute_signature(token, candidate, pairs).encode(),
                                   given.encode("utf-8", "replace"))
               for candidate in url_variants(url))


def body_hash_ok(url: str, body: bytes) -> bool | None:
    """For the JSON-body variant: does ``bodySHA256`` in the URL match the body? None when the
    URL carries no ``bodySHA256`` (a form-encoded webhook)."""
    wanted = [v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
              if k == "bodySHA256"]
    if not wanted:
        return None
    actual = hashlib.sha256(body).hexdigest()
    return hmac.compare_digest(actual.encode(), wanted[-1].lower().encode("utf-8", "replace"))

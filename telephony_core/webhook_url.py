"""The cross-provider ``webhook_url`` option: where the system sends the events of this client.

An application is written once: it configures ``webhook_url`` and receives events there,
whichever system it drives. Each provider that can say where its events go maps the option to
its vendor's mechanism (Twilio's ``StatusCallback``, Telnyx's ``webhook_url``, Yeastar's login
``url``/``urltag``, the simulator's own delivery) and declares it in its config schema with
:func:`webhook_url_option`. A provider whose vendor takes no such URL through its API does not
declare it, and configuring it there is a :class:`~telephony_core.errors.ConfigurationError`
saying so (:func:`not_supported_message`), never an option silently ignored.

The URL must be absolute (``http`` or ``https``, a host, an optional port and path), checked at
configuration time: a bare host or a path would make the system post events nowhere the
application listens, and nothing would say so. A token in the URL (its query or its userinfo
password) is a secret like any other and is never shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ConfigurationError

__all__ = ["WEBHOOK_URL", "check_webhook_url", "not_supported_message", "url_secrets",
           "webhook_url_option"]

#: The option's name, the same for every provider.
WEBHOOK_URL = "webhook_url"

_PATTERN = r"^https?://[^\s/?#]+(/[^\s#]*)?$"


def webhook_url_option(how: str) -> dict[str, Any]:
    """The config-schema entry a provider declares; ``how`` says what the provider does with
    the URL (shown by ``telephony providers`` and in configuration errors)."""
    return {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": _PATTERN,
            "description": f"absolute http(s) URL your application receives events at; {how}"}


def check_webhook_url(url: Any, *, provider: str, key: str = WEBHOOK_URL) -> str:
    """``url`` if it is an absolute http(s) URL with a host and a valid port; otherwise a
    ConfigurationError naming ``key``, the problem and what is expected (never the URL itself,
    which may hold a token)."""
    expected = ("expected an absolute URL such as https://app.example.com/telephony/events "
                "(scheme http or https, host, optional port and path)")
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"option {key!r} is empty or not a string; {expected}",
                                 key=key, provider=provider)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"option {key!r} has an invalid port; expected 1-65535",
                                 key=key, provider=provider) from None
    if parts.scheme not in ("http", "https"):
        problem = "has no scheme" if not parts.scheme else f"has scheme {parts.scheme!r}"
        raise ConfigurationError(f"option {key!r} {problem}; {expected}", key=key,
                                 provider=provider)
    if not parts.hostname:
        raise ConfigurationError(f"option {key!r} has no host; {expected}", key=key,
                                 provider=provider)
    if port == 0 or any(c.isspace() for c in url) or parts.fragment:
        raise ConfigurationError(f"option {key!r} has a port 0, a space or a #fragment; "
                                 f"{expected}", key=key, provider=provider)
    return url


def url_secrets(url: str | None) -> list[str]:
    """The parts of ``url`` to treat as secrets: the userinfo password, the whole query and
    each query value (a token in a callback URL authenticates whoever posts to it)."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [password or "", parts.query]
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=False)]
    return [s for s in found if s and len(s) >= 4]


def not_supported_message(provider: str) -> str:
    """What a provider that cannot set an event URL through its API says about ``webhook_url``."""
    return (f"provider {provider!r} takes no {WEBHOOK_URL!r}: its vendor does not let a client "
            "say through the API where events go (set it in the vendor's console, or read "
            f"events with client.events() where the provider has a stream); see the {provider} "
            "provider page, section Events")

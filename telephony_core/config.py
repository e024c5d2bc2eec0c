"""From a URL, keywords, a TOML profile or the environment to a validated provider config.

Every way in ends in :func:`resolve`, which checks the options against the provider's config
schema and wraps secrets in :class:`~telephony_core.redaction.Secret`, so a config can be
printed, logged or put in an error without leaking a password.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import ConfigurationError
from .provider import ProviderSpec
from .redaction import Secret, redact
from .webhook_url import check_webhook_url, not_supported_message

__all__ = ["ProviderConfig", "default_config_path", "load_profile", "masked_url", "parse_url",
           "resolve"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ProviderConfig(Mapping[str, Any]):
    """Validated options of one provider. Secret values are :class:`Secret`; use :meth:`secret`."""

    def __init__(self, provider: str, options: Mapping[str, Any]):
        self.provider = provider
        self._options = dict(options)

    def __getitem__(self, key: str) -> Any:
        return self._options[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def secret(self, key: str) -> str | None:
        value = self._options.get(key)
        return value.reveal() if isinstance(value, Secret) else value

    def __repr__(self) -> str:
        # a URL option may carry a token (webhook_url=...?token=T): registered as a secret by
        # the provider, so redacting the whole text hides it
        shown = ", ".join(f"{k}={v!r}" if isinstance(v, Secret) else f"{k}={redact(repr(v))}"
                          for k, v in sorted(self._options.items()))
        return f"ProviderConfig({self.provider!r}, {shown})"


def default_config_path() -> Path:
    env = os.environ.get("TELEPHONY_CONFIG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "telephony" / "config.toml"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_ENCODE_HINT = ("a user or password with reserved characters must be percent-encoded: "
                "%40 for @, %3A for :, %2F for /, %3F for ?, %23 for #, %25 for %")


def masked_url(url: object) -> str:
    """``url`` fit for a message: everything before the host's ``@`` (user and password) is
    replaced by ``***``, whatever characters the password holds, and known secrets are
    redacted from the rest. Never parses first (parsing is what fails on such passwords).
    """
    if not isinstance(url, str):
        return f"a value of type {type(url).__name__}"
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    at = rest.rfind("@")
    if at >= 0:
        rest = "***@" + rest[at + 1:]
    return (scheme + sep if sep else "") + str(redact(rest))


def parse_url(url: str) -> tuple[str, dict[str, Any]]:
    """Split ``name://user:password@host:port/path?opt=value`` into a name and raw options.

    The user and password go under the generic keys ``_user``/``_password``: which option they
    fill in is the provider's to say (``username``/``password``, ``appid``/``secret``...).
    No message about the URL ever shows its user or password, even when it cannot be parsed.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(
            f"{masked_url(url)!r} is not a provider URL: expected NAME://[USER:PASSWORD@]HOST"
            "[:PORT][?option=value...], e.g. yeastar://api:SECRET@pbx.example:8088", key="url")
    shown = masked_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        problem = f"its host or port cannot be read ({_ENCODE_HINT})"
        try:  # the masked form holds no secret: its own complaint may be shown
            _ = urlsplit(shown).port
        except ValueError as exc:
            if "out of range" in str(exc):
                problem = "the port is out of range (Port out of range 0-65535)"
        raise ConfigurationError(f"{shown!r} is not a valid URL: {problem}", key="url") from None
    if "@" in parts.path or "@" in parts.fragment or "@" in (parts.hostname or ""):
        raise ConfigurationError(
            f"{shown!r} is not a valid URL: an '@' stands after the host ({_ENCODE_HINT})",
            key="url")
    name = parts.scheme
    if not name:
        raise ConfigurationError(f"{shown!r} names no provider before '://'", key="url")
    options: dict[str, Any] = {}
    if parts.username:
        options["_user"] = unquote(parts.username)
    if parts.password is not None:
        options["_password"] = unquote(parts.password)
    if parts.hostname:
        options["host"] = parts.hostname
    if port is not None:
        options["port"] = port
    if parts.path and parts.path != "/":
        options["path"] = parts.path
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in options:
            raise ConfigurationError(f"option {key!r} is given twice in the URL", key=key)
        options[key] = value
    return name, options


def load_profile(name: str, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read profile ``name`` from a TOML file (``[profiles.NAME]``)."""
    file = Path(path) if path else default_config_path()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"configuration file {str(file)!r} does not exist",
                                 key="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"configuration file {str(file)!r} is not valid TOML: {exc}",
                                 key="config") from None
    profiles = data.get("profiles", {})
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigurationError(
            f"no profile {name!r} in {str(file)!r} (profiles there: {known})", key="profile")
    profile = dict(profiles[name])
    if not isinstance(profiles[name], dict):
        raise ConfigurationError(f"profile {name!r} must be a table", key="profile")
    return profile


def _coerce(key: str, value: Any, schema: Mapping[str, Any]) -> Any:
    """Turn URL/environment strings into the type the option's schema wants."""
    if not isinstance(value, str):
        return value
    wanted = schema.get("type")
    types = wanted if isinstance(wanted, list) else [wanted]
    text = value.strip()
    if "boolean" in types:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    return value


def _explain(error: Any, secrets: frozenset[str],
             props: Mapping[str, Any]) -> str:
    key = error.path[0] if error.path else None
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(props))
        return (f"unknown option(s) {', '.join(map(repr, unknown))}; "
                f"options are: {', '.join(sorted(props))}")
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        hint = props.get(missing, {}).get("description", "")
        return f"option {missing!r} is required" + (f" ({hint})" if hint else "")
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "enum":
        expected = "one of " + ", ".join(map(repr, error.validator_value))
    elif error.validator == "type":
        expected = f"a value of type {error.validator_value}"
    elif error.validator == "exclusiveMinimum":
        expected = f"a number greater than {error.validator_value}"
    elif error.validator == "minimum":
        expected = f"a number of at least {error.validator_value}"
    elif error.validator == "maximum":
        expected = f"a number of at most {error.validator_value}"
    elif error.validator == "minLength":
        expected = "a non-empty string"
    else:
        expected = schema.get("description") or error.validator
    hint = props.get(key, {}).get("description") if isinstance(key, str) else None
    if hint and hint not in expected:
        expected += f" ({hint})"
    if key in secrets or (isinstance(key, str) and _is_url_option(props.get(key))):
        # never echo a secret's value, even a wrong one; nor a URL's, which may hold a token
        return f"option {key!r} is not valid: expected {expected}"
    return f"option {key!r}={error.instance!r} is not valid: expected {expected}"


def _is_url_option(schema: Any) -> bool:
    """An option whose value is a URL (its pattern starts with a scheme): callback URLs carry
    tokens, so a wrong one is described, never echoed."""
    pattern = schema.get("pattern", "") if isinstance(schema, Mapping) else ""
    return isinstance(pattern, str) and pattern.startswith(("^https?://", "^http"))


def resolve(spec: ProviderSpec, raw: Mapping[str, Any]) -> ProviderConfig:
    """Validate raw options (from a URL, keywords or a profile) for ``spec``."""
    schema = spec.full_config_schema
    props = schema.get("properties", {})
    options = dict(raw)
    for generic, slot in zip(("_user", "_password"), spec.url_userinfo or (), strict=False):
        if generic in options:
            if slot in options and options[slot] != options[generic]:
                raise ConfigurationError(f"option {slot!r} is given in the URL and again as an "
                                         "option", key=slot, provider=spec.name)
            options[slot] = options.pop(generic)
    for generic in ("_user", "_password"):
        if generic in options:
            raise ConfigurationError(f"provider {spec.name!r} takes no user or password in its URL",
                                     key="url", provider=spec.name)
    if "webhook_url" in options and "webhook_url" not in props:
        raise ConfigurationError(not_supported_message(spec.name), key="webhook_url",
                                 provider=spec.name)
    secrets = spec.secret_options
    if "webhook_url" in options:  # before the schema: its message never echoes the URL
        check_webhook_url(options["webhook_url"], provider=spec.name)
    plain = {k: (v.reveal() if isinstance(v, Secret) else _coerce(k, v, props.get(k, {})))
             for k, v in options.items()}
    import jsonschema  # loaded on the first connect, not on import

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(plain), key=lambda e: list(map(str, e.path)))
    if errors:
        raise ConfigurationError(
            "; ".join(_explain(e, secrets, props) for e in errors),
            key=str(errors[0].path[0]) if errors[0].path else None, provider=spec.name)
    for key, prop in props.items():
        if key not in plain and isinstance(prop, dict) and "default" in prop:
            plain[key] = prop["default"]
    if plain.get("ca") and not Path(plain["ca"]).is_file():
        raise ConfigurationError(f"option 'ca'={plain['ca']!r} is not a readable file: expected "
                                 "the path of a PEM CA bundle", key="ca", provider=spec.name)
    final = {k: Secret(v) if k in secrets else v for k, v in plain.items()}
    return ProviderConfig(spec.name, final)

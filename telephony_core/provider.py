"""What a provider is: a light *spec* that an entry point names, and the implementation it creates.

The spec is data (name, configuration schema, the operations it declares with their payload
schemas) and imports nothing heavy, so ``telephony providers`` can list every installed plugin
cheaply. Only :meth:`ProviderSpec.create` imports the implementation module.

An implementation subclasses :class:`Provider` (in-process, like the simulator) or
:class:`telephony_core.http.HttpProvider` (talks HTTP through the shared transport). Either way
it only translates: the facade has already validated the payload, and owns retries, redaction
and error mapping.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .catalogue import OPERATIONS, Capability, Operation, operation
from .errors import ConfigurationError, UnsupportedOperation
from .redaction import SECRETS, Secret
from .webhook_url import url_secrets

if TYPE_CHECKING:
    from .config import ProviderConfig
    from .http import WireRequest
    from .results import Event
    from .schemas import PayloadValidator


@attrs.frozen
class FollowUp:
    """One step of a call flow, sent by :meth:`Client.handle_event`.

    ``retry_safe`` only when the request carries a key the vendor de-duplicates on (a repeat is
    then harmless); otherwise it is sent at most once, like any non-idempotent operation.
    """

    request: WireRequest
    retry_safe: bool = False
    reason: str = ""

__all__ = ["HTTP_OPTIONS", "FollowUp", "Provider", "ProviderSpec", "load_object"]

#: Options every HTTP provider understands (catalogue.md), merged into its config schema.
HTTP_OPTIONS: dict[str, dict[str, Any]] = {
    "scheme": {"enum": ["https", "http"], "default": "https",
               "description": "https, or http (warned about unless the host is loopback)"},
    "ca": {"type": "string", "minLength": 1,
           "description": "path of a CA bundle to verify the provider's certificate with"},
    "insecure": {"type": "boolean", "default": False,
                 "description": "turn TLS certificate verification off (logged as a warning)"},
    "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 10,
                "description": "seconds to wait for an answer after sending (read timeout)"},
    "connect_timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 120, "default": 5,
                        "description": "seconds to wait for a connection"},
    "deadline": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600, "default": 30,
                 "description": "overall seconds one operation may take, retries included"},
    "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 2,
                "description": "how often a read or idempotent operation is retried"},
    "max_reply_bytes": {"type": "integer", "minimum": 1024, "maximum": 1024 ** 3,
                        "default": 4 * 1024 * 1024,
                        "description": "the largest reply read; a larger one is refused"},
    "proxy": {"type": "string", "pattern": "^https?://[^\\s]+$", "writeOnly": True,
              "description": "an http(s) proxy URL, http://[USER:PASSWORD@]HOST:PORT"},
    "trust_env": {"type": "boolean", "default": False,
                  "description": "use the environment's proxy and CA variables "
                                 "(HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...)"},
}


def load_object(target: str) -> Any:
    """Import ``"package.module:attribute"``."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return functools.reduce(getattr, attribute.split("."), module) if attribute else module


@attrs.frozen(eq=False)
class ProviderSpec:
    """The declaration of a provider: everything knowable without importing its implementation.

    ``operations`` maps each declared operation to the path of its payload schema inside
    ``package`` (``None`` means: the canonical schema, unchanged). ``config_schema`` is an
    object schema of the provider's own options; mark secrets ``"writeOnly": true``.
    ``url_userinfo`` names the options that a URL's ``USER:PASSWORD@`` fill in.
    ``details`` says per operation *how* it is supported, for the capability matrix.
    ``implementation`` and ``emulator`` are ``"module:attribute"`` strings for installed plugins
    (so listing providers imports nothing heavy); an application registering a provider
    in-process may pass the class or factory itself.
    """

    name: str
    title: str
    package: str
    implementation: str | type
    operations: Mapping[str, str | None]
    config_schema: Mapping[str, Any] = attrs.field(factory=lambda: {"type": "object"})
    url_userinfo: tuple[str, str] | None = ("username", "password")
    http: bool = True
    events: bool = False
    emulator: str | Callable[..., Any] | None = None
    details: Mapping[str, str] = attrs.field(factory=dict)
    docs: str = ""
    #: The provider contract the implementation follows: 2 is sans-IO (both clients); 1 is the
    #: first contract (the provider sends through ``self.transport``; sync client only).
    plugin_api: int = 1

    def __attrs_post_init__(self) -> None:
        for name in self.operations:
            operation(name)  # raises UnknownOperation for a typo in a declaration

    # -- declarations -------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        caps = {OPERATIONS[name].capability for name in self.operations}
        if self.events:
            caps.add(Capability.EVENTS)
        return frozenset(caps)

    def supports(self, what: str | Capability) -> bool:
        """True for a declared operation, or a capability with at least one declared operation."""
        if what in self.operations:
            return True
        try:
            return Capability(what) in self.capabilities
        except ValueError:
            operation(str(what))  # an unknown name is an error, not "unsupported"
            return False

    def schema(self, name: str) -> dict[str, Any]:
        """The bundled payload schema this provider accepts for ``name`` (a fresh copy)."""
        return json.loads(self._schema_text(name))

    @functools.cache  # noqa: B019 - specs live as long as the process; a handful exist
    def _schema_text(self, name: str) -> str:
        from . import schemas

        if name not in self.operations:
            operation(name)
            raise UnsupportedOperation(name, self.operations, provider=self.name)
        path = self.operations[name]
        if path is None:
            return json.dumps(schemas.load(name))
        return json.dumps(schemas.bundle(schemas.load_json(self.package, path)))

    @functools.cache  # noqa: B019
    def validator(self, name: str) -> PayloadValidator:
        from . import schemas

        return schemas.validator_for(self.schema(name))

    @property
    def full_config_schema(self) -> dict[str, Any]:
        """The provider's option schema with the common HTTP options merged in."""
        schema = json.loads(json.dumps(dict(self.config_schema)))
        schema.setdefault("type", "object")
        props = schema.setdefault("properties", {})
        if self.http:
            for key, value in HTTP_OPTIONS.items():
                props.setdefault(key, value)
        schema.setdefault("additionalProperties", False)
        return schema

    @property
    def secret_options(self) -> frozenset[str]:
        props = self.full_config_schema.get("properties", {})
        return frozenset(k for k, v in props.items() if isinstance(v, dict) and v.get("writeOnly"))

    def check(self) -> list[str]:
        """Problems with this declaration (empty when it is sound); run when loading in tests."""
        from . import schemas

        found: list[str] = []
        for name in self.operations:
            try:
                narrow = self.schema(name)
                schemas.validator_for(narrow)
            except Exception as exc:  # a broken schema file is a declaration problem
                found.append(f"{name}: schema cannot be loaded: {exc}")
                continue
            canonical = schemas.load(name)
            found += [f"{name}: {p}" for p in schemas.narrowing_problems(narrow, canonical)]
        props = self.full_config_schema.get("properties", {})
        for key in self.url_userinfo or ():
            if key not in props:
                found.append(f"url_userinfo names {key!r}, which the config schema lacks")
        for key in (self.url_userinfo or ())[1:]:
            if key in props and not props[key].get("writeOnly"):
                found.append(f"option {key!r} holds the URL password but is not marked writeOnly")
        return found

    # -- creation ------------------------------------------------------------------------

    def create(self, config: ProviderConfig) -> Provider:
        """Import the implementation and build it for ``config``."""
        impl = self.implementation
        cls = load_object(impl) if isinstance(impl, str) else impl
        return cls(self, config)

    def emulator_factory(self) -> Callable[..., Any]:
        if not self.emulator:
            raise ConfigurationError(f"provider {self.name!r} ships no emulator",
                                     provider=self.name)
        return load_object(self.emulator) if isinstance(self.emulator, str) else self.emulator

    def __repr__(self) -> str:
        return f"ProviderSpec(name={self.name!r}, operations={sorted(self.operations)})"


class Provider:
    """Base of provider implementations. Subclasses implement :meth:`invoke`.

    ``invoke`` receives a payload that already passed this provider's schema, and returns the
    operation's result type or raises a :class:`~telephony_core.errors.TelephonyError`. Anything
    else it raises is turned into a typed error by the facade.
    """

    #: Non-idempotent operations this provider makes safe to re-send, because it passes the
    #: operation's idempotency key (:func:`telephony_core.context.current`) to a vendor that
    #: ignores a repeat with the same key (Telnyx ``command_id``). The retry policy treats them
    #: as idempotent. Declare an operation here only when the vendor documents that guarantee.
    retry_safe: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        self.spec = spec
        self.config = config
        #: the provider's registered name (an attribute, not a property: every result a
        #: provider makes names it, once per operation)
        self.name: str = spec.name
        self._secrets: list[str] = [v.reveal() for v in config.values() if isinstance(v, Secret)]
        if config.get("webhook_url"):  # a token in the event URL authenticates whoever posts
            self._secrets += url_secrets(str(config["webhook_url"]))
        SECRETS.add(*self._secrets)

    def add_secret(self, value: str | None) -> None:
        """Register a value learnt at run time (a session token, a password hash)."""
        if value:
            self._secrets.append(value)
            SECRETS.add(value)

    def invoke(self, op: Operation, payload: dict[str, Any]) -> Any:
        raise NotImplementedError

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        """Turn a webhook body into events. A provider that verifies signatures over the URL
        the vendor posted to (Twilio) takes a keyword ``url`` as well."""
        raise UnsupportedOperation("parse_event", self.spec.operations, provider=self.name)

    def follow_up(self, event: Event) -> Sequence[FollowUp]:
        """What a call flow does next on ``event`` (answer, play, bridge...), as wire requests.

        Flows that continue on events keep their state in the call itself where the vendor
        allows (Telnyx ``client_state``), so any process that receives the event continues the
        flow: :meth:`Client.handle_event` parses the body and sends these. Default: nothing.
        """
        return ()

    def close(self) -> None:
        """Release what the provider holds (log out); called once by ``Client.close``."""

    def forget_secrets(self) -> None:
        SECRETS.discard(*self._secrets)
        self._secrets.clear()


def declared(*names: str) -> dict[str, None]:
    """Declare operations that take the canonical schema unchanged: ``declared("hold", ...)``."""
    return dict.fromkeys(names)


def canonical_operations() -> Iterable[str]:
    return OPERATIONS.keys()

"""The APIO emulator: APIO core's authentication and the music_on_hold routes over the shared
PBX model's settings.

Demo credentials: the M2M token ``apio-demo-m2m`` (``create(token=...)``), or user ``admin`` with
password ``apio-demo`` (``create(password=...)``) for the login flow. As APIO core documents
(../shared/vendor-docs/apio-core/auth.md, openapi.yaml), only ``Authorization: Bearer`` is
accepted: the M2M token, or an access token from ``POST /api/v01/auth/login`` (renewed with the
refresh token at ``GET /api/v01/auth/access_token``); a refusal is 401 ``{"error": ...}``.
``expire_tokens()`` ends every access token (the M2M token never expires).

The resources sit under ``prefix`` (``/api/v01/p2`` by default, as behind an APIO core;
``/api/v1`` as on a provisioning gateway, seed 004). Only ``/users/`` paths exist, as on a real
gateway: seed 004's PUT example writes ``/user/``, a typo of the document, so a provider sending
it gets the 404 a gateway would give. A BroadWorks source has no "default" selection: a user
without music of its own plays its group's, which is what the shared model starts such a user
with.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from telephony_core.emulation import EmulatorApp, Request, route
from telephony_core.errors import ProviderError
from telephony_core.sim import Pbx
from telephony_core.sim.model import MohSettings, MohSource

__all__ = ["ApioEmulator", "create"]

RESOURCE = "/tenants/{tenant}/groups/{group}/users/{user}/services/music_on_hold/"
DEFAULT_PREFIX = "/api/v01/p2"
DEMO_USER, DEMO_PASSWORD, DEMO_TOKEN = "admin", "apio-demo", "apio-demo-m2m"


def _source(source: MohSource) -> dict[str, Any]:
    out: dict[str, Any] = {"messageSourceSelection": "Custom" if source.selection == "custom"
                           else "Group"}
    if source.file:
        out["audioFile"] = {"name": source.file}
        if source.media_type:
            out["audioFile"]["mediaType"] = source.media_type
    return out


def _render(settings: MohSettings) -> dict[str, Any]:
    return {"isActive": settings.active, "source": _source(settings.source),
            "useAlternateSourceForInternalCalls": settings.use_internal_source,
            "internalSource": _source(settings.internal_source)}


def _parse_source(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("messageSourceSelection") not in ("Custom", "Group"):
        raise ValueError("messageSourceSelection must be Custom or Group")
    out: dict[str, Any] = {"selection": body["messageSourceSelection"].lower()}
    audio = body.get("audioFile")
    if audio is not None:
        name = audio.get("name")
        out["file"] = None if name == "DELETE" else name
        if audio.get("mediaType"):
            out["media_type"] = audio["mediaType"]
    return out


class ApioEmulator(EmulatorApp):
    def __init__(self, pbx: Pbx | None = None, *, password: str = DEMO_PASSWORD,
                 token: str = DEMO_TOKEN, prefix: str = DEFAULT_PREFIX,
                 username: str = DEMO_USER, access_lifetime: float = 300.0):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.username, self.password, self.token = username, password, token
        self.prefix = prefix.rstrip("/")
        self.access_lifetime = access_lifetime
        self.access_tokens: dict[str, float] = {}  # access token -> when it expires (epoch)
        self.refreshes = 0
        self.refresh_tokens: set[str] = set()
        self.logins = 0
        self.serve_under(self.prefix)

    def serve_under(self, prefix: str) -> None:
        """Serve the resources under ``prefix`` as well (a gateway reached both directly and
        through an APIO core)."""
        for method, handler in (("GET", self.get), ("PUT", self.put)):
            self.add_route(method, prefix.rstrip("/") + RESOURCE, handler)

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return f"apio://{host}?scheme=http&token={self.token}&path_prefix={self.prefix}"

    def expire_tokens(self) -> None:
        self.access_tokens.clear()

    def _new_access_token(self) -> str:
        """A JWT-shaped access token whose ``exp`` claim says when it expires (unsigned: the
        emulator is the only party that checks it)."""
        expires = time.time() + self.access_lifetime
        claims = json.dumps({"sub": self.username, "exp": int(expires)}).encode()
        token = ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in (
            b'{"alg":"none","typ":"JWT"}', claims, secrets.token_bytes(16)))
        self.access_tokens[token] = expires
        return token

    def _bearer(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value if scheme == "Bearer" and value else None

    def _authorized(self, request: Request) -> bool:
        token = self._bearer(request)
        if token is None:
            return False
        return token == self.token or self.access_tokens.get(token, 0.0) > time.time()

    def _refused(self, message: str):
        return self.json_response({"error": message}, 401)

    # -- authentication (APIO core) ----------------------------------------------------------

    @route("POST", "/api/v01/auth/login")
    def login(self, request: Request):
        self.logins += 1
        body = self.read_json(request)
        if not isinstance(body, dict) or (body.get("username"), body.get("password")) != (
                self.username, self.password):
            return self._refused("invalid credentials")
        access, refresh = self._new_access_token(), secrets.token_urlsafe(24)
        self.refresh_tokens.add(refresh)
        return self.json_response({"access_token": access, "refresh_token": refresh,
                                   "token": self.token})

    @route("GET", "/api/v01/auth/access_token")
    def access_token(self, request: Request):
        if self._bearer(request) not in self.refresh_tokens:
            return self._refused("the refresh token is expired or revoked")
        self.refreshes += 1
        return self.json_response({"access_token": self._new_access_token()})

    # -- music on hold -----------------------------------------------------------------------

    def _scope(self, request: Request, tenant: str, group: str, user: str):
        if not self._authorized(request):
            return None, self._refused("authentication required")
        scope = {"tenant": tenant, "group": group, "user": user}
        try:
            self.pbx.get_music_on_hold(scope)
        except ProviderError as exc:
            if exc.code != "moh_not_assigned":
                raise
            return None, self.json_response({"error": "service not assigned"}, 404)
        return scope, None

    def get(self, request: Request, tenant: str, group: str, user: str):
        scope, refusal = self._scope(request, tenant, group, user)
        return refusal or self.json_response(_render(self.pbx.get_music_on_hold(scope)))

    def put(self, request: Request, tenant: str, group: str, user: str):
        scope, refusal = self._scope(request, tenant, group, user)
        if refusal:
            return refusal
        body = self.read_json(request)
        if not isinstance(body, dict):
            return self.json_response({"error": "failed to update: a JSON object expected"},
                                      400)
        changes: dict[str, Any] = {}
        try:
            for wire, name in (("isActive", "active"),
                               ("useAlternateSourceForInternalCalls", "use_internal_source")):
                if wire in body:
                    if not isinstance(body[wire], bool):
                        raise ValueError(f"{wire} must be a boolean")
                    changes[name] = body[wire]
            for wire, name in (("source", "source"), ("internalSource", "internal_source")):
                if wire in body:
                    changes[name] = _parse_source(body[wire])
        except (ValueError, AttributeError) as exc:
            return self.json_response({"error": f"failed to update: {exc}"}, 400)
        return self.json_response(_render(self.pbx.set_music_on_hold(scope, **changes)))


def create(pbx: Pbx | None = None, **options: Any) -> ApioEmulator:
    return ApioEmulator(pbx, **options)

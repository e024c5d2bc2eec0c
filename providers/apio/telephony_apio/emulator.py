"""The APIO emulator: the music_on_hold routes over the shared PBX model's settings.

Demo credentials: user ``admin``, password ``apio-demo`` (or whatever ``create(password=...)``
is given). Only ``/users/`` paths exist, as on a real gateway: seed 004's PUT example writes
``/user/``, a typo of the document, so a provider sending it gets the 404 a gateway would give.
A BroadWorks source has no "default" selection: a user without music of its own plays its
group's, which is what the shared model starts such a user with.
"""

from __future__ import annotations

import base64
from typing import Any

from telephony_core.emulation import EmulatorApp, Request, route
from telephony_core.errors import ProviderError
from telephony_core.sim import Pbx
from telephony_core.sim.model import MohSettings, MohSource

__all__ = ["ApioEmulator", "create"]

PATH = "/api/v1/tenants/{tenant}/groups/{group}/users/{user}/services/music_on_hold/"
DEMO_USER, DEMO_PASSWORD = "admin", "apio-demo"


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
                 token: str | None = None):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.username, self.password, self.token = DEMO_USER, password, token

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return f"apio://{self.username}:{self.password}@{host}?scheme=http"

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme == "Bearer":
            return self.token is not None and value == self.token
        if scheme == "Basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return (user, password) == (self.username, self.password)
        return False

    def _scope(self, request: Request, tenant: str, group: str, user: str):
        if not self._authorized(request):
            return None, self.json_response({"error": "authentication required"}, 401)
        scope = {"tenant": tenant, "group": group, "user": user}
        try:
            self.pbx.get_music_on_hold(scope)
        except ProviderError as exc:
            if exc.code != "moh_not_assigned":
                raise
            return None, self.json_response({"error": "service not assigned"}, 404)
        return scope, None

    @route("GET", PATH)
    def get(self, request: Request, tenant: str, group: str, user: str):
        scope, refusal = self._scope(request, tenant, group, user)
        return refusal or self.json_response(_render(self.pbx.get_music_on_hold(scope)))

    @route("PUT", PATH)
    def put(self, request: Request, tenant: str, group: str, user: str):
        scope, refusal = self._scope(request, tenant, group, user)
        if refusal:
            return refusal
        body = self.read_json(request)
        changes: dict[str, Any] = {}
        try:
            if "isActive" in body:
                changes["active"] = bool(body["isActive"])
            if "useAlternateSourceForInternalCalls" in body:
                changes["use_internal_source"] = bool(body["useAlternateSourceForInternalCalls"])
            for wire, name in (("source", "source"), ("internalSource", "internal_source")):
                if wire in body:
                    changes[name] = _parse_source(body[wire])
        except (ValueError, AttributeError) as exc:
            return self.json_response({"error": f"failed to update: {exc}"}, 400)
        return self.json_response(_render(self.pbx.set_music_on_hold(scope, **changes)))


def create(pbx: Pbx | None = None, **options: Any) -> ApioEmulator:
    return ApioEmulator(pbx, **options)

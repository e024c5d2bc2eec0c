"""The Example PBX provider: translation only (the facade validates, retries and redacts).

Wire format: ``POST /api/login`` gives a session token, sent as ``Authorization: Bearer``;
``POST /api/calls``, ``DELETE /api/calls/ID``, ``GET /api/calls``. Errors are JSON
``{"error": CODE}`` with a 4xx status; a 401 means the session expired.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from telephony_core.errors import AuthenticationError, PayloadError, PayloadProblem, ProviderError
from telephony_core.events import parse_body
from telephony_core.redaction import get_logger
from telephony_core.results import Ack, CallInfo, CallRef, Event
from telephony_core.wire import HttpProvider, Route, Token, WireReply, WireRequest

log = get_logger("telephony_example")  # a redacting logger: never logging.getLogger

#: HTTP status of a refusal -> canonical category (the body's "error" is the canonical code)
CATEGORIES: dict[int, str] = {400: "invalid", 404: "not_found", 409: "busy", 422: "forbidden"}


def wire_number(address: str) -> tuple[str, str]:
    """``ext:1000`` -> ("extension", "1000"); ``tel:41000`` -> ("external", "41000")."""
    kind, _, value = address.partition(":")
    return ("extension" if kind == "ext" else "external"), value


def _dial(provider: ExampleProvider, payload: dict[str, Any]) -> WireRequest:
    _, caller = wire_number(payload["caller"])
    to_type, callee = wire_number(payload["callee"])
    return WireRequest("POST", "/api/calls", json={
        "from": caller, "to": callee, "to_type": to_type,
        "auto_answer": bool(payload.get("auto_answer", False))})


def _call_info(call: dict[str, Any]) -> CallInfo:
    return CallInfo(call_id=call["id"], direction=call["direction"], caller=call["from"],
                    callee=call["to"], state=call["state"], raw=call)


class ExampleProvider(HttpProvider):
    """Plugin API 2: translation only. The login is *declared* (:meth:`login`, :meth:`attach`,
    :meth:`token_is_dead`, :meth:`logout`); the core runs it single flight for the sync and the
    async client alike, logs in again at most once per operation when a reply says the session
    expired, and logs out on close. No lock, no token attribute, no ``self.transport``."""

    base_path = ""

    def login(self) -> Generator[WireRequest, WireReply, Token]:
        """``POST /api/login`` -> ``{"token": ...}`` (API.md, *Log in*). A refusal is an
        AuthenticationError: the core never retries it."""
        reply = yield WireRequest("POST", "/api/login", json={
            "username": self.config["username"], "password": self.config.secret("password")})
        if reply.status != 200:
            raise AuthenticationError(f"the PBX refused the login (HTTP {reply.status})")
        log.debug("logged in to the Example PBX")  # never the token: the core masks it anyway
        return Token(reply.json()["token"])

    def attach(self, request: WireRequest, token: Token) -> WireRequest:
        """The session token travels as ``Authorization: Bearer`` (API.md)."""
        return request.with_headers({"Authorization": f"Bearer {token.value}"})

    def token_is_dead(self, reply: WireReply) -> bool:
        """HTTP 401 means the session expired (API.md, *Errors*)."""
        return reply.status == 401

    def logout(self, token: Token) -> WireRequest:
        """``POST /api/logout``, once, when the client closes."""
        return WireRequest("POST", "/api/logout")

    def decode(self, reply: WireReply, op) -> Any:
        if reply.status in CATEGORIES:
            data = reply.json() if reply.body else {}
            code = data.get("error") or "rejected"
            raise ProviderError(f"the PBX refused the request: {data.get('message', code)}",
                                code=code, category=CATEGORIES[reply.status],  # type: ignore
                                vendor_code=str(reply.status))
        return super().decode(reply, op)

    routes = {
        "dial": Route(_dial, lambda p, data, payload: CallRef(p.name, data["id"], raw=data)),
        "hangup": Route(
            lambda p, payload: WireRequest("DELETE", "/api/calls/" + payload["call"][5:]),
            lambda p, data, payload: Ack(p.name, raw=data)),
        "list_calls": Route(
            lambda p, payload: WireRequest("GET", "/api/calls", params=(
                {"direction": payload["direction"]} if "direction" in payload else None)),
            lambda p, data, payload: [
                info for info in map(_call_info, data["calls"])
                if not payload.get("ids") or f"call:{info.call_id}" in payload["ids"]]),
    }

    #: the PBX's report names -> canonical event kinds
    EVENT_KINDS = {"ringing": "call.ringing", "answered": "call.answered",
                   "hangup": "call.hangup", "failed": "call.failed"}

    def parse_event(self, body: bytes, headers) -> list[Event]:
        """A call report: ``{"event": "answered", "call": "1495700000.101",
        "parties": ["ext:1000", "tel:41000"]}``."""
        data = parse_body(body, headers)
        kind = self.EVENT_KINDS.get(data.get("event"))
        if kind is None or "call" not in data:
            raise PayloadError([PayloadProblem("$.event", f"not a call report of the Example "
                                               f"PBX: expected one of {sorted(self.EVENT_KINDS)}")])
        return [Event(kind, self.name, call_id=data["call"],
                      parties=tuple(data.get("parties", ())), raw=data)]

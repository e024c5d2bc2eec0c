"""The Example PBX provider: translation only (the facade validates, retries and redacts).

Wire format: ``POST /api/login`` gives a session token, sent as ``Authorization: Bearer``;
``POST /api/calls``, ``DELETE /api/calls/ID``, ``GET /api/calls``. Errors are JSON
``{"error": CODE}`` with a 4xx status; a 401 means the session expired.
"""

from __future__ import annotations

import threading
from typing import Any

from telephony_core.errors import AuthenticationError, PayloadError, PayloadProblem, ProviderError
from telephony_core.events import parse_body
from telephony_core.http import HttpProvider, Route, WireReply, WireRequest
from telephony_core.redaction import get_logger
from telephony_core.results import Ack, CallInfo, CallRef, Event

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
    """Logs in once for a session token; logs in again (once) when the PBX says it expired."""

    base_path = ""

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self._token: str | None = None
        self._lock = threading.Lock()

    def _login(self) -> str:
        with self._lock:
            if self._token is None:
                reply = self.transport.send(WireRequest("POST", "/api/login", json={
                    "username": self.config["username"],
                    "password": self.config.secret("password")}))
                if reply.status != 200:
                    raise AuthenticationError(f"the PBX refused the login (HTTP {reply.status})")
                token = reply.json()["token"]
                self.add_secret(token)  # from now on it is masked wherever it shows up
                self._token = token
                log.debug("logged in to the Example PBX")
            return self._token

    def authorize(self, request: WireRequest) -> WireRequest:
        headers = {**(request.headers or {}), "Authorization": f"Bearer {self._login()}"}
        return WireRequest(request.method, request.path, request.params, request.json,
                           request.data, headers)

    def call(self, request: WireRequest, op=None) -> Any:
        try:
            return super().call(request, op)
        except AuthenticationError:
            with self._lock:
                self._token = None  # the session expired: one new login, then give up
            return super().call(request, op)

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

    def close(self) -> None:
        if self._token is not None:
            try:
                self.transport.send(self.authorize(WireRequest("POST", "/api/logout")))
            except Exception:  # logging out is best effort; the session times out anyway
                log.debug("logout failed")
        super().close()

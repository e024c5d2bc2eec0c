"""The Example PBX's emulator: its wire API, served by the emulation kit over the shared model.

The call model is telephony_core's simulator (:class:`telephony_core.sim.Pbx`): the emulator
only translates the Example PBX's wire format to model calls and back, so the conformance suite
can check that the provider + this emulator change the model exactly as the ``sim`` provider does.

Demo credentials: user ``api``, password ``example-demo`` (or the ``password`` given to
:func:`create`).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from telephony_core.emulation import EmulatorApp, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

DEMO_PASSWORD = "example-demo"

#: model refusal category -> the Example PBX's HTTP status
STATUS = {"not_found": 404, "busy": 409, "invalid": 400, "forbidden": 422, "transient": 503,
          "unknown": 400}
#: model events the Example PBX reports, under its own names
REPORTED = {"call.ringing": "ringing", "call.answered": "answered", "call.hangup": "hangup",
            "call.failed": "failed"}


def wire_call(call: Any) -> dict[str, Any]:
    """A model call as the Example PBX lists it."""
    parties = list(call.parties)
    callee = parties[1] if len(parties) > 1 else call.pending
    return {"id": call.id, "from": parties[0] if parties else None, "to": callee,
            "state": call.state, "direction": "inbound" if call.direction == "inbound"
            else "outbound"}


def report(event: Event) -> tuple[bytes, dict[str, str]] | None:
    """The report the Example PBX POSTs for a model event (None: it reports no such change)."""
    name = REPORTED.get(event.kind)
    if name is None:
        return None
    body = {"event": name, "call": event.call_id, "parties": list(event.parties)}
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


class ExampleEmulator(EmulatorApp):
    """Emulator of the Example PBX. Demo credentials: user ``api``, password ``example-demo``."""

    def __init__(self, pbx: Pbx | None = None, password: str = DEMO_PASSWORD):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.password = password
        self.tokens: set[str] = set()

    def connect_url(self, base_url: str) -> str:
        return f"example://api:{self.password}@{base_url.split('://', 1)[1]}?scheme=http"

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def render_event(self, event: Event) -> tuple[bytes, dict[str, str]] | None:
        """The webhook report for a model event (the conformance suite parses it back)."""
        return report(event)

    def _authorized(self, request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def _refused(self, exc: ProviderError):
        return {"error": exc.code, "message": exc.message}, STATUS.get(exc.category, 400)

    @route("POST", "/api/login")
    def login(self, request):
        body = self.read_json(request) or {}
        if body.get("username") != "api" or body.get("password") != self.password:
            return {"error": "bad_credentials"}, 401
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens.add(token)
        return {"token": token}

    @route("POST", "/api/logout")
    def logout(self, request):
        with self.lock:
            self.tokens.discard(request.headers.get("Authorization", "")[7:])
        return {}

    @route("POST", "/api/calls")
    def dial(self, request):
        if not self._authorized(request):
            return {"error": "token_expired"}, 401
        body = self.read_json(request) or {}
        try:
            call = self.pbx.dial(f"ext:{body['from']}", _address(body["to_type"], body["to"]),
                                 auto_answer=bool(body.get("auto_answer")))
        except ProviderError as exc:
            return self._refused(exc)
        return {"id": call.id}, 201

    @route("DELETE", "/api/calls/{call_id}")
    def hangup(self, request, call_id):
        if not self._authorized(request):
            return {"error": "token_expired"}, 401
        try:
            self.pbx.hangup(f"call:{call_id}")
        except ProviderError as exc:
            return self._refused(exc)
        return {}

    @route("GET", "/api/calls")
    def list_calls(self, request):
        if not self._authorized(request):
            return {"error": "token_expired"}, 401
        calls = [wire_call(c) for c in self.pbx.list_calls(request.args.get("direction"))]
        return {"calls": calls}


def _address(to_type: str, number: str) -> str:
    return f"ext:{number}" if to_type == "extension" else f"tel:{number}"


def create(pbx: Pbx | None = None, password: str = DEMO_PASSWORD) -> ExampleEmulator:
    """The emulator factory the spec names (``telephony emulate example``)."""
    return ExampleEmulator(pbx, password=password)

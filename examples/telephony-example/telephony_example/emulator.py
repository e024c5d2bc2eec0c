"""The Example PBX's emulator: its wire API, served by the emulation kit over a call model.

Demo credentials: user ``api``, password ``example-demo`` (or the ``password`` given to
:func:`create`).
"""

from __future__ import annotations

import secrets
from typing import Any

from telephony_core.emulation import EmulatorApp, route

DEMO_PASSWORD = "example-demo"


class ExampleModel:
    """The little call model the emulator serves: four extensions, calls between them."""

    def __init__(self, extensions=("1000", "1001", "1002", "1003")):
        self.extensions = set(extensions)
        self.calls: dict[str, dict[str, Any]] = {}
        self._next = 1

    def busy(self, number: str) -> bool:
        return any(number in (c["from"], c["to"]) for c in self.calls.values())

    def dial(self, caller: str, callee: str, to_type: str, auto_answer: bool) -> str:
        if caller not in self.extensions or (to_type == "extension"
                                             and callee not in self.extensions):
            raise LookupError("no_such_extension")
        if self.busy(caller) or (to_type == "extension" and self.busy(callee)):
            raise RuntimeError("busy")
        call_id = f"{self._next}"
        self._next += 1
        self.calls[call_id] = {"id": call_id, "from": caller, "to": callee, "to_type": to_type,
                               "state": "talking" if auto_answer else "ringing"}
        return call_id

    def hangup(self, call_id: str) -> None:
        if self.calls.pop(call_id, None) is None:
            raise LookupError("no_such_call")

    def snapshot(self) -> dict[str, Any]:
        return {"calls": sorted(self.calls.values(), key=lambda c: c["id"])}


class ExampleEmulator(EmulatorApp):
    """Emulator of the Example PBX. Demo credentials: user ``api``, password ``example-demo``."""

    def __init__(self, pbx: Any = None, password: str = DEMO_PASSWORD):
        super().__init__(pbx if pbx is not None else ExampleModel())
        self.password = password
        self.tokens: set[str] = set()

    def connect_url(self, base_url: str) -> str:
        return f"example://api:{self.password}@{base_url.split('://', 1)[1]}?scheme=http"

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def _authorized(self, request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

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
            with self.lock:
                call_id = self.pbx.dial(body["from"], body["to"], body["to_type"],
                                        bool(body.get("auto_answer")))
        except LookupError as exc:
            return {"error": str(exc.args[0])}, 404
        except RuntimeError:
            return {"error": "busy"}, 409
        return {"id": call_id}, 201

    @route("DELETE", "/api/calls/{call_id}")
    def hangup(self, request, call_id):
        if not self._authorized(request):
            return {"error": "token_expired"}, 401
        try:
            with self.lock:
                self.pbx.hangup(call_id)
        except LookupError:
            return {"error": "no_such_call"}, 404
        return {}

    @route("GET", "/api/calls")
    def list_calls(self, request):
        if not self._authorized(request):
            return {"error": "token_expired"}, 401
        with self.lock:
            calls = self.pbx.snapshot()["calls"]
        if request.args.get("direction") == "inbound":
            calls = []
        return {"calls": calls}


def create(pbx: Any = None, password: str = DEMO_PASSWORD) -> ExampleEmulator:
    """The emulator factory the spec names (``telephony emulate example``)."""
    return ExampleEmulator(pbx, password=password)

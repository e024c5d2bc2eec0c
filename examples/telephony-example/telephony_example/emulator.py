"""The Example PBX's emulator: its wire API, served by the emulation kit over a call model.

Demo credentials: user ``api``, password ``example-demo`` (or the ``password`` given to
:func:`create`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from telephony_core.emulation import EmulatorApp, route
from telephony_core.results import Event

DEMO_PASSWORD = "example-demo"


class Clock:
    """Model time: tests advance it, nothing sleeps."""

    def __init__(self, model: ExampleModel):
        self.now = 0.0
        self._model = model

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._model.expire()


class ExampleModel:
    """The little call model the emulator serves: four extensions and calls between them.

    A call rings (the callee has ``RING_TIMEOUT`` seconds to answer) and then talks; every
    change is published as a canonical :class:`~telephony_core.results.Event`.
    """

    RING_TIMEOUT = 30

    def __init__(self, extensions=("1000", "1001", "1002", "1003")):
        self.extensions = set(extensions)
        self.calls: dict[str, dict[str, Any]] = {}
        self.clock = Clock(self)
        self._next = 1
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        self._subscribers.append(callback)

    def _emit(self, kind: str, call: dict[str, Any]) -> None:
        event = Event(kind, "example", call_id=f"call:{call['id']}",
                      parties=(f"ext:{call['from']}", _address(call["to_type"], call["to"])))
        for callback in self._subscribers:
            callback(event)

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
        call = {"id": call_id, "from": caller, "to": callee, "to_type": to_type,
                "state": "talking" if auto_answer else "ringing", "since": self.clock.now}
        self.calls[call_id] = call
        self._emit("call.answered" if auto_answer else "call.ringing", call)
        return call_id

    def hangup(self, call_id: str) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            raise LookupError("no_such_call")
        self._emit("call.hangup", call)

    def _call_of(self, party: str) -> dict[str, Any]:
        number = party.partition(":")[2]
        for call in self.calls.values():
            if number in (call["from"], call["to"]):
                return call
        raise LookupError(f"{party} is in no call")

    # -- the far end ---------------------------------------------------------------------

    def answer(self, party: str) -> None:
        """The callee picks up."""
        call = self._call_of(party)
        if call["state"] != "ringing":
            raise RuntimeError(f"the call of {party} is not ringing")
        call["state"] = "talking"
        self._emit("call.answered", call)

    def far_hangup(self, party: str) -> None:
        """A party puts the phone down."""
        self.hangup(self._call_of(party)["id"])

    def expire(self) -> None:
        for call in list(self.calls.values()):
            if call["state"] == "ringing" and self.clock.now - call["since"] >= self.RING_TIMEOUT:
                del self.calls[call["id"]]
                self._emit("call.failed", call)

    def snapshot(self) -> dict[str, Any]:
        calls = [{k: v for k, v in c.items() if k != "since"} for c in self.calls.values()]
        return {"calls": sorted(calls, key=lambda c: int(c["id"]))}


def _address(to_type: str, number: str) -> str:
    return f"ext:{number}" if to_type == "extension" else f"tel:{number}"


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

    def render_event(self, event: Event) -> tuple[bytes, dict[str, str]] | None:
        """The webhook report for a model event (the conformance suite parses it back)."""
        return _report(event)

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


def _report(event: Event) -> tuple[bytes, dict[str, str]] | None:
    """The report the Example PBX POSTs for a model event (None: it reports no such change)."""
    name = {"call.ringing": "ringing", "call.answered": "answered", "call.hangup": "hangup",
            "call.failed": "failed"}.get(event.kind)
    if name is None:
        return None
    caller, callee = event.parties
    to_type = "extension" if callee.startswith("ext:") else "external"
    body = {"event": name, "call": (event.call_id or "").removeprefix("call:"),
            "from": caller.partition(":")[2], "to": callee.partition(":")[2], "to_type": to_type}
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


def create(pbx: Any = None, password: str = DEMO_PASSWORD) -> ExampleEmulator:
    """The emulator factory the spec names (``telephony emulate example``)."""
    return ExampleEmulator(pbx, password=password)

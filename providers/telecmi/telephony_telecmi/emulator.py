"""The TeleCMI emulator: make-call (global and India) and the live-call actions over the shared
model, with live events and per-leg CDRs in the vendor's shapes.

Demo credentials: app id ``2222226``, secret ``telecmi-demo``. Live events and CDRs are POSTed to
``webhook_url`` when given. Every body follows a vendor sample (tests/documented/*.json cite
them):

* make-call (seed 001): 420 bad credentials, 404 unknown music file, 422 a missing property,
  502 a missing or malformed PCMO; a refusal of the model itself (no free trunk...) is a 500
  with the reason (undocumented: fidelity row T21);
* live actions: ``/v1/call/global_action`` for calls placed through the global endpoint,
  ``/v1/call/action`` for India's, the call named ``cmiuid`` (the Node SDK); every refusal there
  is a 404, as the live-action host documents (a bad secret included);
* live events of a global call (PIOPIY-doc piopiy/docs/live-out-started, live-out-answered): no
  ``type``, ``status`` ``out_started`` / ``out_answered`` (leg a) / ``out_bridged`` (leg b),
  ``time`` in milliseconds, ``extra_params`` echoed as sent; India's (piopiy-india/docs/
  live-out-started): ``type: "event"``, ``started`` / ``answered``;
* CDRs: one per leg (``type: "cdr"``, ``status`` ``answered``/``missed``, ``duration``,
  ``start_time``/``answer_time``/``end_time`` in seconds, no ``billsec``: piopiy/docs/
  inbound-webhooks-answered); India's as piopiy-india/docs/outbound-webhooks-answered.

Leg a's ``cmiuuid`` is the model's call id; leg b's is that id with ``-b``. No live event is
sent for a hangup: the vendor documents none for PIOPIY; the CDRs say that a leg ended.
"""

from __future__ import annotations

import secrets
from typing import Any

from telephony_core.emulation import EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

__all__ = ["TeleCmiEmulator", "create"]

GLOBAL_ACTION, INDIA_ACTION = "/v1/call/global_action", "/v1/call/action"
LEG_B = "-b"


class TeleCmiEmulator(EmulatorApp):
    def __init__(self, pbx: Pbx | None = None, *, appid: int = 2222226,
                 secret: str = "telecmi-demo", webhook_url: str | None = None,
                 password: str | None = None):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.appid, self.secret = appid, password or secret
        self.requests_of: dict[str, dict[str, Any]] = {}  # model call id -> request facts
        self.sender = WebhookSender(webhook_url) if webhook_url else None
        self._placing: dict[str, Any] | None = None
        self.pbx.subscribe(self._on_event)

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return (f"telecmi://{self.appid}:{self.secret}@{host}?scheme=http"
                "&action_host=127.0.0.1")

    def _refuse(self, status: int, message: str):
        return self.json_response({"code": status, "msg": message}, status)

    def _body(self, request: Request, refusal_status: int):
        body = self.read_json(request)
        if not isinstance(body, dict):
            return None, self._refuse(422, "the body must be a JSON object")
        if (body.get("appid"), body.get("secret")) != (self.appid, self.secret):
            return None, self._refuse(refusal_status, "Invalid app id or secret, "
                                                      "authentication failed")
        return body, None

    # -- make call ---------------------------------------------------------------------------

    @route("POST", "/v2/global_pcmo_make_call")
    @route("POST", "/v2/ind_pcmo_make_call")
    def make_call(self, request: Request):
        body, refusal = self._body(request, 420)
        if refusal:
            return refusal
        for field in ("from", "to", "pcmo"):
            if body.get(field) in (None, ""):
                return self._refuse(422, f"Missing required property: {field}")
        pcmo = body["pcmo"]
        if not isinstance(pcmo, list) or not pcmo or not all(isinstance(a, dict) for a in pcmo):
            return self._refuse(502, "The property required is missing: pcmo actions")
        extra = body.get("extra_params")
        request_id = secrets.token_urlsafe(32)[:43]
        facts = {"request_id": request_id, "extra_params": extra, "from": body["from"],
                 "to": body["to"], "india": request.path.startswith("/v2/ind_"),
                 "legs": {}}
        with self.pbx.lock:  # the call's first event fires inside the model call
            self._placing = facts
            try:
                return self._place(body, pcmo, _reference(extra), request_id)
            finally:
                self._placing = None

    def _place(self, body: dict[str, Any], pcmo: list[dict[str, Any]], reference: Any,
               request_id: str):
        try:
            if pcmo[0].get("action") == "bridge":
                target = pcmo[0].get("connect") or [{}]
                if not isinstance(target, list) or not isinstance(target[0], dict) \
                        or "number" not in target[0]:
                    return self._refuse(502, "The property required is missing: connect.number")
                self.pbx.dial(f"tel:{body['to']}", f"tel:{target[0]['number']}",
                              caller_id=str(body["from"]), reference=reference)
            else:
                files = [a.get("file_name") or a.get("file_url") for a in pcmo
                         if a.get("action") == "play"]
                if not files or not all(isinstance(f, str) for f in files):
                    return self._refuse(502, "The property required is missing: file_name")
                unknown = [f for f in files if not f.startswith("http")
                           and f not in self.pbx.setup.prompts]
                if unknown:
                    return self._refuse(404, f"Invalid music filename: {unknown[0]}")
                self.pbx.play_prompt(f"tel:{body['to']}", files,
                                     caller_id=str(body["from"]), reference=reference)
        except ProviderError as exc:
            return self._refuse(500, exc.message)
        return self.json_response({"data": {"status": "progress", "request_id": request_id},
                                   "status": "progress", "request_id": request_id, "code": 200})

    # -- live actions ------------------------------------------------------------------------

    @route("POST", GLOBAL_ACTION)
    @route("POST", INDIA_ACTION)
    def call_action(self, request: Request):
        body, refusal = self._body(request, 404)
        if refusal:
            return refusal
        action, cmiuid = body.get("action"), body.get("cmiuid")
        if not isinstance(cmiuid, str) or action not in ("hold", "unhold", "holdToggle",
                                                         "hangup"):
            return self._refuse(404, "Missing parameter: cmiuid or action")
        call_id = cmiuid.removesuffix(LEG_B)
        facts = self.requests_of.get(call_id)
        wanted = INDIA_ACTION if facts and facts["india"] else GLOBAL_ACTION
        if facts is not None and request.path != wanted:
            return self._refuse(404, "cmiuuid not found")  # the other region's endpoint
        ref = f"call:{call_id}"
        try:
            if action == "hangup":
                self.pbx.hangup(ref)
            else:
                if action == "holdToggle":
                    held = self.pbx.list_calls(ids=[ref])
                    action = "unhold" if held and held[0].state == "held" else "hold"
                getattr(self.pbx, action)(ref)
        except ProviderError as exc:
            status = 404 if exc.category == "not_found" else 500
            return self._refuse(status, "cmiuuid not found" if status == 404 else exc.message)
        return self.json_response({"code": 200, "status": "success"})

    # -- webhooks ----------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self._placing is not None and event.call_id and event.call_id not in self.requests_of:
            self.requests_of[event.call_id] = self._placing
        facts = self.requests_of.get(event.call_id or "")
        if facts is None:
            return
        now = self.pbx.clock.now()
        party = event.data.get("party")
        leg = "a" if party == f"tel:{facts['to']}" else "b"
        if event.kind in ("call.ringing", "call.answered") and party:
            state = facts["legs"].setdefault(leg, {"number": party.split(":", 1)[1],
                                                   "start": now, "answer": None})
            if event.kind == "call.answered":
                state["answer"] = now
            self._send(self._live(facts, event.call_id, leg, event.kind))
        elif event.kind == "cdr":
            for name, state in sorted(facts["legs"].items()):
                self._send(self._cdr(facts, event.call_id, name, state, now))

    def _common(self, facts: dict[str, Any], call_id: str, leg: str) -> dict[str, Any]:
        out = {"appid": self.appid, "conversation_uuid": facts["request_id"],
               "direction": "outbound", "from": facts["from"], "leg": leg,
               "request_id": facts["request_id"],
               "cmiuuid": call_id if leg == "a" else call_id + LEG_B}
        if facts["extra_params"] is not None:
            out["extra_params"] = facts["extra_params"]
        return out

    def _live(self, facts: dict[str, Any], call_id: str, leg: str, kind: str) -> dict[str, Any]:
        state = facts["legs"][leg]
        if facts["india"]:
            status = "started" if kind == "call.ringing" else "answered"
            return {"type": "event", **self._common(facts, call_id, leg), "status": status,
                    "time": int(self.pbx.clock.now() * 1000), "to": int(state["number"]),
                    "callerid": facts["from"], "vn": facts["from"]}
        status = ("out_started" if kind == "call.ringing"
                  else "out_answered" if leg == "a" else "out_bridged")
        return {**self._common(facts, call_id, leg), "callerid": facts["from"], "status": status,
                "time": int(self.pbx.clock.now() * 1000), "to": int(state["number"]),
                "vn": facts["from"]}

    def _cdr(self, facts: dict[str, Any], call_id: str, leg: str, state: dict[str, Any],
             now: float) -> dict[str, Any]:
        answered = state["answer"]
        if facts["india"]:  # piopiy-india/docs/outbound-webhooks-answered
            return {"to": int(state["number"]), "time": int(state["start"] * 1000),
                    "duration": int(now - state["start"]), **self._common(facts, call_id, leg),
                    "callerid": str(facts["from"]), "vn": facts["from"], "out": True,
                    "status": "answered" if answered is not None else "missed", "type": "cdr"}
        cdr = {"to": int(state["number"]), "time": int(state["start"] * 1000),
               "start_time": int(state["start"]), "end_time": int(now),
               "duration": int(now - state["start"]), **self._common(facts, call_id, leg),
               "call_rate": "0.450000", "balance": "878.900000",
               "status": "answered" if answered is not None else "missed", "type": "cdr"}
        if answered is not None:
            cdr["answer_time"] = int(answered)
        return cdr

    def _send(self, body: dict[str, Any]) -> None:
        if self.sender is not None:
            self.sender.send(body)


def _reference(extra: Any) -> Any:
    """What the model keeps as the call's reference: the ``reference`` member of the JSON text
    (or object) sent as ``extra_params``."""
    import json

    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return extra
    if isinstance(extra, dict):
        value = extra.get("reference")
        return value if isinstance(value, str) else None
    return None


def create(pbx: Pbx | None = None, **options: Any) -> TeleCmiEmulator:
    return TeleCmiEmulator(pbx, **options)

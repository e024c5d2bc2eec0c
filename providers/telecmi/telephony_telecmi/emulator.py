"""The TeleCMI emulator: make-call (global and India) and call/action over the shared model.

Demo credentials: app id ``2222226``, secret ``telecmi-demo``. Live events and CDRs are POSTed to
``webhook_url`` when given. Status codes are the vendor's: 420 bad credentials, 404 unknown
music file (or call), 422 a missing property, 502 a missing or malformed PCMO; a refusal of the
model itself (no free trunk...) is a 500 with the reason.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from telephony_core.emulation import EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

__all__ = ["TeleCmiEmulator", "create"]

LIVE = {"call.ringing": "ringing", "call.answered": "answered", "call.hangup": "hangup"}


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
                f"&action_url={quote(base_url, safe='')}")

    def _refuse(self, status: int, message: str):
        return self.json_response({"code": status, "msg": message}, status)

    def _checked(self, request: Request):
        body = self.read_json(request)
        if not isinstance(body, dict):
            return None, self._refuse(422, "the body must be a JSON object")
        if (body.get("appid"), body.get("secret")) != (self.appid, self.secret):
            return None, self._refuse(420, "Invalid app id or secret, failed to authenticate")
        return body, None

    @route("POST", "/v2/global_pcmo_make_call")
    @route("POST", "/v2/ind_pcmo_make_call")
    def make_call(self, request: Request):
        body, refusal = self._checked(request)
        if refusal:
            return refusal
        for field in ("from", "to", "pcmo"):
            if field not in body:
                return self._refuse(422, f"Missing required property: {field}")
        pcmo = body["pcmo"]
        if not isinstance(pcmo, list) or not pcmo or not all(isinstance(a, dict) for a in pcmo):
            return self._refuse(502, "The property required is missing: pcmo actions")
        extra = body.get("extra_params")
        reference = extra.get("reference") if isinstance(extra, dict) else extra
        request_id = secrets.token_urlsafe(30)
        facts = {"request_id": request_id, "extra_params": extra, "from": body["from"],
                 "to": body["to"]}
        with self.pbx.lock:  # the call's first event fires inside the model call
            self._placing = facts
            try:
                return self._place(body, pcmo, reference, request_id)
            finally:
                self._placing = None

    def _place(self, body: dict[str, Any], pcmo: list[dict[str, Any]], reference: Any,
               request_id: str):
        try:
            if pcmo[0].get("action") == "bridge":
                target = pcmo[0].get("connect") or [{}]
                if "number" not in target[0]:
                    return self._refuse(502, "The property required is missing: connect.number")
                self.pbx.dial(f"tel:{body['to']}", f"tel:{target[0]['number']}",
                              caller_id=str(body["from"]), reference=reference)
            else:
                files = [a.get("file_name") or a.get("file_url") for a in pcmo
                         if a.get("action") == "play"]
                if not files or None in files:
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

    @route("POST", "/v1/call/action")
    def call_action(self, request: Request):
        body, refusal = self._checked(request)
        if refusal:
            return refusal
        if "cmiuuid" not in body or body.get("action") not in ("hold", "unhold", "holdToggle"):
            return self._refuse(422, "Missing required property: cmiuuid or action")
        ref = f"call:{body['cmiuuid']}"
        try:
            action = body["action"]
            if action == "holdToggle":
                held = self.pbx.list_calls(ids=[ref])
                action = "unhold" if held and held[0].state == "held" else "hold"
            getattr(self.pbx, action)(ref)
        except ProviderError as exc:
            status = 404 if exc.category == "not_found" else 500
            return self._refuse(status, exc.message)
        return self.json_response({"code": 200, "status": "success", "action": body["action"]})

    def _on_event(self, event: Event) -> None:
        if self._placing is not None and event.call_id and event.call_id not in self.requests_of:
            self.requests_of[event.call_id] = self._placing
        facts = self.requests_of.get(event.call_id or "")
        if self.sender is None or facts is None:
            return
        common = {"cmiuuid": event.call_id, "request_id": facts["request_id"],
                  "extra_params": facts["extra_params"], "from": facts["from"],
                  "to": facts["to"], "time": int(self.pbx.clock.now())}
        if event.kind in LIVE:
            self.sender.send({"type": "event", "status": LIVE[event.kind], **common})
        elif event.kind == "cdr":
            self.sender.send({"type": "cdr", **common, "duration": int(event.data["duration"]),
                              "billsec": int(event.data["talk"]),
                              "status": "answered" if event.data["talk"] else "missed"})


def create(pbx: Pbx | None = None, **options: Any) -> TeleCmiEmulator:
    return TeleCmiEmulator(pbx, **options)

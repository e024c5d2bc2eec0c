"""The Infinity emulator: the PhalApi services over the shared PBX model, with both callbacks.

Demo credentials: appid ``10001``, access key ``infinity-demo`` (``create(accesskey=...)``
changes it). Callbacks go to ``status_url`` (extension status) and ``callback_url`` (CDRs) when
given. A refusal of the model comes back the way Infinity acknowledges: ``ret`` 200 with a
non-zero ``data.status`` and the reason in ``desc``.
"""

from __future__ import annotations

import secrets
from typing import Any

from telephony_core.emulation import EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

__all__ = ["InfinityEmulator", "create"]

REQUIRED = {
    "App.Sip_Call.PlayVoice": ("destnumber", "voicetype", "voicefile", "chengshudu", "userid"),
    "App.Sip_Call.MakeCall": ("extnumber", "destnumber"),
    "App.Sip_Call.SpyCall": ("monitortype", "extnumber", "destnumber"),
}
SPY_MODES = {"1": "listen", "2": "whisper", "3": "listen"}


def _reply(ret: int = 200, status: int = 0, desc: str = "ok", **data: Any) -> dict[str, Any]:
    return {"ret": ret, "data": {"status": status, "desc": desc, **data}, "msg": ""}


class InfinityEmulator(EmulatorApp):
    def __init__(self, pbx: Pbx | None = None, *, appid: str = "10001",
                 accesskey: str = "infinity-demo", callback_url: str | None = None,
                 status_url: str | None = None, password: str | None = None):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.appid, self.accesskey = appid, password or accesskey
        self.tokens: set[str] = set()
        self.logins = 0
        self.keys: dict[str, str] = {}  # call id -> the key pressed
        self.cdr_sender = WebhookSender(callback_url) if callback_url else None
        self.status_sender = WebhookSender(status_url) if status_url else None
        self.pbx.subscribe(self._on_event)

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return f"infinity://{self.appid}:{self.accesskey}@{host}?scheme=http"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    @route("POST", "/")
    def rpc(self, request: Request):
        form = request.form
        service = form.get("service", "")
        if service == "App.Sip_Auth.Login":
            return self._login(form)
        if form.get("token") not in self.tokens:
            return self.json_response({"ret": 600, "data": {}, "msg": "token invalid or expired"})
        if service == "App.Sip_Auth.Logout":
            self.tokens.discard(form["token"])
            return self.json_response(_reply(desc="logged out"))
        missing = [f for f in REQUIRED.get(service, ()) if not form.get(f)]
        if service not in REQUIRED:
            return self.json_response({"ret": 404, "data": {}, "msg": f"no service {service}"})
        if missing:
            return self.json_response({"ret": 400, "data": {}, "msg": f"missing {missing[0]}"})
        try:
            getattr(self, service.rsplit(".", 1)[1].lower())(form)
        except ProviderError as exc:
            return self.json_response(_reply(status=1, desc=exc.message))
        return self.json_response(_reply(desc="command sent successfully"))

    def _login(self, form) -> Any:
        self.logins += 1
        if (form.get("appid"), form.get("accesskey")) != (self.appid, self.accesskey):
            return self.json_response({"ret": 401, "data": {}, "msg": "appid or accesskey wrong"})
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return self.json_response(_reply(desc="login ok", token=token))

    def playvoice(self, form) -> None:
        key, _, group = form["userid"].partition("@")
        call = self.pbx.play_prompt(
            f"tel:{form['destnumber']}", [form["voicefile"]], menu={key: f"group:{group}"},
            caller_id=form.get("disnumber") or None, reference=form.get("customuuid") or None)
        self.keys[call.id] = ""

    def makecall(self, form) -> None:
        self.pbx.dial(f"ext:{form['extnumber']}", f"tel:{form['destnumber']}",
                      caller_id=form.get("disnumber") or None,
                      reference=form.get("customuuid") or None)

    def spycall(self, form) -> None:
        mode = SPY_MODES.get(form["monitortype"])
        if mode is None:
            raise ProviderError("monitortype must be 1, 2 or 3", code="invalid", category="invalid")
        self.pbx.monitor(f"ext:{form['extnumber']}", f"ext:{form['destnumber']}", mode)

    # -- callbacks -------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.kind == "call.dtmf" and event.call_id:
            self.keys[event.call_id] = event.data.get("key", "")
        status = {"call.ringing": "ring", "call.answered": "answer", "call.hangup": "hangup"}
        exts = [p for p in event.parties if p.startswith("ext:")]
        if self.status_sender and event.kind in status and exts:
            others = [p for p in event.parties if not p.startswith("ext:")]
            self.status_sender.send({
                "uuid": event.call_id, "buuid": f"{event.call_id}-b", "status": status[event.kind],
                "extnumber": exts[0][4:], "caller": exts[0][4:],
                "callee": others[0].split(":", 1)[1] if others else "",
                "direction": "callout", "starttime": str(int(self.pbx.clock.now())),
                "customuuid": event.reference or ""})
        if self.cdr_sender and event.kind == "cdr":
            tel = [p[4:] for p in event.parties if p.startswith("tel:")]
            self.cdr_sender.send({
                "uuid": event.call_id, "customuuid": event.reference or "",
                "userkey": self.keys.get(event.call_id or "", ""),
                "billsec": int(event.data.get("talk", 0)),
                "duration": int(event.data.get("duration", 0)),
                "hangupcause": 16, "extnumber": exts[0][4:] if exts else "",
                "destnumber": tel[0] if tel else "", "type": "callout",
                "endtime": self.pbx.clock.datetime().strftime("%Y-%m-%d %H:%M:%S")})


def create(pbx: Pbx | None = None, **options: Any) -> InfinityEmulator:
    return InfinityEmulator(pbx, **options)

"""The Infinity emulator: the PhalApi services over the shared PBX model, with both callbacks.

Demo credentials: appid ``10001``, access key ``infinity-demo`` (``create(accesskey=...)``
changes it). Callbacks go to ``status_url`` (extension status) and ``callback_url`` (CDRs) when
given.

Every reply has the shape of the vendor's samples (tests/documented/*.json cite them):

* login (INF-doc "Obtain authorization token interface"): the token at ``data.result.token``;
* a command carried out: ``{"ret": 200, "data": {"status": 0, "desc", "reqtime", "rsptime"},
  "msg": ""}`` (seed 003, MakeCall, SpyCall, Logout samples);
* a command refused: ``ret`` 200, ``data.status`` 1 and ``data.errors {code, codemsg}`` from the
  global error table (1003 operation failed, 1010 extension exception, 1012 no such extension,
  1014 not registered, 1015 not in a call);
* an interface error: ``{"ret": 400|600, "data": [], "msg": ...}`` (global error table).

The account's state answers the table's interface errors: ``allowed_ips`` (a set; None admits
every address) -> 604, ``authorised = False`` -> 601, ``expired = True`` -> 602 (on every request,
the login included), ``unlicensed`` (service names) -> 603 on those services.
``added_after_login(number, logins=1)`` makes an extension unknown to the tokens of the next
``logins`` logins, as an extension created after them is, so naming it is refused with 1010.

A wrong access key gets the global table's own example refusal (status 1, errors 1003
"Authorization failed"); the document does not say what a real login refusal looks like.
``SpyCall`` follows the Chinese page (``voice-cn-api/page/api-Xfr``): monitortype 1 starts a
listen, 2 switches an ongoing listen to whisper (refused when the supervisor is not listening
to that agent), 3 switches back. A token remembers the extensions that existed when it was
issued; naming one added since is refused with 1010 until the application logs in again, as the
"Clear the Token interface" page describes.
"""

from __future__ import annotations

import secrets
import time
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
#: what each service says when it worked (the vendor's sample ``desc``s)
DONE = {"App.Sip_Call.PlayVoice": "Play command sent successfully",
        "App.Sip_Call.MakeCall": "Call command sent successfully",
        "App.Sip_Call.SpyCall": "请求成功"}
#: the shared model's refusal codes -> the global table's data.errors.code
ERROR_CODES = {"extension_not_found": ("1012", "extension does not exist"),
               "extension_not_registered": ("1014", "extension not registered"),
               "call_not_found": ("1015", "The extension is not in a call"),
               "call_not_connected": ("1015", "The extension is not in a call")}


def _stamps() -> dict[str, int]:
    now = int(time.time())
    return {"reqtime": now, "rsptime": now}


def _done(desc: str, **extra: Any) -> dict[str, Any]:
    return {"ret": 200, "data": {"status": 0, "desc": desc, **extra, **_stamps()}, "msg": ""}


def _refused(desc: str, code: str, codemsg: str) -> dict[str, Any]:
    return {"ret": 200, "data": {"status": 1, "desc": desc,
                                 "errors": {"code": code, "codemsg": codemsg}, **_stamps()},
            "msg": ""}


def _interface_error(ret: int, msg: str) -> dict[str, Any]:
    return {"ret": ret, "data": [], "msg": msg}


class InfinityEmulator(EmulatorApp):
    def __init__(self, pbx: Pbx | None = None, *, appid: str = "10001",
                 accesskey: str = "infinity-demo", callback_url: str | None = None,
                 status_url: str | None = None, password: str | None = None):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.appid, self.accesskey = appid, password or accesskey
        self.tokens: dict[str, frozenset[str]] = {}  # token -> the extensions it knows
        self.allowed_ips: set[str] | None = None
        self.authorised, self.expired = True, False
        self.unlicensed: set[str] = set()
        self._unknown_to: dict[str, int] = {}  # extension -> coming logins that miss it
        self.logins = 0
        self.keys: dict[str, str] = {}  # call id -> the key pressed
        self.times: dict[str, dict[str, str]] = {}  # call id -> start/answer "Y-m-d H:M:S"
        self.cdr_sender = WebhookSender(callback_url) if callback_url else None
        self.status_sender = WebhookSender(status_url) if status_url else None
        self.pbx.subscribe(self._on_event)

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return f"infinity://{self.appid}:{self.accesskey}@{host}?scheme=http"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def added_after_login(self, number: str, logins: int = 1) -> None:
        """The next ``logins`` tokens will not know extension ``number`` (1010 when named)."""
        self._unknown_to[number] = logins

    @route("POST", "/")
    def rpc(self, request: Request):
        form = request.form
        service = form.get("service", "").strip()
        if self.allowed_ips is not None and request.remote_addr not in self.allowed_ips:
            return self.json_response(_interface_error(604, "IP is not authorized"))
        if not self.authorised:
            return self.json_response(_interface_error(601, "appid is not authorized"))
        if self.expired:
            return self.json_response(_interface_error(602, "appid authorization has expired"))
        if service == "App.Sip_Auth.Login":
            return self.json_response(self._login(form))
        token = form.get("token")
        if token not in self.tokens:
            return self.json_response(_interface_error(
                600, "The token is invalid, please log in again to verify"))
        if service == "App.Sip_Auth.Logout":
            del self.tokens[token]
            return self.json_response(_done("logout successful"))
        if service not in REQUIRED:
            return self.json_response(_interface_error(400, f"Illegal request: no service "
                                                            f"{service}"))
        if service in self.unlicensed:
            return self.json_response(_interface_error(603, "Module not licensed"))
        missing = [f for f in REQUIRED[service] if not form.get(f)]
        if missing:
            return self.json_response(_interface_error(
                400, f"Illegal request: invalid parameter {missing[0]}"))
        unknown_to_token = [f for f in ("extnumber", "destnumber")
                            if form.get(f) in self.pbx.setup.extensions
                            and form[f] not in self.tokens[token]]
        if service != "App.Sip_Call.PlayVoice" and unknown_to_token:
            return self.json_response(_refused(
                "Extension exception", "1010", "Extension exception"))
        try:
            getattr(self, service.rsplit(".", 1)[1].lower())(form)
        except ProviderError as exc:
            code, codemsg = ERROR_CODES.get(exc.code, ("1003", "operation failed"))
            return self.json_response(_refused(exc.message, code, codemsg))
        return self.json_response(_done(DONE[service]))

    def _login(self, form) -> dict[str, Any]:
        self.logins += 1
        if (form.get("appid"), form.get("accesskey")) != (self.appid, self.accesskey):
            return _refused("Authorization failed", "1003", "Authorization failed")
        token = secrets.token_hex(16)
        missed = {n for n, logins in self._unknown_to.items() if logins > 0}
        self._unknown_to = {n: logins - 1 for n, logins in self._unknown_to.items()}
        self.tokens[token] = frozenset(self.pbx.setup.extensions) - missed
        return _done("Authorization successful", result={
            "companycode": "1", "companyname": "emulated", "token": token,
            "authtime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "authmodel": ""})

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
        supervisor, agent = f"ext:{form['extnumber']}", f"ext:{form['destnumber']}"
        kind = form["monitortype"]
        if kind == "1":
            self.pbx.monitor(supervisor, agent, "listen")
        elif kind in ("2", "3"):
            self._switch(supervisor, agent, *(("listen", "whisper") if kind == "2"
                                              else ("whisper", "listen")))
        else:
            raise ProviderError("monitortype must be 1, 2 or 3", code="invalid",
                                category="invalid")

    def _switch(self, supervisor: str, agent: str, was: str, becomes: str) -> None:
        """monitortype 2/3: change the mode of a monitor that is going on."""
        with self.pbx.lock:
            calls = [c for c in self.pbx.calls.values() if agent in c.parties]
            if not calls:
                raise ProviderError(f"{agent[4:]} is in no call", code="call_not_found",
                                    category="not_found")
            for leg in (leg for call in calls for leg in call.legs):
                if leg.party == supervisor and leg.role == f"monitor-{was}":
                    leg.role = f"monitor-{becomes}"
                    return
        raise ProviderError(f"{supervisor[4:]} is not in {was} mode on {agent[4:]}'s call",
                            code="operation_failed", category="invalid")

    # -- callbacks -------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.kind == "call.dtmf" and event.call_id:
            self.keys[event.call_id] = event.data.get("key", "")
        if event.call_id and event.kind in ("call.ringing", "call.answered"):
            stamp = self.pbx.clock.datetime().strftime("%Y-%m-%d %H:%M:%S")
            times = self.times.setdefault(event.call_id, {"start": stamp, "answer": ""})
            if event.kind == "call.answered" and not times["answer"]:
                times["answer"] = stamp
        status = {"call.ringing": "ring", "call.answered": "answer", "call.hangup": "hangup"}
        exts = [p for p in event.parties if p.startswith("ext:")]
        if self.status_sender and event.kind in status and exts:
            others = [p for p in event.parties if not p.startswith("ext:")]
            self.status_sender.send({
                "buuid": f"{event.call_id}-b", "callee": others[0].split(":", 1)[1]
                if others else "", "caller": exts[0][4:], "companycode": "1",
                "direction": "callout", "disnumber": "", "extnumber": exts[0][4:],
                "isbleg": "false", "method": "3", "starttime": str(int(self.pbx.clock.now())),
                "status": status[event.kind], "uuid": event.call_id, "ip": "127.0.0.1"})
        if self.cdr_sender and event.kind == "cdr":
            tel = [p[4:] for p in event.parties if p.startswith("tel:")]
            end = self.pbx.clock.datetime().strftime("%Y-%m-%d %H:%M:%S")
            times = self.times.pop(event.call_id or "", {"start": end, "answer": ""})
            self.cdr_sender.send({
                "answertime": times["answer"], "hangupcause": 16,
                "duration": int(event.data.get("duration", 0)), "id": 1,
                "extnumber": exts[0][4:] if exts else "", "uuid": event.call_id,
                "downloadip": "127.0.0.1", "customuuid": event.reference or "",
                "chengshudu": "1", "callmethod": 6, "recordfilename": "", "companycode": 1,
                "memberid": "0", "hangupdirection": 10040,
                "billsec": int(event.data.get("talk", 0)), "endtime": end,
                "starttime": times["start"],
                "type": "callout", "disnumber": "", "crmid": "0",
                "userkey": self.keys.get(event.call_id or "", ""),
                "destnumber": tel[0] if tel else ""})


def create(pbx: Pbx | None = None, **options: Any) -> InfinityEmulator:
    return InfinityEmulator(pbx, **options)

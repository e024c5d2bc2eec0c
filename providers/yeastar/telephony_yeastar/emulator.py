"""The Yeastar emulator: the S-Series HTTP API over the shared model, built from the vendor's guide
(../shared/vendor-docs/yeastar-s-series-api-guide/, samples under api_sample/) and seeds 000/002.

Demo credentials: user ``api``, password ``yeastar-demo`` (``create(password=...)`` changes
it). Like the PBX: every request is a POST with a JSON body and a ``token`` query parameter;
failures are HTTP 200 ``{"status": "Failed", "errno": "..."}``; tokens die after 30 idle minutes
of the model's clock; five failed logins from one address lock it out for ten minutes.

* Ids (Y18): a call through a trunk has a second id for its trunk leg (the model is switched to
  ``leg_ids``): an outbound call's ``outboundid`` is not its ``callid`` (ringing.md,
  keypress.md), and ``outbound/hangup|transfer_*|query`` take only the ``outboundid``
  (errno 10007 for the callid); an inbound call's ``inboundid`` is its ``callid``.
* Reports go to ``http://CLIENT:PORT/`` + the login's ``url`` as a path, or to ``http://`` +
  ``url`` when ``urltag`` is "1" (the vendor's v1 help site, vendor-fidelity.md Y6); a
  heartbeat (which must carry ``ipaddr`` and ``port``, api_authentication.md) moves them.
  Bodies follow the guide's samples (call-report/*.md, system_report/*.md): the older shape
  with one ``"ext"`` key per extension and an ``inbound``/``outbound`` leg object, or, when
  the login asked for ``version: "1.0.2"``, the same members in a ``"call"`` list. API
  transfers are not reported (call-transfer.md); hold and mute are not reported (the PBX
  reports extension status as Ringing/Busy/Idle/Registered/Unregistered only). An SMS gets
  ``{"status": "Success", "smsid"}`` and then an ``sms-send`` report.
* Extras: ``extensionlist/query`` (query-extension-list.md) from the model's extensions;
  every answered call is recorded (the emulator's choice: a PBX records what its settings
  say), its NewCdr names the file, and ``recording/get_random`` + a GET of
  ``recording/download`` serve it (download-a-call-recording-file.md: a random string is
  valid for 30 seconds and once; 20012 for an unknown file, 20013 for a bad random string).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from telephony_core.emulation import EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

__all__ = ["YeastarEmulator", "create"]

TOKEN_IDLE = 1800.0
RANDOM_LIFETIME = 30.0
#: a recording's bytes: a WAV header and a second of 8 kHz 16-bit silence
SILENCE = (b"RIFF" + (36 + 16000).to_bytes(4, "little") + b"WAVEfmt "
           + (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
           + (8000).to_bytes(4, "little") + (16000).to_bytes(4, "little")
           + (2).to_bytes(2, "little") + (16).to_bytes(2, "little") + b"data"
           + (16000).to_bytes(4, "little") + bytes(16000))
#: the model's extension states as extensionlist/query words them
EXTENSION_LIST_STATUS = {"idle": "Registered", "ringing": "Ringing", "talking": "Busy",
                         "held": "Hold", "waiting": "Busy"}
LOCKOUT = 600.0
ERRNO = {
    "extension_not_found": "10006", "extension_not_idle": "10008",
    "extension_not_registered": "10008", "dnd": "10008", "already_monitored": "10008",
    "call_not_found": "10007", "call_not_connected": "10015", "monitor_not_allowed": "10009",
    "monitor_mode_mismatch": "10010", "ivr_not_found": "10012", "queue_not_found": "10013",
    "ringgroup_not_found": "10014", "prompt_not_found": "10023",
    "no_outbound_permission": "10024", "gsm_trunk_not_found": "10026", "gsm_busy": "10027",
    "sms_empty": "10030", "number_invalid": "10031", "offer_window_expired": "10016",
    "not_offered": "10016", "no_free_trunk": "30003", "unsupported_destination": "10003",
}
REPORTS = {
    "call.offered": "Invite", "call.ringing": "RING", "call.answered": "ANSWER",
    "call.hangup": "BYE", "call.failed": "CallFailed", "call.dtmf": "DTMF",
    "prompt.finished": "PlayPromptEnd", "cdr": "NewCdr", "call.transferred": "Tranfer",
    "extension.status": "ExtensionStatus", "sms.status": "sms-send",
}
#: the model's failure reasons as call-failure.md words them ("NO ANSWER" is not in the guide)
FAILURES = {"dnd": "DND", "busy": "User busy", "rejected": "User busy",
            "no_answer": "NO ANSWER"}
#: the model's extension statuses the PBX reports (change-of-extension-status.md); hold and
#: mute are not extension statuses there
EXTENSION_STATUS = {"talking": "Busy", "idle": "Idle", "monitoring-listen": "Busy",
                    "monitoring-whisper": "Busy", "monitoring-barge": "Busy"}
STATUS = {"talking": "Talking", "ringing": "Progress", "waiting": "Wait", "held": "Talking"}


#: why render_event gives None for some of the model's own events (declared, not silent): a
#: report must read back into the model's event (its parties, in order); the guide's reports
#: of an extension's trunk call name both ends from the first RING, and so do the model's events
#: (telephony_core/sim/model.py ``_event_parties``), so those are compared. What is still not
#: given to model equivalence (the emulator still POSTs it): an inbound call's Invite (it names
#: the number called, read as the callee, before the model routes the call); a callback's and a
#: prompt-to-a-number's legs (the outbound object's ``from`` is a number there, read as an
#: extension; the guide has no sample of either); a CallFailed naming one extension of a
#: two-party call, or none (call-failure.md); ExtensionStatus (it names an extension, no call
#: party); DTMF of an internal call (keypress.md: no ``ext`` key)
LEG_PARTIES_NOT_IN_MODEL = ("the report names other parties than the model's event (see the "
                            "comment above LEG_PARTIES_NOT_IN_MODEL in emulator.py)")

#: NewCdr ``type`` -> the kinds of its (callfrom, callto) (cdr.md: an Inbound CDR's callfrom is
#: a number, an Internal one's both are extensions; a callback joins two numbers)
CDR_PARTY_KINDS = {"Inbound": ("tel", "ext"), "Outbound": ("ext", "tel"),
                   "Internal": ("ext", "ext"), "Callback": ("tel", "tel")}

#: the report shapes (the provider's ``report_format`` option): what a login's ``version``
#: asks for, and the guide's older one without it
REPORT_FORMATS = ("1.0.2", "legacy")

#: the API versions the emulated firmware answers
FIRMWARE_VERSIONS = ("v1.0.0", "v1.0.1")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.removeprefix("v").split("."))


class Failed(Exception):
    def __init__(self, errno: str):
        self.errno = errno


def _need(body: dict[str, Any], *fields: str) -> list[str]:
    missing = [f for f in fields if not str(body.get(f, "")).strip()]
    if missing:
        raise Failed("10004")
    return [str(body[f]) for f in fields]


def _yes(body: dict[str, Any]) -> bool:
    return str(body.get("autoanswer", "no")).lower() == "yes"


def _fromext(body: dict[str, Any]) -> str | None:
    return f"ext:{body['fromext']}" if body.get("fromext") else None


class YeastarEmulator(EmulatorApp):
    def __init__(self, pbx: Pbx | None = None, *, password: str = "yeastar-demo",
                 username: str = "api", report_format: str = "legacy"):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.pbx.leg_ids = True  # the PBX's trunk legs have ids of their own (module docstring)
        self._legs: dict[str, dict[str, Any]] = {}  # call id -> its trunk leg, for reports
        self._called: dict[str, str] = {}  # inbound call id -> the number it called
        self._api_transfer = False
        self.recordings: dict[str, bytes] = {}
        self.sms_result = "report"  # or "reply": see _sms
        self.sms_delivery = "sent"  # or "failed": the far end's outcome
        self._randoms: dict[str, tuple[str, float]] = {}  # random -> (recording, expiry)
        self.username = username
        self.password = password
        self.tokens: dict[str, float] = {}  # token -> last activity (model clock)
        self.failures: dict[str, list[float]] = {}  # client address -> failed login times
        self.logins = 0
        #: the report shape: "1.0.2" (a "call" list) or "legacy" (one "ext" key per
        #: extension, the guide's samples); a login sets it from its ``version``, as the PBX
        #: does, and ``report_format`` (the provider's option of that name) is the shape before
        #: any login, so a documented file can say which shape its report samples are in
        if report_format not in REPORT_FORMATS:
            raise ValueError(f"report_format must be one of {REPORT_FORMATS}, got "
                             f"{report_format!r}")
        self.report_format = report_format
        self.sender: WebhookSender | None = None
        self.pbx.subscribe(self._report)
        self.actions: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
            ("v1.0.0", "extension/dial_extension"): self._dial_extension,
            ("v1.0.0", "extension/dial_outbound"): self._ext_dial_outbound,
            ("v1.0.0", "outbound/dial_outbound"): self._callback,
            ("v1.0.0", "ivr/dial_extension"): self._ivr_dial_extension,
            ("v1.0.0", "ivr/dial_outbound"): self._ivr_dial_outbound,
            ("v1.0.1", "queue/dial_outbound"): self._group_dial("queue"),
            ("v1.0.1", "ringgroup/dial_outbound"): self._group_dial("ringgroup"),
            ("v1.0.0", "outbound/playprompt"): self._outbound_playprompt,
            ("v1.0.0", "extension/playprompt"): self._extension_playprompt,
            ("v1.0.1", "sms/send"): self._sms,
            ("v1.0.0", "extensionlist/query"): self._extension_list,
            ("v1.0.1", "recording/get_random"): self._get_random,
            ("v1.0.0", "inbound/query"): self._query("inbound"),
            ("v1.0.0", "outbound/query"): self._query("outbound"),
            ("v1.0.0", "inbound/hangup"): self._leg_hangup("inbound"),
            ("v1.0.0", "outbound/hangup"): self._leg_hangup("outbound"),
            ("v1.0.0", "inbound/accept"): self._offer("accept_call"),
            ("v1.0.0", "inbound/refuse"): self._offer("reject_call"),
        }
        for action in ("hold", "unhold", "mute", "unmute", "hangup"):
            self.actions[("v1.0.0", f"extension/{action}")] = self._by_extension(action)
        for mode, fields in (("listen", ("listener", "listenedext")),
                             ("whisper", ("whisperer", "whisperedext")),
                             ("barge", ("bargein", "bargedext"))):
            self.actions[("v1.0.0", f"extension/{mode}")] = self._monitor(mode, fields)
        for leg in ("inbound", "outbound"):
            for kind in ("extension", "ivr", "queue", "ringgroup", "outbound"):
                if leg == "outbound" and kind in ("queue", "ringgroup"):
                    continue
                self.actions[("v1.0.0", f"{leg}/transfer_{kind}")] = self._transfer(leg, kind)

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return f"yeastar://{self.username}:{self.password}@{host}?scheme=http"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # -- the HTTP surface ----------------------------------------------------------------------

    @route(["GET", "PUT", "DELETE", "POST"], "/api/{version}/{path:path}")
    def api(self, request: Request, version: str, path: str):
        if request.method != "POST" and path != "recording/download":
            return self._failed("20001")
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return self._failed("20000")
        if not isinstance(body, dict):
            return self._failed("10002")
        with self.pbx.lock:
            try:
                if path == "login":
                    return self.json_response(self._login(body, request))
                token = request.args.get("token", "")
                self._check_token(token)
                if path == "heartbeat":
                    return self.json_response(self._heartbeat(body, request))
                if path == "recording/download":
                    return self._download(request)
                if path == "logout":
                    self.tokens.pop(token, None)
                    return self.json_response({"status": "Success"})
                action = self._action(version, path)
                return self.json_response({"status": "Success", **action(body)})
            except Failed as failure:
                return self._failed(failure.errno)
            except ProviderError as exc:
                return self._failed(ERRNO.get(exc.code, "30001"))

    def _action(self, version: str, path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The handler of ``path`` if this firmware serves it under ``version``: an endpoint
        introduced in v1.0.1 is refused under v1.0.0, and later versions serve earlier ones."""
        if version in FIRMWARE_VERSIONS:
            for (introduced, known_path), action in self.actions.items():
                if known_path == path and _version_key(introduced) <= _version_key(version):
                    return action
        raise Failed("10003")

    def _failed(self, errno: str):
        return self.json_response({"status": "Failed", "errno": errno})

    def _login(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        address, now = request.remote_addr or "?", self.pbx.clock.now()
        recent = [t for t in self.failures.get(address, []) if now - t < LOCKOUT]
        self.failures[address] = recent
        if len(recent) >= 5:
            raise Failed("20002")
        expected = hashlib.md5(self.password.encode()).hexdigest()
        self.logins += 1
        if body.get("username") != self.username or body.get("password") != expected:
            recent.append(now)
            raise Failed("20003")
        token = secrets.token_hex(16)
        self.tokens[token] = now
        self.report_format = "1.0.2" if body.get("version") == "1.0.2" else "legacy"
        self._report_to(address, body)
        return {"status": "Success", "token": token}

    def _report_to(self, address: str, body: dict[str, Any]) -> None:
        """Where reports go: the ``url`` as a path on ADDRESS:PORT, or with ``urltag`` "1" an
        address written without a scheme."""
        url = str(body.get("url") or "")
        if url and str(body.get("urltag", "0")) == "1":
            target = f"http://{url}"
        else:
            target = f"http://{address}:{body.get('port', 8260)}/{url.lstrip('/')}"
        if self.sender is None or self.sender.url != target:
            if self.sender is not None:
                self.sender.close()
            self.sender = WebhookSender(target, max_attempts=5)

    def _heartbeat(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        """api_authentication.md: ``<ipaddr>`` and ``<port>`` are required (10004 without)."""
        ipaddr, _port = _need(body, "ipaddr", "port")
        self._report_to(ipaddr, body)
        return {"status": "Success"}

    def _check_token(self, token: str) -> None:
        if not token:
            raise Failed("20005")
        if token not in self.tokens:
            raise Failed("20004")
        now = self.pbx.clock.now()
        if now - self.tokens[token] >= TOKEN_IDLE:
            del self.tokens[token]
            raise Failed("20006")
        self.tokens[token] = now

    # -- the actions ---------------------------------------------------------------------------

    def _ref(self, call) -> dict[str, Any]:
        return {"callid": call.id}

    def _dial_extension(self, body):
        caller, callee = _need(body, "caller", "callee")
        return self._ref(self.pbx.dial(f"ext:{caller}", f"ext:{callee}", auto_answer=_yes(body)))

    def _ext_dial_outbound(self, body):
        extid, outto = _need(body, "extid", "outto")
        return self._ref(self.pbx.dial(f"ext:{extid}", f"tel:{outto}", auto_answer=_yes(body)))

    def _callback(self, body):
        caller, outto = _need(body, "caller", "outto")
        return self._ref(self.pbx.dial(f"tel:{caller}", f"tel:{outto}",
                                       permission_extension=_fromext(body)))

    def _ivr_dial_extension(self, body):
        ivrid, extid = _need(body, "ivrid", "extid")
        return self._ref(self.pbx.dial(f"ext:{extid}", f"ivr:{ivrid}", auto_answer=_yes(body)))

    def _ivr_dial_outbound(self, body):
        ivrid, outto = _need(body, "ivrid", "outto")
        return self._ref(self.pbx.dial(f"tel:{outto}", f"ivr:{ivrid}",
                                       permission_extension=_fromext(body)))

    def _group_dial(self, kind: str):
        def dial(body):
            group, outto = _need(body, f"{kind}id", "outto")
            return self._ref(self.pbx.dial(f"tel:{outto}", f"{kind}:{group}",
                                           permission_extension=_fromext(body)))
        return dial

    def _prompts(self, text: str) -> list[str]:
        names = text.split("+")
        if any(not n or n.isdigit() for n in names):
            raise Failed("10023")  # a pure number is not a prompt name
        return names

    def _outbound_playprompt(self, body):
        outto, prompt = _need(body, "outto", "prompt")
        return self._ref(self.pbx.play_prompt(f"tel:{outto}", self._prompts(prompt),
                                              permission_extension=_fromext(body),
                                              auto_answer=_yes(body)))

    def _extension_playprompt(self, body):
        extid, prompt = _need(body, "extid", "prompt")
        return self._ref(self.pbx.play_prompt(f"ext:{extid}", self._prompts(prompt),
                                              auto_answer=_yes(body)))

    def _sms(self, body):
        """The two documented readings of the result (vendor-fidelity.md Y25): by default the
        reply says the message was taken and an ``sms-send`` report gives the result (the v2
        help site); with ``sms_result = "reply"`` the reply is the result itself (the guide's
        sample). ``sms_delivery = "failed"`` is the far end failing to deliver."""
        trunk, number = _need(body, "trunk", "phonenumber")
        text = unquote(str(body.get("message", "")))
        smsid = self.pbx.send_sms(f"tel:{number}", text, sender=trunk).message_id
        if self.sms_result == "reply":
            return {"action": "sms-send", "smsid": smsid,
                    "status": "Failed" if self.sms_delivery == "failed" else "Succeed"}
        return {"smsid": smsid}

    def _extension_list(self, body):
        rows = []
        for number, ext in sorted(self.pbx.setup.extensions.items()):
            state = self.pbx.extension_state(number)
            status = EXTENSION_LIST_STATUS.get(state, "Busy") if ext.registered else \
                "Unavailable"
            rows.append({"extnumber": number, "status": status, "type": "SIP",
                         "username": getattr(ext, "name", "") or "", "agentid": ""})
        return {"extlist": rows}

    def _get_random(self, body):
        [name] = _need(body, "recording")
        if name not in self.recordings:
            raise Failed("20012")
        random = secrets.token_hex(16)
        self._randoms[random] = (name, self.pbx.clock.now() + RANDOM_LIFETIME)
        return {"recording": name, "random": random}

    def _download(self, request: Request):
        name, random = request.args.get("recording", ""), request.args.get("random", "")
        issued = self._randoms.pop(random, None)  # once only
        if issued is None or issued[0] != name or self.pbx.clock.now() > issued[1]:
            raise Failed("20013")
        if name not in self.recordings:
            raise Failed("20014")
        return self.text_response(self.recordings[name], content_type="audio/x-wav")

    def _query(self, direction: str):
        """query-inbound-calls.md / query-outbound-calls.md: one row per call through a trunk,
        keyed by the trunk leg's own id; an inbound row names its answering extensions in
        ``callee``."""
        def query(body):
            wanted = {i for i in str(body.get(f"{direction}id", "")).split(",") if i}
            rows = []
            for call in self.pbx.list_calls(direction):
                if call.direction != direction or call.trunk_id is None:
                    continue  # internal calls use no trunk: in neither list
                if wanted and call.trunk_id not in wanted:
                    continue
                leg = self._leg_object(call)
                row = {f"{direction}id": call.trunk_id, "from": leg["from"], "to": leg["to"],
                       "trunk": leg["trunk"], "status": STATUS.get(call.state, "Talking")}
                if direction == "inbound":
                    row["callee"] = [{"extid": p[4:]} for p in call.parties[1:]
                                     if p.startswith("ext:")]
                rows.append(row)
            return {direction: rows}
        return query

    def _leg_call(self, leg: str, leg_id: str):
        """The call whose ``leg`` (inbound|outbound) has the id ``leg_id``; 10007 otherwise
        (the callid of an outbound call is not its outboundid)."""
        call = self.pbx.by_trunk_id(leg_id)
        if call is None or call.direction != leg:
            raise Failed("10007")
        return call

    def _leg_hangup(self, leg: str):
        def hangup(body):
            [leg_id] = _need(body, f"{leg}id")
            call = self._leg_call(leg, leg_id)
            self.pbx.hangup(f"call:{call.id}", leg=leg)
            return {}
        return hangup

    def _offer(self, action: str):
        def offer(body):
            [call_id] = _need(body, "inboundid")
            getattr(self.pbx, action)(f"call:{call_id}")
            return {}
        return offer

    def _by_extension(self, action: str):
        def act(body):
            [extid] = _need(body, "extid")
            getattr(self.pbx, action)(f"ext:{extid}")
            return {}
        return act

    def _monitor(self, mode: str, fields: tuple[str, str]):
        def monitor(body):
            supervisor, watched = _need(body, *fields)
            self.pbx.monitor(f"ext:{supervisor}", f"ext:{watched}", mode)
            return {}
        return monitor

    def _transfer(self, leg: str, kind: str):
        def transfer(body):
            [leg_id] = _need(body, f"{leg}id")
            call_id = self._leg_call(leg, leg_id).id
            if kind == "outbound":
                [outto] = _need(body, "outto")
                to = f"tel:{outto}"
            else:
                field = {"extension": "extid"}.get(kind, f"{kind}id")
                to = f"{'ext' if kind == 'extension' else kind}:{_need(body, field)[0]}"
            self._api_transfer = True  # call-transfer.md: API transfers are not reported
            try:
                call = self.pbx.transfer(f"call:{call_id}", to, leg=leg,
                                         permission_extension=_fromext(body))
            finally:
                self._api_transfer = False
            return {"callid": call.id}  # transfer-an-outbound-call-*.md: the callid
        return transfer

    # -- event reports -----------------------------------------------------------------------

    def _leg_object(self, call) -> dict[str, Any]:
        """The ``inbound``/``outbound`` object of a call (inbound-call.md, ringing.md):
        from, to, trunk and the leg's own id."""
        parties = [p.split(":", 1)[1] for p in call.parties]
        pending = (call.pending or ":").split(":", 1)[1]
        tel = next((p.split(":", 1)[1] for p in (*call.parties, call.pending or "")
                    if p.startswith("tel:")), "")
        if call.direction == "inbound":  # to the extension, as every sample has it; the
            # number called until an extension is reached
            first = parties[0] if parties else ""
            to = parties[1] if len(parties) > 1 else self._called.get(call.id, pending)
        else:  # from the extension (or the first number of a callback) to the number
            first = parties[0] if parties else ""
            to = tel if tel != first else (parties[1] if len(parties) > 1 else pending)
        return {"from": first, "to": to,
                "trunk": next((leg.trunk for leg in call.legs if leg.trunk), "") or "",
                f"{call.direction}id": call.trunk_id}

    def _track(self, event: Event) -> dict[str, Any] | None:
        """The trunk leg object of the event's call, kept after the call ends (BYE, NewCdr)."""
        if event.kind == "call.offered" and event.call_id:
            self._called[event.call_id] = str(event.data.get("to") or "")
            while len(self._called) > 1024:
                self._called.pop(next(iter(self._called)))
        call = self.pbx.calls.get(event.call_id or "")
        if call is not None and call.trunk_id is not None:
            self._legs[call.id] = {"direction": call.direction, "object": self._leg_object(call)}
            while len(self._legs) > 1024:
                self._legs.pop(next(iter(self._legs)))
        return self._legs.get(event.call_id or "")

    def _report(self, event: Event) -> None:
        leg = self._track(event)
        pairs = self._report_pairs(event, leg)  # also files the recording of an answered call
        if pairs is None or self.sender is None:
            return
        self._send(pairs)
        # ringing.md / answer-a-call.md: the called party's RING / ANSWER and the calling
        # party's ALERT (ring back) / ANSWERED coexist; the calling party is the first
        party, first = event.data.get("party"), (event.parties or ("",))[0]
        if event.kind in ("call.ringing", "call.answered") and party and party != first:
            action = "ALERT" if event.kind == "call.ringing" else "ANSWERED"
            caller = [("ext", {"extid": first[4:]})] if first.startswith("ext:") else (
                [(leg["direction"], leg["object"])] if leg else [])
            self._send([("action", action), ("callid", event.call_id), *caller])

    def _send(self, pairs: list[tuple[str, Any]]) -> None:
        assert self.sender is not None
        self.sender.send(self._body(pairs), headers={"Content-Type": "application/json"})

    def _body(self, pairs: list[tuple[str, Any]]) -> bytes:
        """The report body: the guide's duplicate ``ext`` keys, or the 1.0.2 ``call`` list."""
        members = [(k, v) for k, v in pairs if k in ("ext", "inbound", "outbound")]
        top = [(k, v) for k, v in pairs if k not in ("ext", "inbound", "outbound")]
        if self.report_format == "1.0.2" and members:
            body = json.dumps(dict(top, call=[{k: v} for k, v in members]))
        else:  # the guide's samples: one "ext" key per extension, the leg object as is
            body = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"
        return body.encode()

    def render_event(self, event: Event) -> tuple[bytes, dict[str, str]] | None:
        """The report this PBX would POST for ``event`` (the conformance kit's hook), or None
        when the PBX reports no such change. ``event`` is either one of the model's own events
        (its ``data`` carries the model's facts: reason, party, direction, durations...) or a
        canonical event as ``parse_event`` gives it (its ``data["action"]`` names the report,
        e.g. ALERT vs RING, Incoming vs Invite); both are rendered from the event's fields, in
        the shapes of ../shared/vendor-docs/yeastar-s-series-api-guide/api_sample/ (the
        call-report samples), never from a stored sample."""
        data = dict(event.data or {})
        if "action" in data:
            pairs = self._canonical_pairs(event, str(data["action"]), data)
        elif not data:  # a canonical event without data: its kind and parties say it all
            action = REPORTS.get(event.kind)
            if event.kind == "call.ringing" and event.parties[:1] and \
                    event.parties[0].startswith("tel:"):
                action = "Incoming"  # inbound-call.md: a number ringing an extension
            pairs = None if action is None else self._canonical_pairs(event, action, data)
        else:  # the model's own event: what _report sends
            leg = self._legs.get(event.call_id or "")
            if leg is None and event.call_id in self.pbx.calls:
                leg = self._track(event)
            pairs = self._report_pairs(event, leg)
            if pairs is not None and not self._names_only(event, pairs):
                return None  # see LEG_PARTIES_NOT_IN_MODEL
        if pairs is None:
            return None
        return self._body(pairs), {"Content-Type": "application/json"}

    @staticmethod
    def _names_only(event: Event, pairs: list[tuple[str, Any]]) -> bool:
        """Whether the report names exactly the model event's parties, in order, as a reader
        of the guide's reports takes them (LEG_PARTIES_NOT_IN_MODEL): an ``ext`` member is an
        extension; an ``inbound`` leg runs from a number to an extension, an ``outbound`` leg
        from an extension to a number; a NewCdr's callfrom/callto have the kinds its ``type``
        gives (cdr.md); a report with none of these (ExtensionStatus, a PlayPromptEnd to a
        number, a CallFailed without ``ext``) names no party."""
        named: list[str] = []
        for key, value in pairs:
            if key == "ext" and isinstance(value, dict) and value.get("extid"):
                found = [f"ext:{value['extid']}"]
            elif key in ("inbound", "outbound") and isinstance(value, dict):
                ends = (("tel", "from"), ("ext", "to")) if key == "inbound" else (
                    ("ext", "from"), ("tel", "to"))
                found = [f"{scheme}:{value[f]}" for scheme, f in ends if value.get(f)]
            else:
                continue
            named += [p for p in found if p not in named]
        fields = dict(pairs)
        if fields.get("action") == "NewCdr":
            kinds = CDR_PARTY_KINDS.get(str(fields.get("type")), ("tel", "tel"))
            named = [f"{kind}:{fields[f]}" for kind, f in zip(kinds, ("callfrom", "callto"),
                                                              strict=True) if fields.get(f)]
        return tuple(named) == tuple(event.parties)

    def _canonical_pairs(self, event: Event, action: str, data: dict[str, Any]
                         ) -> list[tuple[str, Any]] | None:
        """A report from a canonical event's parties and data (see render_event)."""
        bare = [p.split(":", 1)[1] if ":" in p else p for p in event.parties]
        exts: list[tuple[str, Any]] = [("ext", {"extid": p[4:]}) for p in event.parties
                                       if p.startswith("ext:")]
        tel = next((p[4:] for p in event.parties if p.startswith("tel:")), None)
        head: list[tuple[str, Any]] = [("action", action), ("callid", event.call_id or "")]

        def leg(direction: str) -> dict[str, Any]:
            first = str(data.get("from") or (bare[0] if bare else "")).removeprefix("tel:")
            to = str(data.get("to") or (bare[1] if len(bare) > 1 else ""))
            return {"from": first, "to": to, "trunk": str(data.get("trunk") or ""),
                    f"{direction}id": str(data.get(f"{direction}_id") or event.call_id or "")}

        def legs() -> list[tuple[str, Any]]:
            if "outbound_id" in data or (tel is not None and event.parties[0] != f"tel:{tel}"
                                         and "trunk" in data):
                return [("outbound", leg("outbound"))]
            if "inbound_id" in data or (tel is not None and event.parties[0] == f"tel:{tel}"):
                return [("inbound", leg("inbound"))]
            return []

        if action in ("Invite", "Incoming"):  # inbound-call.md: the inbound leg only
            return [*head, ("inbound", leg("inbound"))]
        if action in ("RING", "ALERT", "ANSWER", "ANSWERED", "BYE"):
            found = legs()
            return head + found + (exts[-1:] if found else exts)
        if action == "CallFailed":
            reason = str(data.get("reason") or "")
            return [("action", action), ("reason", FAILURES.get(reason, reason)),
                    ("callid", event.call_id or ""), *exts[:1]]
        if action == "DTMF":
            return head + legs() + [("info", str(data.get("key") or ""))]
        if action == "satisfaction":  # satisfaction-survey.md
            return [("action", action), ("surveyresult", str(data.get("key") or "")),
                    ("callid", event.call_id or "")]
        if action == "PlayPromptEnd":
            prompt = str(data.get("prompt") or "+".join(data.get("prompts") or []))
            if not exts and data.get("trunk"):  # prompt-play-end.md, second sample
                return [*head, ("outbound", {"trunkname": str(data["trunk"])}),
                        ("prompt", prompt)]
            return head + exts[:1] + [("prompt", prompt)]
        if action == "Tranfer":  # call-transfer.md: the transferring extension, the leg
            return head + exts[:1] + [("inbound", leg("inbound"))]
        if action == "NewCdr":
            return self._canonical_cdr(event, data, bare)
        if action == "ExtensionStatus":
            return [("action", action),
                    ("extension", str(data.get("extension", "")).removeprefix("ext:")),
                    ("status", str(data.get("status") or ""))]
        if action == "ConfigChange":
            return [("action", action)] + [(k, str(data[k])) for k in
                                           ("type", "trunkname", "operation") if k in data]
        if action == "BootUp":
            return [("action", action)]
        if action == "sms-send":
            status = "Failed" if data.get("status") == "failed" else "Succeed"
            smsid = data.get("message_id")
            return [("action", action), ("status", status)] + (
                [("smsid", str(smsid))] if smsid is not None else [])
        return None

    def _canonical_cdr(self, event: Event, data: dict[str, Any], bare: list[str]
                       ) -> list[tuple[str, Any]]:
        """cdr.md from a canonical ``cdr`` event: the type follows the parties' kinds."""
        kinds = [p.split(":", 1)[0] for p in event.parties]
        kind = str(data.get("type") or ("Inbound" if kinds[:1] == ["tel"] else
                                        "Outbound" if "tel" in kinds else "Internal"))
        at: Any = event.at if event.at is not None else self.pbx.clock.datetime()
        if isinstance(at, str):  # a documented event gives its time as ISO text
            at = datetime.fromisoformat(at)
        start = str(data.get("timestart") or at.strftime("%Y-%m-%d %H:%M:%S"))
        trunk = str(data.get("trunk") or "")
        status = str(data.get("status") or "ANSWERED")
        pairs: list[tuple[str, Any]] = [
            ("action", "NewCdr"), ("callid", event.call_id or ""), ("timestart", start),
            ("callfrom", bare[0] if bare else ""), ("callto", bare[1] if len(bare) > 1 else ""),
            ("srctrunkname" if kind == "Inbound" else "desttrunkname", trunk),
            ("callduraction", str(data.get("callduraction") or "0")),
            ("talkduraction", str(data.get("talkduraction") or "0")),
            ("status", status), ("type", kind)]
        if data.get("pincode") not in (None, ""):
            # cdr.md: "[pincode] The password" a caller dialled before an outbound call (sample
            # 2); carried by the event parse_event made of such a CDR, never by the model's own
            # cdr (the emulated PBX has no PIN-code dialling: the guide documents no API for it)
            pairs.append(("pincode", str(data["pincode"])))
        if data.get("recording") or (status == "ANSWERED" and kind != "Internal"):
            pairs.append(("recording", str(data.get("recording") or (
                f"{at.strftime('%Y%m%d%H%M%S')}-{event.call_id}-{pairs[3][1]}-{pairs[4][1]}"
                f"-{kind}.wav"))))
        return pairs

    def _report_pairs(self, event: Event, leg: dict[str, Any] | None
                      ) -> list[tuple[str, Any]] | None:
        """The report of a model event as the guide prints it, or None (not reported)."""
        action = REPORTS.get(event.kind)
        if action is None or (event.kind == "call.transferred" and self._api_transfer):
            return None
        exts: list[tuple[str, Any]] = [("ext", {"extid": p[4:]}) for p in event.parties
                                       if p.startswith("ext:")]
        legs: list[tuple[str, Any]] = [(leg["direction"], leg["object"])] if leg else []
        head: list[tuple[str, Any]] = [("action", action), ("callid", event.call_id)]
        if event.kind == "call.offered":
            return head + legs
        if event.kind in ("call.ringing", "call.answered", "call.hangup"):
            return head + legs + exts
        if event.kind == "call.failed":
            reason = FAILURES.get(str(event.data.get("reason")), str(event.data.get("reason")))
            party = event.data.get("party")
            return [("action", action), ("reason", reason), ("callid", event.call_id)] + (
                [("ext", {"extid": party[4:]})] if isinstance(party, str)
                and party.startswith("ext:") else [])
        if event.kind == "call.dtmf":
            return head + legs + [("info", event.data.get("key"))]
        if event.kind == "prompt.finished":
            prompt = "+".join(event.data.get("prompts") or [])
            if leg and leg["direction"] == "outbound":  # prompt-play-end.md, second sample
                return [*head, ("outbound", {"trunkname": leg["object"]["trunk"]}),
                        ("prompt", prompt)]
            return head + exts[:1] + [("prompt", prompt)]
        if event.kind == "call.transferred":  # call-transfer.md: no top-level "to"
            return head + exts[:1] + legs
        if event.kind == "cdr":
            return self._cdr(event, leg)
        if event.kind == "extension.status":
            status = EXTENSION_STATUS.get(str(event.data.get("status")))
            extension = str(event.data.get("extension", "")).removeprefix("ext:")
            return None if status is None else [("action", action), ("extension", extension),
                                                ("status", status)]
        if event.kind == "sms.status":
            if self.sms_result == "reply":
                return None  # the reply carried the result
            return [("action", action),
                    ("status", "Failed" if self.sms_delivery == "failed" else "Succeed"),
                    ("smsid", event.data.get("message_id"))]
        return None

    def _cdr(self, event: Event, leg: dict[str, Any] | None) -> list[tuple[str, Any]]:
        """cdr.md: callfrom/callto, durations as strings, the trunk by direction, ``type``."""
        parties = [p.split(":", 1)[1] for p in event.parties]
        direction = str(event.data.get("direction"))
        kind = {"internal": "Internal", "inbound": "Inbound", "outbound": "Outbound"}[direction]
        if direction == "outbound" and all(p.startswith("tel:") for p in event.parties):
            kind = "Callback"
        trunk = str(event.data.get("trunk") or "")
        pairs: list[tuple[str, Any]] = [
            ("action", "NewCdr"), ("callid", event.call_id),
            ("timestart", self.pbx.clock.datetime().strftime("%Y-%m-%d %H:%M:%S")),
            ("callfrom", parties[0] if parties else ""),
            ("callto", parties[1] if len(parties) > 1 else
             (leg["object"]["to"] if leg else ""))]
        if direction == "inbound":
            pairs.append(("srctrunkname", trunk))
        else:
            pairs.append(("desttrunkname", trunk))
        pairs += [("callduraction", str(int(event.data["duration"]))),
                  ("talkduraction", str(int(event.data["talk"]))),
                  ("status", event.data["status"]), ("type", kind)]
        if event.data["status"] == "ANSWERED":  # cdr.md: TIME-CALLID-FROM-TO-Type.wav
            name = (f"{self.pbx.clock.datetime().strftime('%Y%m%d%H%M%S')}-{event.call_id}-"
                    f"{pairs[3][1]}-{pairs[4][1]}-{kind}.wav")
            self.recordings[name] = SILENCE
            pairs.append(("recording", name))
        return pairs


def create(pbx: Pbx | None = None, **options: Any) -> YeastarEmulator:
    return YeastarEmulator(pbx, **options)

"""The Yeastar emulator: the S-Series HTTP API (seeds 000, 002, vendors.md) over the shared model.

Demo credentials: user ``api``, password ``yeastar-demo`` (``create(password=...)`` changes
it). Like the PBX: every request is a POST with a JSON body and a ``token`` query parameter;
failures are HTTP 200 ``{"status": "Failed", "errno": "..."}``; tokens die after 30 idle minutes
of the model's clock; five failed logins from one address lock it out for ten minutes; event
reports are POSTed (re-sent until HTTP 200) to the ``url`` given at login, or to
``http://CLIENT:PORT/``. Reports are v1 bodies with one ``"ext"`` key per party, unless the
login asked for ``version: "1.0.2"``, which gets a list.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from telephony_core.emulation import EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

__all__ = ["YeastarEmulator", "create"]

TOKEN_IDLE = 1800.0
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
    "call.offered": "Invite", "call.ringing": "RING", "call.answered": "ANSWERED",
    "call.hangup": "BYE", "call.failed": "CallFailed", "call.dtmf": "DTMF",
    "prompt.finished": "PlayPromptEnd", "cdr": "NewCdr", "call.transferred": "Tranfer",
    "extension.status": "ExtensionStatus",
}
STATUS = {"talking": "Talking", "ringing": "Progress", "waiting": "Wait", "held": "Talking"}


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
                 username: str = "api"):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.username = username
        self.password = password
        self.tokens: dict[str, float] = {}  # token -> last activity (model clock)
        self.failures: dict[str, list[float]] = {}  # client address -> failed login times
        self.logins = 0
        self.report_format = "v1"
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
        if request.method != "POST":
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
                    return self.json_response({"status": "Success"})
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
        self.report_format = "1.0.2" if body.get("version") == "1.0.2" else "v1"
        target = body.get("url") or f"http://{address}:{body.get('port', 8260)}/"
        if self.sender is None or self.sender.url != target:
            if self.sender is not None:
                self.sender.close()
            self.sender = WebhookSender(target, max_attempts=5)
        return {"status": "Success", "token": token}

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
        trunk, number = _need(body, "trunk", "phonenumber")
        text = unquote(str(body.get("message", "")))
        return {"smsid": self.pbx.send_sms(f"tel:{number}", text, sender=trunk).message_id}

    def _query(self, direction: str):
        def query(body):
            ids = [f"call:{i}" for i in str(body.get(f"{direction}id", "")).split(",") if i]
            rows = []
            for call in self.pbx.list_calls(direction, ids or None):
                if call.direction != direction:  # internal calls use no trunk: in neither list
                    continue
                parties = [p.split(":", 1)[1] for p in call.parties]
                to = parties[1] if len(parties) > 1 else (call.pending or ":").split(":", 1)[1]
                rows.append({f"{direction}id": call.id, "from": parties[0] if parties else "",
                             "to": to, "status": STATUS.get(call.state, "Talking"),
                             "trunk": next((leg.trunk for leg in call.legs if leg.trunk), "")})
            return {direction: rows}
        return query

    def _leg_hangup(self, leg: str):
        def hangup(body):
            [call_id] = _need(body, f"{leg}id")
            self.pbx.hangup(f"call:{call_id}", leg=leg)
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
            [call_id] = _need(body, f"{leg}id")
            if kind == "outbound":
                [outto] = _need(body, "outto")
                to = f"tel:{outto}"
            else:
                field = {"extension": "extid"}.get(kind, f"{kind}id")
                to = f"{'ext' if kind == 'extension' else kind}:{_need(body, field)[0]}"
            call = self.pbx.transfer(f"call:{call_id}", to, leg=leg,
                                     permission_extension=_fromext(body))
            return {"callid": call.id}
        return transfer

    # -- event reports -----------------------------------------------------------------------

    def _report(self, event: Event) -> None:
        action = REPORTS.get(event.kind)
        if self.sender is None or action is None:
            return
        pairs: list[tuple[str, Any]] = [("action", action)]
        if event.call_id:
            pairs.append(("callid", event.call_id))
        exts = [{"extid": p[4:]} for p in event.parties if p.startswith("ext:")]
        if event.kind == "call.offered":
            number = event.parties[0][4:] if event.parties else ""
            pairs.append(("inbound", {"from": number, "to": event.data.get("to"),
                                      "trunk": event.data.get("trunk"),
                                      "inboundid": event.call_id}))
        elif event.kind == "cdr":
            parties = [p.split(":", 1)[1] for p in event.parties]
            pairs += [("timestart", self.pbx.clock.datetime().strftime("%Y-%m-%d %H:%M:%S")),
                      ("callfrom", parties[0] if parties else ""),
                      ("callto", parties[1] if len(parties) > 1 else ""),
                      ("callduraction", str(int(event.data["duration"]))),
                      ("talkduraction", str(int(event.data["talk"]))),
                      ("status", event.data["status"]),
                      ("type", event.data["direction"].capitalize())]
        elif event.kind == "call.dtmf":
            pairs.append(("info", event.data.get("key")))
        elif event.kind == "call.failed":
            pairs.append(("reason", event.data.get("reason")))
        elif event.kind == "call.transferred":
            pairs.append(("to", event.data.get("to")))
        elif event.kind == "extension.status":
            pairs += [("extension", event.data.get("extension")),
                      ("status", event.data.get("status"))]
        if self.report_format == "1.0.2":
            body = json.dumps(dict(pairs, **({"ext": exts} if exts else {})))
        else:  # v1: one "ext" key per party, as the real PBX writes them
            items = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs]
            items += [f'"ext": {json.dumps(e)}' for e in exts]
            body = "{" + ", ".join(items) + "}"
        self.sender.send(body.encode(), headers={"Content-Type": "application/json"})


def create(pbx: Pbx | None = None, **options: Any) -> YeastarEmulator:
    return YeastarEmulator(pbx, **options)

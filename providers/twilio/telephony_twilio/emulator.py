"""The Twilio emulator: the REST API 2010-04-01 resources the provider uses, over the shared
call model (telephony_core.sim), answering with the shapes of Twilio's OpenAPI description and
POSTing signed status callbacks.

Demo credentials: Account SID ``ACd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3`` with Auth Token
``twilio-demo`` (``password=`` replaces the token); the API key
``SKd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3`` has the secret ``twilio-key-demo``. The account owns the
number ``+15005550006`` (the From of SMS) and the Messaging Service
``MGd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3``.

What is emulated, and how it maps onto the model:

* ``POST Calls.json`` with inline ``Twiml``: ``<Dial><Number|Sip>`` places a model call from
  ``To`` to the dialled party; ``<Play>``\\ s play prompts to ``To``; ``<Dial><Conference>``
  reserves the caller's Call SID and waits for the conference's second participant: the model
  has no one-party conference, so the model call (caller first, then callee) is placed when a
  second ``POST Calls.json`` joins the same conference (the callee). (Twilio itself rings the
  second call at once; the model rings the callee once the caller answered.) ``Url`` (an
  application) is not emulated. SIDs are derived from the model's ids and counters, so a
  fresh emulator hands out the same SIDs for the same requests (the fault tests rely on it).
* ``POST Calls/{Sid}.json``: ``Status=completed|canceled`` hangs up; ``Twiml`` with ``<Dial>``
  redirects (a blind transfer in the model).
* ``GET Calls.json``: the model's live calls, one Call resource per model call (its first leg),
  filtered by ``Status``.
* ``GET Conferences.json`` (``FriendlyName``, ``Status``), ``POST .../Participants.json`` (a
  supervisor: ``Muted`` -> listen, ``Coaching`` -> whisper, else barge) and
  ``POST .../Participants/{CallSid}.json`` (``Hold``, ``Muted`` of the caller's participant).
* ``POST Messages.json``: the model's SMS outbox; ``From`` must be a number the account owns
  (error 21606 otherwise, as Twilio answers).

Errors are Twilio's body ``{code, message, more_info, status}``: 401/20003 for credentials,
404/20404 for an unknown resource, 21201/21211/21213 for a missing or invalid ``To``/``From``,
21602/21617 for an empty or too long ``Body``, 21220 for a call that is not connected. A model
refusal without a Twilio counterpart (trunk capacity, say) is HTTP 400 with code 20001 and the
model's message: a stand-in, not a code Twilio documents for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import attrs

from telephony_core.addresses import AddressError
from telephony_core.emulation import Abort, EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx

from . import resources as res
from .signature import compute_signature
from .translate import canonical_address, wire_address

__all__ = ["DEMO", "TwilioEmulator", "create"]

DEMO = {"account_sid": "AC" + "d3" * 16, "auth_token": "twilio-demo",
        "api_key": "SK" + "d3" * 16, "api_secret": "twilio-key-demo",
        "number": "+15005550006", "service": "MG" + "d3" * 16}
PREFIX = "/2010-04-01/Accounts/{account}"
_E164 = "+0123456789"
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMN"
            "OPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€")


def segments(body: str) -> int:
    """SMS segments: 160 GSM-7 characters (153 per part) or 70 UCS-2 (67 per part)."""
    single, part = (160, 153) if set(body) <= _GSM7 else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


def _is_e164(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit() and 2 <= len(value) <= 16 \
        and value[1] != "0"


class TwilioEmulator(EmulatorApp):
    """Twilio's REST API over the shared model (the module docstring says what is emulated).

    Demo credentials: Account SID ``ACd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3``, Auth Token
    ``twilio-demo`` (``password=`` replaces it); API key ``SKd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3``
    with secret ``twilio-key-demo``. The account owns ``+15005550006`` and the Messaging Service
    ``MGd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3``.
    """

    def __init__(self, pbx: Pbx | None = None, *, password: str | None = None,
                 account_sid: str = DEMO["account_sid"], api_key: str = DEMO["api_key"],
                 api_secret: str = DEMO["api_secret"], numbers: tuple[str, ...] = (
                     DEMO["number"],), services: tuple[str, ...] = (DEMO["service"],),
                 interval: float = 0.05):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.account = account_sid
        self.auth_token = password or DEMO["auth_token"]
        self.keys = {api_key: api_secret}
        self.numbers, self.services = set(numbers), set(services)
        self.interval = interval
        self.calls: dict[str, dict[str, Any]] = {}   # Call SID -> facts (model id, from, to...)
        self.by_model: dict[str, str] = {}           # model call id -> the caller's Call SID
        self.pending: dict[str, dict[str, Any]] = {}  # conference name -> the caller waiting
        self.conferences: dict[str, dict[str, Any]] = {}  # friendly name -> conference facts
        self.messages: list[dict[str, Any]] = []
        self.exchanges: list[dict[str, Any]] = []  # every request and reply, in order
        self.senders: dict[str, WebhookSender] = {}
        self._sequence = itertools.count()
        self._early: dict[str, list[Event]] = {}  # events of a call whose SID is not bound yet
        self.pbx.subscribe(self._on_event)

    def dispatch(self, request: Request):
        """Serve ``request`` and keep the exchange in :attr:`exchanges` (the tests validate
        every request and reply against Twilio's OpenAPI description)."""
        body = request.get_data(cache=True)  # the form is still parsed from the cached body
        response = super().dispatch(request)
        with self.lock:
            self.exchanges.append({
                "method": request.method, "path": request.path,
                "query": list(request.args.items(multi=True)),
                "headers": {"Content-Type": request.headers.get("Content-Type", "")},
                "body": body, "status": response.status_code,
                "reply_type": response.headers.get("Content-Type"),
                "reply": response.get_data()})
        return response

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return (f"twilio://{self.account}:{self.auth_token}@{host}?scheme=http"
                f"&caller_id=%2B15005550006&sms_from=%2B15005550006")

    # -- plumbing ----------------------------------------------------------------------------

    def _fail(self, status: int, code: int, message: str):
        raise Abort(self.json_response(res.error(code, message, status), status))

    def _authorized(self, request: Request, account: str) -> None:
        header = request.headers.get("Authorization", "")
        ok = False
        if header.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, secret = "", ""
            expected = self.auth_token if user == self.account else self.keys.get(user)
            ok = expected is not None and hmac.compare_digest(secret.encode(), expected.encode())
        if not ok:
            body = res.error(20003, "Authenticate", 401)
            body["detail"] = "Your AccountSid or AuthToken was incorrect."
            raise Abort(self.json_response(body, 401, {"WWW-Authenticate": 'Basic realm="Twilio'
                                                                            ' API"'}))
        if account != self.account:
            self._fail(404, 20404, f"The requested resource /2010-04-01/Accounts/{account} was "
                                   "not found")

    @staticmethod
    def _form(request: Request) -> dict[str, Any]:
        form = request.form
        return {k: (form.getlist(k) if len(form.getlist(k)) > 1 else form[k]) for k in form}

    def _refused(self, exc: ProviderError | AddressError):
        if isinstance(exc, AddressError):  # e.g. a sip: party the model's PBX cannot reach
            self._fail(400, 20001, f"the emulated PBX cannot do that: {exc}")
        if exc.category == "not_found":
            self._fail(404, 20404, exc.message)
        if exc.code == "call_not_connected":
            self._fail(400, 21220, exc.message)
        self._fail(400, 20001, exc.message)

    def _now(self):
        return self.pbx.clock.datetime()

    def _sid(self, prefix: str, *parts: str) -> str:
        digest = hashlib.md5("/".join((self.account, *parts)).encode()).hexdigest()
        return prefix + digest

    def _sid_of_model(self, model_id: str) -> str:
        return self.by_model.get(model_id) or self._sid("CA", model_id)

    def _live(self, sid: str) -> tuple[dict[str, Any], Any]:
        facts = self.calls.get(sid)
        model = self.pbx.calls.get(facts["model"]) if facts and facts.get("model") else None
        if model is None:
            self._fail(404, 20404, f"The requested resource /2010-04-01/Accounts/{self.account}"
                                   f"/Calls/{sid}.json was not found")
        return facts, model

    def _status(self, model: Any) -> str:
        return "ringing" if model.state == "ringing" else "in-progress"

    def _call_resource(self, sid: str, facts: Mapping[str, Any], status: str) -> dict:
        return res.call(self.account, sid, to=facts["to"], from_=facts["from"], status=status,
                        direction="outbound-api", created=facts["created"])

    @staticmethod
    def _twiml(text: Any) -> ET.Element:
        try:
            root = ET.fromstring(str(text))
        except ET.ParseError:
            root = None
        if root is None or root.tag != "Response":
            raise Abort(EmulatorApp.json_response(res.error(
                12100, "Document parse failure: Twiml is not a <Response> document", 400), 400))
        return root

    @staticmethod
    def _dial_target(dial: ET.Element) -> tuple[str, str]:
        """('party', address) or ('conference', name) of a <Dial>."""
        for child in dial:
            if child.tag == "Conference":
                return "conference", (child.text or "").strip()
            if child.tag in ("Number", "Sip"):
                return "party", canonical_address((child.text or "").strip()) or ""
        return "party", canonical_address((dial.text or "").strip()) or ""

    def _addresses(self, form: Mapping[str, Any], *, to_key: str = "To") -> tuple[str, str]:
        to, from_ = form.get(to_key), form.get("From")
        if not to:
            self._fail(400, 21201, "No 'To' number is specified")
        if not from_:
            self._fail(400, 21213, "No 'From' number is specified")
        if not (str(to).startswith("sip:") or _is_e164(str(to))):
            self._fail(400, 21211, f"Invalid 'To' Phone Number: {str(to)[:40]}")
        if not (str(from_).startswith(("sip:", "client:")) or _is_e164(str(from_))):
            self._fail(400, 21212, f"Invalid 'From' Phone Number: {str(from_)[:40]}")
        return str(to), str(from_)

    def _remember_callbacks(self, facts: dict[str, Any], form: Mapping[str, Any]) -> None:
        url = form.get("StatusCallback")
        if url:
            events = form.get("StatusCallbackEvent") or ["completed"]
            facts["callback"] = (str(url), [events] if isinstance(events, str) else list(events))

    # -- Calls -------------------------------------------------------------------------------

    @route("POST", PREFIX + "/Calls.json")
    def create_call(self, request: Request, account: str):
        self._authorized(request, account)
        form = self._form(request)
        to, from_ = self._addresses(form)
        if "Twiml" not in form:
            self._fail(400, 21205, "The emulator runs inline Twiml only (no Url or "
                                   "ApplicationSid)")
        root = self._twiml(form["Twiml"])
        facts: dict[str, Any] = {"to": to, "from": from_, "created": self._now(), "model": None}
        self._remember_callbacks(facts, form)
        dial = root.find("Dial")
        plays = [(p.text or "").strip() for p in root.findall("Play")]
        with self.pbx.lock:
            try:
                if dial is not None:
                    kind, target = self._dial_target(dial)
                    if kind == "conference":
                        return self._join(target, facts)
                    call = self.pbx.dial(canonical_address(to), target, caller_id=from_)
                elif plays:
                    call = self.pbx.play_prompt(canonical_address(to), plays, caller_id=from_)
                else:
                    self._fail(400, 12100, "the emulator runs <Dial> or <Play> TwiML only")
            except (ProviderError, AddressError) as exc:
                self._refused(exc)
            sid = self._bind(call.id, facts)
            return self._call_resource(sid, facts, self._status(call)), 201

    def _bind(self, model_id: str, facts: dict[str, Any], sid: str | None = None) -> str:
        sid = sid or self._sid("CA", model_id)
        facts["model"] = model_id
        self.calls[sid] = facts
        self.by_model[model_id] = sid
        self._flush_early(model_id)
        return sid

    @route("GET", PREFIX + "/Calls.json")
    def list_calls(self, request: Request, account: str):
        self._authorized(request, account)
        wanted = request.args.get("Status")
        raw_size, raw_page = request.args.get("PageSize", "50"), request.args.get("Page", "0")
        size = min(max(int(raw_size), 1), 1000) if raw_size.isdigit() else 50
        number = int(raw_page) if raw_page.isdigit() else 0
        rows = []
        for model in self.pbx.list_calls():
            sid = self._sid_of_model(model.id)
            status = self._status(model)
            if wanted and status != wanted:
                continue
            facts = self.calls.get(sid) or {
                "to": wire_address(model.legs[0].party), "from": DEMO["number"],
                "created": self._now()}
            row = self._call_resource(sid, facts, status)
            if model.direction == "inbound":
                row["direction"] = "inbound"
            rows.append(row)
        query = {k: v for k, v in request.args.items() if k not in ("Page", "PageToken")}
        result = res.page(self.account, "calls", "Calls.json",
                          rows[number * size:(number + 1) * size],
                          urlencode(sorted(request.args.items())), size)
        result.update(page=number, start=number * size,
                      end=number * size + max(0, len(result["calls"]) - 1))
        if (number + 1) * size < len(rows):
            following = urlencode(sorted({**query, "Page": str(number + 1),
                                          "PageToken": f"PA{number + 1}"}.items()))
            result["next_page_uri"] = f"/2010-04-01/Accounts/{self.account}/Calls.json?" \
                                      f"{following}"
        return result

    @route("POST", PREFIX + "/Calls/{sid}.json")
    def update_call(self, request: Request, account: str, sid: str):
        self._authorized(request, account)
        form = self._form(request)
        waiting = self.calls.get(sid, {}).get("conference")
        if waiting in self.pending and self.pending[waiting]["sid"] == sid \
                and form.get("Status") in ("completed", "canceled"):
            del self.pending[waiting]  # a conference call still alone: the model never saw it
            return self._call_resource(sid, self.calls[sid], str(form["Status"]))
        facts, model = self._live(sid)
        with self.pbx.lock:
            try:
                if form.get("Status") in ("completed", "canceled"):
                    self.pbx.hangup(f"call:{model.id}")
                    return self._call_resource(sid, facts, str(form["Status"]))
                if "Twiml" in form:
                    dial = self._twiml(form["Twiml"]).find("Dial")
                    kind, target = self._dial_target(dial) if dial is not None else ("", "")
                    if kind != "party" or not target:
                        self._fail(400, 12100, "the emulator redirects to <Dial><Number|Sip> "
                                               "TwiML only")
                    self.pbx.transfer(f"call:{model.id}", target)
                    return self._call_resource(sid, facts, self._status(model))
            except (ProviderError, AddressError) as exc:
                self._refused(exc)
        self._fail(400, 20001, "nothing to update: give Status or Twiml")

    # -- Conferences -------------------------------------------------------------------------

    def _conference_by(self, key: str) -> dict[str, Any] | None:
        for conf in self.conferences.values():
            if key in (conf["sid"], conf["name"]):
                return conf
        return None

    def _conference_live(self, conf: Mapping[str, Any]) -> bool:
        return conf["model"] in self.pbx.calls

    @route("GET", PREFIX + "/Conferences.json")
    def list_conferences(self, request: Request, account: str):
        self._authorized(request, account)
        name, status = request.args.get("FriendlyName"), request.args.get("Status")
        rows = []
        for conf in self.conferences.values():
            now = "in-progress" if self._conference_live(conf) else "completed"
            if (name and conf["name"] != name) or (status and status != now):
                continue
            rows.append(res.conference(self.account, conf["sid"], conf["name"], now,
                                       conf["created"]))
        return res.page(self.account, "conferences", "Conferences.json", rows,
                        urlencode(sorted(request.args.items())), 50)

    @route("POST", PREFIX + "/Conferences/{conference}/Participants.json")
    def add_participant(self, request: Request, account: str, conference: str):
        self._authorized(request, account)
        form = self._form(request)
        to, _ = self._addresses(form)
        with self.pbx.lock:
            try:
                conf = self._conference_by(conference)
                if conf is None or not self._conference_live(conf):
                    self._fail(404, 20404, f"Conference {conference} was not found")
                coaching = str(form.get("Coaching", "")).lower() == "true"
                muted = str(form.get("Muted", "")).lower() == "true"
                mode = "whisper" if coaching else "listen" if muted else "barge"
                if coaching and form.get("CallSidToCoach") not in conf["participants"]:
                    self._fail(400, 20001, "CallSidToCoach is not a participant of this "
                                           "conference")
                self.pbx.monitor(self._supervisor(to), f"call:{conf['model']}", mode)
            except (ProviderError, AddressError) as exc:
                self._refused(exc)
            sid = self._sid("CA", conf["model"], to, str(len(conf["participants"])))
            conf["participants"][sid] = canonical_address(to)
            return res.participant(self.account, conf["sid"], sid, status="queued",
                                   created=self._now(), muted=muted, coaching=coaching,
                                   coached=form.get("CallSidToCoach") if coaching else None), 201

    def _supervisor(self, to: str) -> str:
        """The model's party for a supervisor Twilio dials: ``sip:1005@host`` is extension 1005
        of the model (a PBX phone reached over SIP); anything else the model cannot monitor
        with, which is answered 400."""
        user = to[4:].partition("@")[0] if to.startswith("sip:") else ""
        if user.isdigit() and user in self.pbx.setup.extensions:
            return f"ext:{user}"
        self._fail(400, 20001, f"the emulated PBX has no supervisor phone at {to[:60]}: use "
                               "sip:EXTENSION@host with an extension of the model")
        raise AssertionError("unreachable")

    def _join(self, name: str, facts: dict[str, Any]):
        """A call whose TwiML joins conference ``name``: the first waits (its SID reserved),
        the second is the callee, and the model call from the first to the second is placed."""
        waiting = self.pending.pop(name, None)
        if waiting is None:
            if name in self.conferences:
                self._fail(400, 20001, f"the emulator's conference {name} already has its two "
                                       "parties (add supervisors with Participants)")
            sid = self._sid("CA", "conference-call", str(next(self._sequence)))
            facts["conference"] = name
            self.calls[sid] = facts
            self.pending[name] = {"sid": sid, **facts}
            return self._call_resource(sid, facts, "queued"), 201
        caller = canonical_address(waiting["to"])
        call = self.pbx.dial(caller, canonical_address(facts["to"]), caller_id=waiting["from"])
        self._bind(call.id, self.calls[waiting["sid"]], waiting["sid"])
        callee_sid = self._sid("CA", call.id, "callee")
        self.calls[callee_sid] = {**facts, "model": call.id, "leg": "callee"}
        self.conferences[name] = {
            "sid": self._sid("CF", call.id), "name": name, "model": call.id,
            "created": self._now(), "caller": waiting["sid"],
            "participants": {waiting["sid"]: caller, callee_sid: canonical_address(facts["to"])}}
        return self._call_resource(callee_sid, facts, "queued"), 201

    @route("POST", PREFIX + "/Conferences/{conference}/Participants/{sid}.json")
    def update_participant(self, request: Request, account: str, conference: str, sid: str):
        self._authorized(request, account)
        form = self._form(request)
        conf = self._conference_by(conference)
        if conf is None or not conference.startswith("CF") or sid not in conf["participants"] \
                or not self._conference_live(conf):
            self._fail(404, 20404, f"Participant {sid} of conference {conference} was not "
                                   "found")
        if sid != conf["caller"]:
            self._fail(400, 20001, "the emulator holds and mutes the conference's first "
                                   "participant (the dialled caller) only")
        ref = f"call:{conf['model']}"
        with self.pbx.lock:
            try:
                if "Hold" in form:
                    (self.pbx.hold if str(form["Hold"]).lower() == "true" else
                     self.pbx.unhold)(ref)
                if "Muted" in form:
                    (self.pbx.mute if str(form["Muted"]).lower() == "true" else
                     self.pbx.unmute)(ref)
            except (ProviderError, AddressError) as exc:
                self._refused(exc)
            model = self.pbx.calls[conf["model"]]
            leg = model.legs[0]
        return res.participant(self.account, conf["sid"], sid, status="connected",
                               created=conf["created"], muted=leg.muted,
                               hold=leg.state == "held", end_on_exit=True)

    # -- Messages ----------------------------------------------------------------------------

    @route("POST", PREFIX + "/Messages.json")
    def create_message(self, request: Request, account: str):
        self._authorized(request, account)
        form = self._form(request)
        to, body = str(form.get("To") or ""), form.get("Body")
        from_, service = form.get("From"), form.get("MessagingServiceSid")
        if not to:
            self._fail(400, 21604, "A 'To' phone number is required.")
        if not _is_e164(to):
            self._fail(400, 21211, f"Invalid 'To' Phone Number: {to[:40]}")
        if not from_ and not service:
            self._fail(400, 21603, "A 'From' phone number is required.")
        if from_ and from_ not in self.numbers:
            self._fail(400, 21606, f"The From phone number {str(from_)[:40]} is not a valid, "
                                   "SMS-capable inbound phone number or short code for your "
                                   "account.")
        if service and not from_ and service not in self.services:
            self._fail(404, 20404, f"Messaging Service {str(service)[:40]} was not found")
        if not body:
            self._fail(400, 21602, "Message body is required.")
        if len(str(body)) > 1600:
            self._fail(400, 21617, "The concatenated message body exceeds the 1600 character "
                                   "limit.")
        with self.pbx.lock:
            try:
                record = self.pbx.send_sms(f"tel:{to}", str(body))
            except (ProviderError, AddressError) as exc:
                self._refused(exc)
        sid = self._sid("SM", record.message_id, str(next(self._sequence)))
        message = res.message(self.account, sid, to=to, from_=from_, service=service,
                              body=str(body), created=self._now(), segments=segments(str(body)))
        self.messages.append(message)
        callback = form.get("StatusCallback")
        if callback:
            self._send(str(callback), {"MessageSid": sid, "MessageStatus": "sent",
                                       "SmsSid": sid, "SmsStatus": "sent", "To": to,
                                       "From": str(from_ or ""), "AccountSid": self.account,
                                       "ApiVersion": res.API})
        return message, 201

    # -- status callbacks --------------------------------------------------------------------

    def _send(self, url: str, params: dict[str, str]) -> None:
        sender = self.senders.get(url)
        if sender is None:
            sender = self.senders[url] = WebhookSender(url, interval=self.interval)
        signature = compute_signature(self.auth_token, url, params.items())
        sender.send(urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token":
                secrets.token_hex(16)})

    def callback_params(self, event: Event) -> dict[str, str] | None:
        """The status callback Twilio sends for a model event on a call's first leg (the
        caller's: the call the REST API created), or None when Twilio reports no such change
        for that leg (the callee's ringing, extension status, prompts...)."""
        if event.call_id is None or not event.parties:
            return None
        first = event.parties[0]
        party = event.data.get("party")
        if event.kind == "call.ringing" and party == first and not event.data.get("waiting"):
            status = "ringing"
        elif event.kind == "call.answered" and party == first:
            status = "in-progress"
        elif event.kind == "call.hangup":
            status = "completed"
        elif event.kind == "call.failed":
            status = {"no_answer": "no-answer", "busy": "busy", "dnd": "busy",
                      "rejected": "busy"}.get(str(event.data.get("reason")), "failed")
        else:
            return None
        sid = self._sid_of_model(event.call_id)
        facts = self.calls.get(sid, {})
        stamp = res.rfc2822(event.at or self._now())
        return {"AccountSid": self.account, "ApiVersion": res.API, "CallSid": sid,
                "CallStatus": status, "Direction": "outbound-api",
                "From": facts.get("from", DEMO["number"]), "To": wire_address(first),
                "Timestamp": stamp, "CallbackSource": "call-progress-events",
                "SequenceNumber": str(next(self._sequence))}

    def gather_params(self, event: Event) -> dict[str, str] | None:
        """The request Twilio POSTs to a ``<Gather>``'s ``action`` URL when the caller's keys
        end the gather: the keys of the example on
        https://www.twilio.com/docs/usage/webhooks/webhooks-security (``CallSid``, ``Caller``,
        ``Digits``, ``From``, ``To``), ``From`` being the party who pressed them."""
        key, party = event.data.get("key"), event.data.get("party")
        if event.call_id is None or not key or not party:
            return None
        sid = self._sid_of_model(event.call_id)
        facts = self.calls.get(sid, {})
        caller = wire_address(str(party))
        return {"CallSid": sid, "Caller": caller, "Digits": str(key), "From": caller,
                "To": facts.get("from", DEMO["number"])}

    def render_event(self, event: Event) -> tuple[bytes, dict[str, str]] | None:
        """A model event as the signed callback Twilio would POST, with the URL the
        application passes to parse_event (``Telephony URL``), or None when Twilio's callback
        cannot name the event's parties: a callback describes one leg (its ``To``), so a
        change of a connected two-party call is not rendered."""
        event = _as_model_event(event)
        url = "https://app.example.com/twilio/status"
        if event.kind == "sms.status":
            params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": str(
                event.data.get("status")), "To": wire_address(str(event.data.get("to") or "")),
                "AccountSid": self.account, "ApiVersion": res.API}
        elif event.kind == "call.dtmf":
            params = self.gather_params(event)
            url = "https://app.example.com/twilio/gather"
            if params is None or len(event.parties) != 1:
                return None
        else:
            params = self.callback_params(event)
            if params is None or len(event.parties) != 1:
                return None
        return urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Telephony URL": url,
            "X-Twilio-Signature": compute_signature(self.auth_token, url, params.items())}

    def _flush_early(self, model_id: str) -> None:
        """Send the callbacks of events that fired inside the model call that created the
        call (before its SID was bound)."""
        for event in self._early.pop(model_id, []):
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        if event.call_id is None:
            return
        sid = self.by_model.get(event.call_id)
        if sid is None:  # fired inside the model call that creates it, or not an API call
            if event.kind == "cdr":
                self._early.pop(event.call_id, None)
            else:
                self._early.setdefault(event.call_id, []).append(event)
            return
        callback = self.calls.get(sid, {}).get("callback")
        params = self.callback_params(event) if callback else None
        if params is None:
            return
        url, wanted = callback
        step = {"ringing": "ringing", "in-progress": "answered"}.get(params["CallStatus"],
                                                                     "completed")
        if step in wanted:
            self._send(url, params)

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()


def _as_model_event(event: Event) -> Event:
    """A canonical event (as the provider parses it, or as a documented sample lists it) in the
    model's terms: the leg a call event is about is ``data.party`` in the model and the only
    party in a parsed callback; ``at`` may come as ISO 8601 text from a sample."""
    changes: dict[str, Any] = {}
    if event.kind.startswith("call.") and "party" not in event.data and len(event.parties) == 1:
        changes["data"] = {**event.data, "party": event.parties[0]}
    if isinstance(event.at, str):
        try:
            changes["at"] = datetime.fromisoformat(event.at)
        except ValueError:
            changes["at"] = None
    return attrs.evolve(event, **changes) if changes else event


def create(pbx: Pbx | None = None, **options: Any) -> TwilioEmulator:
    return TwilioEmulator(pbx, **options)

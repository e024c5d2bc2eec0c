"""The Telnyx emulator: Call Control v2 (dial, transfer, hangup, supervisor legs), active calls
and Messaging over the shared call model, with Ed25519-signed webhooks.

Demo credentials: API key ``telnyx-demo-key`` (Bearer), connection id ``1494404757140276705``.
Webhooks are signed with the emulator's own test key pair (:data:`TEST_PUBLIC_KEY`, which
``connect_url`` passes as ``public_key``). Where they go is Telnyx's rule: a call leg's webhooks
to the ``webhook_url`` its DialCall named ("override the URL for which Telnyx will send
subsequent webhooks to for this call"), a message's to its SendMessage ``webhook_url``; without
one, to the factory's ``webhook_url`` (the Call Control App's or messaging profile's URL set in
the portal), and nowhere when that is not given either (every webhook is kept in
:attr:`TelnyxEmulator.webhooks` all the same). ``webhook_url_method`` GET is refused (10032):
the emulator delivers by POST only.

Reply and webhook shapes follow spec3.json (``DialCall`` -> ``CallWithRecordingId``, actions ->
``CallControlCommandResult``, ``ListConnectionActiveCalls`` -> ``ActiveCall``, ``SendMessage``
-> ``OutboundMessagePayload``, error bodies -> ``call-control_Errors`` with the spec's example
codes); the tests validate each against the spec.

How Telnyx's legs map onto the model (this emulator's decisions, the spec being silent):

* a plain dial (no media, no link) is a one-leg model call that stays up once answered
  (the model's ``play_prompt`` with no prompts); a dial with ``audio_url``/``media_name`` is the
  model's ``play_prompt`` with that one file;
* a dial with ``link_to`` (+ ``bridge_on_answer``) rings the new party in the linked leg's call;
  the model has no "add a leg" step, so this goes through its ``transfer`` of the linked call,
  which keeps the answered leg and rings the new party in the same call (the model's
  ``call.transferred`` of that step is not reported: Telnyx reports ``call.initiated``);
* a dial with ``supervise_call_control_id`` is the model's ``monitor`` (``monitor`` role ->
  listen); a ``sip:N@host`` whose user is an extension number of the set-up is that extension
  (a SIP phone registered on the connection), everywhere a ``to`` is read;
* a model call no dial made (an inbound call, or one a test set up on the model) is an inbound
  leg whose call control id is the model's call id;
* StartCallPlayback plays for the model's prompt length (5 s of its clock); GatherUsingAudio
  ends with the first valid key the model's ``press`` gives, or its timeout;
* a repeated ``command_id`` (per call control id; per account for dial) is ignored and answered
  with the first reply. Telnyx does not document for how long; this emulator remembers forever.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from telephony_core.addresses import AddressError
from telephony_core.emulation import EmulatorApp, Request, WebhookSender, route
from telephony_core.errors import ProviderError
from telephony_core.results import Event
from telephony_core.sim import Pbx
from telephony_core.sim.model import PROMPT_SECONDS

from .signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

__all__ = ["TEST_PUBLIC_KEY", "TelnyxEmulator", "create"]

DEMO_KEY = "telnyx-demo-key"
DEMO_CONNECTION = "1494404757140276705"
ORGANIZATION = "b448f9cc-a842-4784-98e9-03c1a5872950"  # the emulated account's organization
#: the emulator's test key pair (derived from a fixed seed: a test key, never a real one)
_PRIVATE = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"telephony-telnyx emulator test key").digest())
TEST_PUBLIC_KEY = base64.b64encode(_PRIVATE.public_key().public_bytes(
    Encoding.Raw, PublicFormat.Raw)).decode("ascii")

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SIP = re.compile(r"sip:([^@\s]+)@[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_HOOK = re.compile(r"https?://[^\s/?#]+(/[^\s#]*)?")

#: model refusal code -> (HTTP status, Telnyx code, title): codes from spec3.json's examples
MODEL_ERRORS = {
    "call_not_found": (422, "90018", "Call has already ended"),
    "call_not_connected": (422, "90034", "Call not answered yet"),
    "prompt_not_found": (400, "90040", "Downloading audio file failed"),
}
#: model hangup/failure reason -> Telnyx hangup_cause (CallHangup enum in spec3.json)
CAUSES = {"no_answer": "timeout", "busy": "user_busy", "dnd": "user_busy",
          "rejected": "call_rejected", "hangup": "normal_clearing", "played": "normal_clearing",
          "no_key": "normal_clearing"}


@attrs.define
class TelnyxLeg:
    """One Call Control leg: what Telnyx knows about it, and where it is in the model."""

    call_control_id: str
    call_leg_id: str
    call_session_id: str
    party: str           # the canonical address in the model
    to: str              # the Telnyx 'to' and 'from' as sent
    from_: str
    client_state: str | None
    started: float
    model_call: str | None = None
    role: str = "party"  # party | supervisor
    alive: bool = True
    prompt: tuple[str, str] | None = None  # ("media_url"|"media_name", value)
    cause: str | None = None
    gather: dict[str, Any] | None = None   # a pending gather: valid digits, its timer
    webhook_url: str | None = None          # the DialCall's webhook_url (None: the app's)


class TelnyxEmulator(EmulatorApp):
    def __init__(self, pbx: Pbx | None = None, *, password: str = DEMO_KEY,
                 connection_id: str = DEMO_CONNECTION, webhook_url: str | None = None,
                 private_key: Ed25519PrivateKey | None = None):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.api_key, self.connection_id = password, connection_id
        self.private_key = private_key or _PRIVATE
        self.legs: dict[str, TelnyxLeg] = {}
        self.commands: dict[tuple[str, str], tuple[int, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.sender = WebhookSender(webhook_url) if webhook_url else None
        #: one sender per URL a request named (the factory's is :attr:`sender`)
        self.senders: dict[str, WebhookSender] = {webhook_url: self.sender} if (
            webhook_url and self.sender) else {}
        self.webhooks: list[tuple[bytes, dict[str, str]]] = []  # every webhook rendered
        self.delivered_to: list[str | None] = []  # where each of them went (None: nowhere)
        self._placing: TelnyxLeg | None = None
        self._count = 0
        self.pbx.subscribe(self._on_event)

    def connect_url(self, base_url: str) -> str:
        host = base_url.removeprefix("http://")
        return (f"telnyx://{self.api_key}@{host}?scheme=http&connection_id={self.connection_id}"
                f"&public_key={quote(TEST_PUBLIC_KEY, safe='')}")

    # -- helpers ---------------------------------------------------------------------------

    def _error(self, status: int, code: str, title: str, detail: str = "",
               pointer: str | None = None):
        error: dict[str, Any] = {"code": code, "title": title}
        if detail:
            error["detail"] = detail
        if pointer:
            error["source"] = {"pointer": pointer}
        return self.json_response({"errors": [error]}, status)

    def _checked(self, request: Request, *, body: bool = True):
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return None, self._error(401, "10009", "Authentication failed",
                                     "Could not understand the provided credentials.")
        if not body:
            return {}, None
        data = self.read_json(request)
        if not isinstance(data, dict):
            return None, self._error(400, "10015", "Bad Request",
                                     "Invalid characters in the request.")
        return data, None

    def _party(self, value: Any) -> str | None:
        """A Telnyx 'to' as a model address (None when it is neither +E.164 nor SIP)."""
        if not isinstance(value, str):
            return None
        if _E164.fullmatch(value):
            return f"tel:{value}"
        sip = _SIP.fullmatch(value)
        if sip:
            user = sip.group(1)
            return f"ext:{user}" if user in self.pbx.setup.extensions else value
        return None

    def _refusal(self, exc: ProviderError):
        status, code, title = MODEL_ERRORS.get(exc.code, (422, "90033",
                                                          "Unable to execute command"))
        return self._error(status, code, title, exc.message)

    def _remembered(self, scope: str, body: Mapping[str, Any]):
        command = body.get("command_id")
        if isinstance(command, str) and (scope, command) in self.commands:
            status, reply = self.commands[(scope, command)]
            return self.json_response(reply, status)
        return None

    def _remember(self, scope: str, body: Mapping[str, Any], status: int, reply: Any):
        if isinstance(body.get("command_id"), str):
            self.commands[(scope, body["command_id"])] = (status, reply)
        return self.json_response(reply, status)

    def _new_leg(self, body: Mapping[str, Any], party: str, role: str = "party") -> TelnyxLeg:
        """A leg with ids that are the same in every fresh emulator (the n-th leg of the same
        connection gets the same ids), so a test can replay a run against a new emulator."""
        self._count += 1
        seed = hashlib.sha256(f"{self.connection_id}:{self._count}".encode()).digest()
        token = base64.urlsafe_b64encode(seed[:24]).decode()
        state, hook = body.get("client_state"), body.get("webhook_url")
        return TelnyxLeg(f"v3:{token}", str(uuid.UUID(bytes=seed[8:24])),
                         str(uuid.UUID(bytes=seed[16:32])), party,
                         str(body["to"]), str(body["from"]),
                         state if isinstance(state, str) else None, self.pbx.clock.now(),
                         role=role, webhook_url=hook if isinstance(hook, str) else None)

    def _hook_refusal(self, body: Mapping[str, Any], field: str = "webhook_url"):
        """An error reply for a ``webhook_url`` the emulator cannot deliver to (not an
        absolute http(s) URL; spec3.json types it a string, format url on SendMessage), or
        for ``webhook_url_method`` GET (the emulator POSTs only); None when fine."""
        hook = body.get(field)
        if hook is not None and (not isinstance(hook, str) or not _HOOK.fullmatch(hook)):
            return self._error(422, "10015", "Bad Request",
                               f"The '{field}' parameter must be an http or https URL.",
                               f"/{field}")
        method = body.get("webhook_url_method", "POST")
        if method not in ("POST", "GET"):
            return self._error(422, "10032", "Invalid enumerated value",
                               "The value must be one of: POST, GET.", "/webhook_url_method")
        if method == "GET":
            return self._error(422, "10032", "Invalid enumerated value",
                               "the emulator delivers webhooks by POST only",
                               "/webhook_url_method")
        return None

    # -- Call Control ----------------------------------------------------------------------

    @route("POST", "/v2/calls")
    def dial(self, request: Request):
        body, refusal = self._checked(request)
        if refusal:
            return refusal
        seen = self._remembered("dial", body)
        if seen is not None:
            return seen
        for field in ("connection_id", "to", "from"):
            if not isinstance(body.get(field), str) or not body[field]:
                return self._error(422, "10004", "Missing required parameter",
                                   f"The '{field}' parameter is required and cannot be blank.",
                                   f"/{field}")
        if body["connection_id"] != self.connection_id:
            return self._error(422, "10015", "Invalid value for connection_id (Call Control App "
                               "ID)", "The requested connection_id (Call Control App ID) is "
                               "either invalid or does not exist.", "/connection_id")
        party = self._party(body["to"])
        if party is None:
            return self._error(422, "10016", "Phone number must be in +E164 format",
                               "The 'to' parameter must be in E164 format.", "/to")
        if not _E164.fullmatch(body["from"]):
            return self._error(422, "10016", "Phone number must be in +E164 format",
                               "The 'from' parameter must be in E164 format.", "/from")
        if body.get("audio_url") and body.get("media_name"):
            return self._error(422, "10015", "Bad Request",
                               "media_name and audio_url cannot be used together.")
        hook_refused = self._hook_refusal(body)
        if hook_refused is not None:
            return hook_refused
        with self.pbx.lock:  # the leg's first event fires inside the model call
            try:
                leg = self._place(body, party)
            except ProviderError as exc:
                return self._refusal(exc)
            except _Refused as refused:
                return self._error(*refused.args)
            except AddressError:
                return self._error(422, "90033", "Unable to execute command",
                                   f"the emulator cannot reach {body['to']!r}: only +E.164 "
                                   "numbers and SIP URIs of the set-up's extensions exist here")
            finally:
                self._placing = None
        self.legs[leg.call_control_id] = leg
        data = {"call_control_id": leg.call_control_id, "call_leg_id": leg.call_leg_id,
                "call_session_id": leg.call_session_id, "is_alive": False, "record_type": "call",
                "call_duration": 0, "start_time": _iso(leg.started)}
        if leg.client_state:
            data["client_state"] = leg.client_state
        return self._remember("dial", body, 200, {"data": data})

    def _place(self, body: Mapping[str, Any], party: str) -> TelnyxLeg:
        supervised, link = body.get("supervise_call_control_id"), body.get("link_to")
        if supervised:
            target = self._live(supervised, "/supervise_call_control_id")
            role = body.get("supervisor_role", "barge")
            mode = {"monitor": "listen", "whisper": "whisper", "barge": "barge"}.get(role)
            if mode is None:
                raise _Refused(422, "10032", "Invalid enumerated value",
                               "The value must be one of: barge, monitor, whisper.",
                               "/supervisor_role")
            leg = self._new_leg(body, party, role="supervisor")
            leg.model_call, leg.call_session_id = target.model_call, target.call_session_id
            self._placing = leg
            self.pbx.monitor(party, f"call:{target.model_call}", mode)
            return leg
        if link:
            target = self._live(link, "/link_to")
            leg = self._new_leg(body, party)
            leg.model_call, leg.call_session_id = target.model_call, target.call_session_id
            self._placing = leg
            self.pbx.transfer(f"call:{target.model_call}", party)
            return leg
        leg = self._new_leg(body, party)
        prompts: list[str] = []
        if body.get("audio_url"):
            prompts, leg.prompt = [str(body["audio_url"])], ("media_url", str(body["audio_url"]))
        elif body.get("media_name"):
            prompts, leg.prompt = [str(body["media_name"])], ("media_name",
                                                              str(body["media_name"]))
        self._placing = leg
        call = self.pbx.play_prompt(party, prompts, caller_id=str(body["from"]).lstrip("+"))
        leg.model_call = call.id
        return leg

    def _inbound(self, call_id: str) -> TelnyxLeg:
        """A model call no dial made (someone called in, or a test set it up on the model) is an
        inbound call on the connection: its call control id is the model's call id."""
        call = self.pbx.calls[call_id]
        party = call.parties[0] if call.parties else "tel:+0"
        number = party[4:] if party.startswith("tel:") else party
        leg = TelnyxLeg(call_id, str(uuid.uuid4()), str(uuid.uuid4()), party, number, number,
                        None, call.started, model_call=call_id)
        self.legs[call_id] = leg
        return leg

    def _live(self, ccid: Any, pointer: str) -> TelnyxLeg:
        if isinstance(ccid, str) and ccid not in self.legs and ccid in self.pbx.calls:
            self._inbound(ccid)
        leg = self.legs.get(ccid) if isinstance(ccid, str) else None
        if leg is None:
            raise _Refused(422, "90015", "Invalid Call Control ID",
                           "The call_control_id provided was not valid.", pointer)
        if not leg.alive or leg.model_call not in self.pbx.calls:
            raise _Refused(422, "90018", "Call has already ended",
                           "This call is no longer active and can't receive commands.")
        return leg

    @route("POST", "/v2/calls/{ccid}/actions/{action}")
    def action(self, request: Request, ccid: str, action: str):
        body, refusal = self._checked(request)
        if refusal:
            return refusal
        seen = self._remembered(ccid, body)
        if seen is not None:
            return seen
        try:
            leg = self._live(ccid, "/call_control_id")
            if action == "hangup":
                if leg.role == "supervisor":
                    self.pbx.far_hangup(leg.party)
                else:
                    self.pbx.hangup(f"call:{leg.model_call}")
            elif action in ("playback_start", "gather_using_audio"):
                return self._play(leg, action, body)
            elif action == "transfer":
                to = self._party(body.get("to"))
                if to is None:
                    raise _Refused(422, "10016", "Phone number must be in +E164 format",
                                   "The 'to' parameter must be in E164 format.", "/to")
                self.pbx.transfer(f"call:{leg.model_call}", to)
            else:
                return self._error(422, "90033", "Unable to execute command",
                                   f"the emulator does not implement '{action}'")
        except ProviderError as exc:
            return self._refusal(exc)
        except _Refused as refused:
            return self._error(*refused.args)
        except AddressError:
            return self._error(422, "90033", "Unable to execute command",
                               "the emulator cannot reach that address")
        return self._remember(ccid, body, 200, {"data": {"result": "ok"}})

    def _play(self, leg: TelnyxLeg, action: str, body: Mapping[str, Any]):
        """StartCallPlayback / GatherUsingAudio: the file "plays" for the model's prompt length
        (5 s of its clock), then call.playback.ended, or, for a gather, the first valid key
        pressed in the model (``pbx.press``) or the timeout ends it (call.gather.ended)."""
        media = [(k, str(body[k])) for k in ("audio_url", "media_name") if body.get(k)]
        if len(media) != 1:
            return self._error(422, "10004", "Missing required parameter",
                               "Exactly one of audio_url and media_name is required.")
        model = self.pbx.calls.get(leg.model_call or "")
        talking = model is not None and any(lg.party == leg.party and lg.state == "talking"
                                            for lg in model.legs)
        if not talking:
            return self._error(422, "90034", "Call not answered yet",
                               "This call can't receive this command because it has not been "
                               "answered yet.")
        name, value = media[0]
        if name == "media_name" and value not in self.pbx.setup.prompts:
            return self._error(400, "90040", "Downloading audio file failed",
                               "Provided audio file couldn't be downloaded.")
        if isinstance(body.get("client_state"), str):
            leg.client_state = body["client_state"]
        key = "media_url" if name == "audio_url" else "media_name"
        if action == "playback_start":
            self._send(self._webhook("call.playback.started", leg, **{key: value},
                                     overlay=False))
            self.pbx.clock.call_later(PROMPT_SECONDS, lambda: self._played(leg, key, value))
        else:
            valid = str(body.get("valid_digits", "0123456789#*"))
            wait = PROMPT_SECONDS + int(body.get("timeout_millis", 60000)) / 1000
            leg.gather = {"valid": valid, "timer": self.pbx.clock.call_later(
                wait, lambda: self._gathered(leg, "", "timeout"))}
        return self._remember(leg.call_control_id, body, 200, {"data": {"result": "ok"}})

    def _played(self, leg: TelnyxLeg, key: str, value: str) -> None:
        if leg.alive:
            self._send(self._webhook("call.playback.ended", leg, **{key: value},
                                     overlay=False, status="completed"))

    def _gathered(self, leg: TelnyxLeg, digits: str, status: str) -> None:
        if leg.gather is None or not leg.alive:
            return
        self.pbx.clock.cancel(leg.gather["timer"])
        leg.gather = None
        self._send(self._webhook("call.gather.ended", leg, digits=digits, status=status))

    def _send(self, body: dict[str, Any], url: str | None = None) -> None:
        """Sign and deliver one webhook: to ``url`` (a message's), else to the webhook_url of
        the leg it is about, else to the factory's URL (the portal's)."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = self.signed_headers(raw)
        if url is None:
            payload = body.get("data", {}).get("payload", {})
            leg = self.legs.get(str(payload.get("call_control_id")))
            if leg is None and self._placing is not None and \
                    self._placing.call_control_id == payload.get("call_control_id"):
                leg = self._placing
            url = leg.webhook_url if leg is not None else None
        sender = self._sender_for(url) if url else self.sender
        self.webhooks.append((raw, headers))
        self.delivered_to.append(sender.url if sender is not None else None)
        if sender is not None:
            sender.send(raw, headers)

    def _sender_for(self, url: str) -> WebhookSender:
        sender = self.senders.get(url)
        if sender is None:
            sender = self.senders[url] = WebhookSender(url)
        return sender

    @route("GET", "/v2/connections/{connection_id}/active_calls")
    def active_calls(self, request: Request, connection_id: str):
        _, refusal = self._checked(request, body=False)
        if refusal:
            return refusal
        if connection_id != self.connection_id:
            return self._error(422, "10015", "Invalid value for connection_id (Call Control App "
                               "ID)", "The requested connection_id (Call Control App ID) is "
                               "either invalid or does not exist.", "/connection_id")
        now = self.pbx.clock.now()
        known = {leg.model_call for leg in self.legs.values()}
        for call_id in [c for c in self.pbx.calls if c not in known]:
            self._inbound(call_id)
        data = [{"call_control_id": leg.call_control_id, "call_leg_id": leg.call_leg_id,
                 "call_session_id": leg.call_session_id, "client_state": leg.client_state or "",
                 "call_duration": int(now - leg.started), "record_type": "call"}
                for leg in self.legs.values()
                if leg.alive and leg.model_call in self.pbx.calls]
        return self.json_response({"data": data, "meta": {"cursors": {}, "total_items": len(data)}})

    # -- Messaging ---------------------------------------------------------------------------

    @route("POST", "/v2/messages")
    def send_message(self, request: Request):
        body, refusal = self._checked(request)
        if refusal:
            return refusal
        to = body.get("to")
        if not isinstance(to, str) or not _E164.fullmatch(to):
            return self._error(422, "10016", "Phone number must be in +E164 format",
                               "The 'to' parameter must be in E164 format.", "/to")
        if not body.get("from") and not body.get("messaging_profile_id"):
            return self._error(422, "10004", "Missing required parameter",
                               "The 'from' parameter is required and cannot be blank.", "/from")
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return self._error(422, "10004", "Missing required parameter",
                               "The 'text' parameter is required and cannot be blank.", "/text")
        for field in ("webhook_url", "webhook_failover_url"):
            refused = self._hook_refusal({field: body.get(field)}, field)
            if refused is not None:
                return refused
        try:
            self.pbx.send_sms(f"tel:{to}", text)
        except ProviderError as exc:
            return self._refusal(exc)
        message = {  # the keys of spec3.json's OutboundMessagePayload example, for an SMS
            "record_type": "message", "direction": "outbound", "id": str(uuid.uuid4()),
            "type": "SMS", "messaging_profile_id": body.get("messaging_profile_id") or "",
            "organization_id": ORGANIZATION,
            "from": {"phone_number": str(body.get("from") or ""), "carrier": "", "line_type": ""},
            "to": [{"phone_number": to, "status": "queued", "carrier": "", "line_type": ""}],
            "cc": [], "text": text, "subject": None, "media": [], "encoding": "GSM-7",
            "parts": 1, "tags": [], "cost": None, "cost_breakdown": None,
            "tcr_campaign_id": None, "tcr_campaign_billable": False,
            "tcr_campaign_registered": None, "received_at": _iso(time.time()), "sent_at": None,
            "completed_at": None, "valid_until": None, "errors": []}
        hook = body.get("webhook_url") if isinstance(body.get("webhook_url"), str) else None
        if hook:
            message["webhook_url"] = hook
        self.messages.append(message)
        reply = self.json_response({"data": message})
        self._message_sent(message, hook)
        return reply

    def _message_sent(self, message: Mapping[str, Any], url: str | None) -> None:
        """The ``message.sent`` webhook of a message (spec3.json
        components.schemas.OutboundMessageEvent, its example: ``{"data": {"record_type":
        "event", "event_type": "message.sent", "payload": <the message>}, "meta": {...}}``),
        to the message's own webhook_url, else the factory's."""
        now = _iso(self.pbx.clock.now())
        payload = {**message, "to": [{**message["to"][0], "status": "sent"}], "sent_at": now}
        target = url or (self.sender.url if self.sender is not None else None)
        event = {"data": {"record_type": "event", "event_type": "message.sent",
                          "id": str(uuid.uuid4()), "occurred_at": now, "payload": payload},
                 "meta": {"attempt": 1, **({"delivered_to": target} if target else {})}}
        self._send(event, url=target)

    # -- webhooks ----------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        placing = self._placing
        if placing is not None and placing.model_call is None and event.call_id:
            placing.model_call = event.call_id
        if placing is not None and placing.call_control_id not in self.legs:
            self.legs[placing.call_control_id] = placing
        for body in self.webhooks_for(event):
            self._send(body)

    def signed_headers(self, raw: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = int(time.time()) if timestamp is None else timestamp
        return {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign(self.private_key, stamp, raw)}

    def _legs_of(self, model_call: str | None, party: str | None = None) -> list[TelnyxLeg]:
        return [leg for leg in self.legs.values() if leg.model_call == model_call and leg.alive
                and (party is None or leg.party == party)]

    def webhooks_for(self, event: Event) -> list[dict[str, Any]]:
        """The Telnyx webhooks a model event causes (spec3.json ``webhooks``), one per leg."""
        party = event.data.get("party") if isinstance(event.data.get("party"), str) else None
        out = []
        if event.kind == "call.ringing" and party:
            out = [self._webhook("call.initiated", leg, direction="outgoing", state="bridging")
                   for leg in self._legs_of(event.call_id, party)]
        elif event.kind == "call.answered" and party:
            out = [self._webhook("call.answered", leg)
                   for leg in self._legs_of(event.call_id, party)]
        elif event.kind == "call.failed":
            for leg in self._legs_of(event.call_id):
                leg.cause = CAUSES.get(str(event.data.get("reason")), "unspecified")
        elif event.kind == "call.transferred":
            call = self.pbx.calls.get(event.call_id or "")
            kept = set(call.parties) if call is not None else set()
            for leg in self._legs_of(event.call_id):
                if leg.role == "party" and leg.party not in kept and leg is not self._placing:
                    leg.alive = False
                    out.append(self._webhook("call.hangup", leg, hangup_cause="normal_clearing",
                                             hangup_source="unknown", state="hangup"))
        elif event.kind == "prompt.finished":
            for leg in self._legs_of(event.call_id):
                if leg.prompt:
                    out.append(self._webhook("call.playback.ended", leg, status="completed",
                                             overlay=False, **{leg.prompt[0]: leg.prompt[1]}))
        elif event.kind == "call.dtmf" and party:
            key = str(event.data.get("key"))
            for leg in self._legs_of(event.call_id, party):
                out.append(self._webhook("call.dtmf.received", leg, digit=key))
                if leg.gather is not None and key in leg.gather["valid"]:
                    self.pbx.clock.cancel(leg.gather["timer"])
                    leg.gather = None
                    out.append(self._webhook("call.gather.ended", leg, digits=key,
                                             status="valid"))
        elif event.kind == "call.hangup":
            for leg in self._legs_of(event.call_id):
                leg.alive = False
                cause = leg.cause or CAUSES.get(str(event.data.get("reason")), "unspecified")
                out.append(self._webhook("call.hangup", leg, hangup_cause=cause,
                                         hangup_source="unknown", state="hangup",
                                         start_time=_iso(leg.started),
                                         end_time=_iso(self.pbx.clock.now())))
        elif event.kind == "extension.status" and event.data.get("status") == "idle":
            for leg in self._legs_of(event.call_id, str(event.data.get("extension"))):
                if leg.role == "supervisor":
                    leg.alive = False
                    out.append(self._webhook("call.hangup", leg, hangup_cause="normal_clearing",
                                             hangup_source="callee", state="hangup"))
        return out

    def _webhook(self, event_type: str, leg: TelnyxLeg, **extra: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "call_control_id": leg.call_control_id, "connection_id": self.connection_id,
            "call_leg_id": leg.call_leg_id, "call_session_id": leg.call_session_id,
            "from": leg.from_, "to": leg.to, **extra}
        if leg.client_state:
            payload["client_state"] = leg.client_state
        return {"data": {"record_type": "event", "event_type": event_type,
                         "id": str(uuid.uuid4()), "occurred_at": _iso(self.pbx.clock.now()),
                         "payload": payload}}

    def adopt(self, call_control_id: str, to: str = "+41000", *, ended: bool = False) -> None:
        """Make a live (answered) leg with a given control id, or one that has ended: what a
        documented sample naming a call assumes exists (the conformance kit's prepare hook)."""
        body = {"to": to, "from": "+15550100"}
        with self.pbx.lock:
            leg = self._new_leg(body, f"tel:{to}")
            leg.call_control_id = call_control_id
            self._placing = leg
            try:
                leg.model_call = self.pbx.play_prompt(leg.party, [], caller_id="15550100").id
            finally:
                self._placing = None
            self.legs[call_control_id] = leg
            self.pbx.answer(leg.party)
            if ended:
                self.pbx.hangup(f"call:{leg.model_call}")

    def close(self) -> None:
        for sender in {id(s): s for s in [self.sender, *self.senders.values()] if s}.values():
            sender.close()


class _Refused(Exception):
    """(status, code, title, detail, pointer) of a Telnyx error reply."""


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def create(pbx: Pbx | None = None, **options: Any) -> TelnyxEmulator:
    return TelnyxEmulator(pbx, **options)

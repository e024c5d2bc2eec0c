"""Pure translation between canonical payloads and Twilio's REST API, TwiML and callbacks.

Addresses: ``tel:+14155550100`` is sent as ``+14155550100`` (E.164) and ``sip:u@host`` as it is.
Call ids: ``CA...`` (the Call SID), or ``CA...:tcNAME`` for a call dial placed in conference
mode, where ``tcNAME`` is the conference's friendly name (hold, mute and monitor need it, and
Twilio cannot tell which conference a call is in from the Call SID alone). Results and events
carry the id as it is (docs/conformance.md, "Ids"); payloads name the call ``call:ID``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from telephony_core.errors import EventError, PayloadError, PayloadProblem
from telephony_core.results import CallInfo, Event

__all__ = ["CALL_ID", "call_id", "call_info", "conference_twiml", "dial_twiml",
           "event_from_callback", "play_twiml", "split_call_id", "wire_address"]

PROVIDER = "twilio"
CALL_ID = re.compile(r"^call:(CA[0-9a-fA-F]{32})(?::(tc[0-9a-f]{24}))?$")

#: CallStatus of a status callback -> canonical event kind
#: (https://www.twilio.com/docs/voice/api/call-resource#call-status-values)
CALL_KINDS = {"queued": "system", "initiated": "system", "ringing": "call.ringing",
              "in-progress": "call.answered", "answered": "call.answered",
              "completed": "call.hangup", "busy": "call.failed", "failed": "call.failed",
              "no-answer": "call.failed", "canceled": "call.failed"}
#: Call resource status -> CallInfo.state
CALL_STATES = {"queued": "ringing", "ringing": "ringing", "in-progress": "talking"}


def wire_address(address: str) -> str:
    """``tel:+1415...`` -> ``+1415...``; ``sip:`` addresses go as they are (Twilio dials both)."""
    return address[4:] if address.startswith("tel:") else address


def canonical_address(value: str | None) -> str | None:
    """A Twilio ``From``/``To`` as a canonical address (None when empty)."""
    if not value:
        return None
    if value.startswith("sip:") or value.startswith("client:"):
        return value
    return f"tel:{value}" if value.lstrip("+").isdigit() else value


def call_id(sid: str, conference: str | None = None) -> str:
    """The ``call_id`` of results and events: the Call SID as it is (no ``call:``), with
    ``:tcNAME`` for a conference-backed call."""
    return sid + (f":{conference}" if conference else "")


def split_call_id(ref: str) -> tuple[str, str | None]:
    """(Call SID, conference name or None) of a payload's ``call:ID``."""
    match = CALL_ID.match(ref)
    if match is None:
        raise PayloadError([PayloadProblem("call", f"{ref!r} is not a Twilio call id: expected "
                                                   "call:CA + 32 hex digits[:tcNAME]")])
    return match.group(1), match.group(2)


def _noun(address: str) -> str:
    """The <Dial> noun for an address: <Sip> for sip:, <Number> for a number."""
    if address.startswith("sip:"):
        return f"<Sip>{escape(address)}</Sip>"
    return f"<Number>{escape(wire_address(address))}</Number>"


def dial_twiml(callee: str, caller_id: str | None) -> str:
    """What the caller's call runs once answered: dial the callee and bridge them (the
    callee sees ``caller_id``; without one, Twilio's default caller id)."""
    attribute = f" callerId={quoteattr(caller_id)}" if caller_id else ""
    return f"<Response><Dial{attribute}>{_noun(callee)}</Dial></Response>"


def conference_twiml(name: str) -> str:
    """A party joins conference ``name``; the conference ends when either party leaves (it
    stands for a two-party call)."""
    return ('<Response><Dial><Conference startConferenceOnEnter="true" '
            f'endConferenceOnExit="true">{escape(name)}</Conference></Dial></Response>')


def play_twiml(urls: Sequence[str]) -> str:
    """One <Play> per URL, in order; the call ends after the last one."""
    return "<Response>" + "".join(f"<Play>{escape(u)}</Play>" for u in urls) + "</Response>"


def call_info(row: Mapping[str, Any]) -> CallInfo:
    """A Call resource (GET Calls.json) as a CallInfo; outbound-api and outbound-dial are
    both ``outbound``."""
    direction = str(row.get("direction") or "")
    return CallInfo(
        call_id=call_id(str(row["sid"])),
        direction="inbound" if direction == "inbound" else
        ("outbound" if direction.startswith("outbound") else None),
        caller=canonical_address(row.get("from")), callee=canonical_address(row.get("to")),
        state=CALL_STATES.get(str(row.get("status")), "unknown"), raw=dict(row))


def parse_rfc2822(value: Any):
    """Twilio's timestamps (``Mon, 16 Aug 2010 03:45:01 +0000``) as aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def event_from_callback(params: Mapping[str, str]) -> Event:
    """A call or message status callback (form parameters) as a canonical event.

    Call callbacks carry ``CallSid`` and ``CallStatus`` (https://www.twilio.com/docs/usage/
    webhooks/voice-webhooks#call-status-callbacks); message callbacks ``MessageSid`` and
    ``MessageStatus``; a ``<Gather>`` action request (``Digits``, no ``CallStatus``) is
    ``call.dtmf``. ``at`` is the callback's ``Timestamp`` (RFC 2822)."""
    if params.get("MessageSid") and params.get("MessageStatus"):
        data = {"message_id": params["MessageSid"], "status": params["MessageStatus"],
                "to": canonical_address(params.get("To"))}
        for key in ("ErrorCode", "ErrorMessage"):
            if params.get(key):
                data[key] = params[key]
        return Event("sms.status", PROVIDER, at=parse_rfc2822(params.get("Timestamp")),
                     data=data, raw=dict(params))
    sid, status = params.get("CallSid"), params.get("CallStatus")
    if sid and not status and params.get("Digits"):
        # a <Gather> action request (keys the caller pressed): the example of Twilio's
        # webhook-security page is one
        party = canonical_address(params.get("From"))
        return Event("call.dtmf", PROVIDER, call_id=sid,
                     parties=(party,) if party else (), at=parse_rfc2822(params.get("Timestamp")),
                     data={"key": params["Digits"], **({"party": party} if party else {})},
                     raw=dict(params))
    if not sid or not status:
        raise EventError(f"{'CallSid' if not sid else 'CallStatus'} is missing: a Twilio status "
                         "callback carries CallSid and CallStatus (or MessageSid and "
                         "MessageStatus)")
    kind = CALL_KINDS.get(status, "system")
    party = canonical_address(params.get("To"))
    data: dict[str, Any] = {"status": status}
    if party:
        data["party"] = party
    for key in ("CallDuration", "SequenceNumber", "ParentCallSid", "Direction",
                "CallbackSource", "SipResponseCode"):
        if params.get(key):
            data[key] = params[key]
    if kind == "call.failed":
        data["reason"] = {"no-answer": "no_answer", "canceled": "canceled"}.get(status, status)
    return Event(kind, PROVIDER, call_id=sid, parties=(party,) if party else (),
        at=parse_rfc2822(params.get("Timestamp")), data=data, raw=dict(params))

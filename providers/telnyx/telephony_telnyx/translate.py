"""Pure translation between canonical payloads and Telnyx Call Control v2 / Messaging bodies.

Every body here is checked against Telnyx's OpenAPI 3.1 spec in the tests
(``../shared/specs/telnyx/spec3.json``, operation ids named in each docstring).

A call flow that continues on events (dial: ring the caller, then the callee once the caller
answers) keeps its state in the call itself, in Telnyx's ``client_state`` (base64, echoed in
every later webhook of that leg), so that whichever process receives the webhook continues the
flow. The state is small JSON: ``{"v": 1, "f": flow, ...}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telephony_core.errors import EventError
from telephony_core.results import CallInfo, Event

__all__ = [
    "STATE_VERSION", "active_call_info", "bridge_leg", "call_control_id", "decode_state",
    "dial_caller", "encode_state", "event_from_webhook", "follow_up_command_id", "hangup_body",
    "monitor_body", "number", "play_call", "play_step", "sms_body", "transfer_body",
]

PROVIDER = "telnyx"
STATE_VERSION = 1

#: Telnyx event_type -> canonical kind (webhooks in spec3.json ``webhooks``)
KINDS = {
    "call.initiated": "call.ringing",
    "call.answered": "call.answered",
    "call.hangup": "call.hangup",
    "call.playback.ended": "prompt.finished",
    "call.dtmf.received": "call.dtmf",
    "message.sent": "sms.status",
    "message.finalized": "sms.status",
}

#: canonical monitor mode -> Telnyx ``supervisor_role`` (DialCall request body)
SUPERVISOR_ROLES = {"listen": "monitor", "whisper": "whisper", "barge": "barge"}


def number(address: str) -> str:
    """``tel:+E164`` -> ``+E164``; ``sip:user@host`` stays a SIP URI (Telnyx dials both)."""
    return address[4:] if address.startswith("tel:") else address


def address_of(value: Any) -> str | None:
    """A Telnyx ``to``/``from`` value as a canonical address."""
    if not isinstance(value, str) or not value:
        return None
    return value if value.startswith("sip:") else f"tel:{value}"


def call_control_id(call: str) -> str:
    """``call:v3:...`` -> ``v3:...`` (the schemas accept only ``call:`` ids here)."""
    return call.split(":", 1)[1]


def encode_state(state: Mapping[str, Any]) -> str:
    """Flow state -> the base64 ``client_state`` Telnyx carries in every later webhook."""
    text = json.dumps({"v": STATE_VERSION, **state}, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(text.encode()).decode("ascii")


def decode_state(value: Any) -> dict[str, Any]:
    """``client_state`` -> our flow state; ``{}`` for a state someone else set (or none).

    A webhook may carry a client_state another application wrote: that is not an error, it is
    simply not one of our flows, so nothing follows from it.
    """
    if not isinstance(value, str) or not value:
        return {}
    try:
        state = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        return {}
    return state


def occurred_at(value: Any) -> datetime | None:
    """Telnyx's ``occurred_at`` (ISO 8601, e.g. ``2018-02-02T22:25:27.521992Z``) as UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _common(payload: Mapping[str, Any], key: str | None) -> dict[str, Any]:
    return {"command_id": key} if key else {}


def dial_caller(connection_id: str, payload: Mapping[str, Any], key: str | None,
                *, timeout_secs: int = 30) -> dict[str, Any]:
    """``dial``, step 1 (DialCall, ``POST /calls``): ring the caller. The callee is rung by step 2
    (:func:`bridge_leg`) when this leg's ``call.answered`` arrives; what step 2 needs travels
    in ``client_state``."""
    state = {"f": "dial", "callee": payload["callee"], "caller": payload["caller"],
             "from": payload["caller_id"]}
    if payload.get("reference"):
        state["ref"] = payload["reference"]
    return {"connection_id": connection_id, "to": number(payload["caller"]),
            "from": payload["caller_id"], "timeout_secs": timeout_secs,
            "client_state": encode_state(state), **_common(payload, key)}


def follow_up_command_id(call_control_id: str, step: str) -> str:
    """A command_id for a follow-up step that is the same in every process that handles the
    same webhook (so a repeat of the step, or the same webhook delivered twice, is ignored by
    Telnyx), and at most 64 characters."""
    digest = hashlib.sha256(f"{call_control_id}|{step}".encode()).hexdigest()[:40]
    return f"flow-{step}-{digest}"[:64]


def bridge_leg(connection_id: str, state: Mapping[str, Any], answered_leg: str,
               *, timeout_secs: int = 30) -> dict[str, Any]:
    """``dial``, step 2 (DialCall with ``link_to`` + ``bridge_on_answer``): ring the callee and
    let Telnyx bridge it to the answered caller leg when it answers. ``bridge_intent`` tells
    Telnyx the legs belong together (spec: "the from number will be overwritten by the from
    number from the linked call")."""
    leg_state = {"f": "dial-callee", "root": answered_leg, "caller": state.get("caller"),
                 "callee": state.get("callee")}
    if state.get("ref"):
        leg_state["ref"] = state["ref"]
    return {"connection_id": connection_id, "to": number(str(state["callee"])),
            "from": state["from"], "link_to": answered_leg, "bridge_intent": True,
            "bridge_on_answer": True, "timeout_secs": timeout_secs,
            "client_state": encode_state(leg_state),
            "command_id": follow_up_command_id(answered_leg, "bridge")}


def _media(prompt: str) -> dict[str, str]:
    """An http(s) URL plays as ``audio_url``; anything else names a file uploaded to Telnyx's
    media storage (``media_name``)."""
    return {"audio_url" if prompt.startswith(("http://", "https://")) else "media_name": prompt}


def play_call(connection_id: str, payload: Mapping[str, Any], key: str | None,
              *, timeout_secs: int = 30) -> dict[str, Any]:
    """``play_prompt`` (DialCall). One prompt without a menu is one request: Telnyx plays the
    dial's ``audio_url``/``media_name`` when the call is answered. Several prompts, or a key
    menu, are a flow (:func:`play_step`): the state carries the prompts and the menu."""
    prompts, menu = list(payload["prompts"]), dict(payload.get("menu") or {})
    state: dict[str, Any] = {"f": "play", "to": payload["to"], "n": len(prompts)}
    if payload.get("reference"):
        state["ref"] = payload["reference"]
    body = {"connection_id": connection_id, "to": number(payload["to"]),
            "from": payload["caller_id"], "timeout_secs": timeout_secs}
    if len(prompts) == 1 and not menu:
        body.update(_media(prompts[0]))
    else:
        state.update(p=prompts, i=-1, **({"m": menu} if menu else {}))
    return {**body, "client_state": encode_state(state), **_common(payload, key)}


def play_step(state: Mapping[str, Any], leg: str) -> tuple[str, dict[str, Any]] | None:
    """The next step of a play flow after prompt ``state["i"]`` (-1: the call was answered):
    StartCallPlayback of the next prompt, or GatherUsingAudio for the last one when there is a
    menu (one key among the menu's). None when every prompt has played."""
    prompts = state.get("p")
    index = state.get("i")
    if not isinstance(prompts, list) or not isinstance(index, int) or index + 1 >= len(prompts):
        return None
    nxt = index + 1
    new_state = encode_state({k: v for k, v in {**state, "i": nxt}.items() if k != "v"})
    command = follow_up_command_id(leg, f"play{nxt}")
    menu = state.get("m")
    if nxt == len(prompts) - 1 and isinstance(menu, Mapping) and menu:
        return "gather_using_audio", {
            **_media(str(prompts[nxt])), "valid_digits": "".join(sorted(menu)),
            "minimum_digits": 1, "maximum_digits": 1, "maximum_tries": 1,
            "timeout_millis": 10000, "client_state": new_state, "command_id": command}
    return "playback_start", {**_media(str(prompts[nxt])), "client_state": new_state,
                              "command_id": command}


def transfer_body(payload: Mapping[str, Any], key: str | None) -> dict[str, Any]:
    """``transfer`` (TransferCall): the leg is connected to ``to``; its other leg is dropped."""
    return {"to": number(payload["to"]), **_common(payload, key)}


def hangup_body(payload: Mapping[str, Any], key: str | None) -> dict[str, Any]:
    """``hangup`` (HangupCall)."""
    return _common(payload, key)


def monitor_body(connection_id: str, payload: Mapping[str, Any], caller_id: str,
                 key: str | None) -> dict[str, Any]:
    """``monitor`` (DialCall with ``supervise_call_control_id`` + ``supervisor_role``): Telnyx
    dials the supervisor and joins it to the call as monitor (listen), whisper or barge."""
    return {"connection_id": connection_id, "to": number(payload["supervisor"]),
            "from": caller_id, "supervise_call_control_id": call_control_id(payload["call"]),
            "supervisor_role": SUPERVISOR_ROLES[payload["mode"]],
            "client_state": encode_state({"f": "monitor", "root": call_control_id(
                payload["call"])}), **_common(payload, key)}


def sms_body(payload: Mapping[str, Any], sender: str | None,
             messaging_profile_id: str | None) -> dict[str, Any]:
    """``send_sms`` (SendMessage, ``POST /messages``): no idempotency key exists here."""
    body: dict[str, Any] = {"to": number(payload["to"]), "text": payload["text"]}
    if sender:
        body["from"] = sender
    if messaging_profile_id:
        body["messaging_profile_id"] = messaging_profile_id
    return body


def active_call_info(item: Mapping[str, Any]) -> CallInfo:
    """An ActiveCall (ListConnectionActiveCalls) as CallInfo. Telnyx gives no parties and no
    state here; a call our flows placed carries them in its client_state."""
    state = decode_state(item.get("client_state"))
    ccid = str(item["call_control_id"])
    if state.get("f") in ("dial-callee", "monitor") and isinstance(state.get("root"), str):
        ccid = state["root"]  # a leg our flow added to the call the application knows
    caller = state.get("caller") or (state.get("to") if state.get("f") == "play" else None)
    callee = state.get("callee")
    return CallInfo(ccid, "outbound" if state else None,
                    caller if isinstance(caller, str) else None,
                    callee if isinstance(callee, str) else None, "unknown", raw=dict(item))


def event_from_webhook(body: Any) -> Event:
    """A Telnyx webhook (``{"data": {"event_type", "occurred_at", "payload"}}``) as an Event.

    ``call_id`` is the id the application got from ``dial``/``play_prompt`` (as it is, no
    ``call:``): the leg's own ``call_control_id``, or, for the callee leg a dial flow placed,
    the caller leg's (carried as ``root`` in client_state). ``parties`` are the leg's ``from``
    and ``to``.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        raise EventError("a Telnyx webhook is a JSON object with a 'data' object")
    data = body["data"]
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise EventError("data.event_type is missing: expected a string such as "
                         "'call.answered'")
    payload = data.get("payload")
    if not isinstance(payload, Mapping):
        raise EventError(f"data.payload of {event_type!r} is missing: expected an object")
    kind = KINDS.get(event_type, "system")
    if event_type == "call.initiated" and payload.get("direction") == "incoming":
        kind = "call.offered"  # an inbound call waiting to be answered (state "parked")
    if event_type.startswith("message."):
        return _message_event(data, payload, event_type)
    ccid = payload.get("call_control_id")
    if not isinstance(ccid, str) or not ccid:
        raise EventError(f"data.payload.call_control_id of {event_type!r} is missing: "
                         "expected the call's control id")
    state = decode_state(payload.get("client_state"))
    root = state.get("root") if isinstance(state.get("root"), str) else ccid
    parties = tuple(a for a in (address_of(payload.get("from")), address_of(payload.get("to")))
                    if a)
    extra = {k: payload[k] for k in ("call_leg_id", "call_session_id", "hangup_cause",
                                     "status", "digit", "digits", "media_url", "media_name",
                                     "state")
             if k in payload and isinstance(payload[k], str | int | bool)}
    extra["event_type"] = event_type
    extra["call_control_id"] = ccid
    if event_type == "call.dtmf.received" and "digit" in payload:
        extra["key"] = payload["digit"]
    if state.get("f"):
        extra["flow"] = state["f"]
    return Event(kind, PROVIDER, call_id=root, parties=parties,
                 at=occurred_at(data.get("occurred_at")),
                 reference=state.get("ref") if isinstance(state.get("ref"), str) else None,
                 data=extra, raw=dict(body))


def _message_event(data: Mapping[str, Any], payload: Mapping[str, Any], event_type: str) -> Event:
    to = payload.get("to")
    first = to[0] if isinstance(to, list) and to and isinstance(to[0], Mapping) else {}
    sender = payload.get("from")
    parties = tuple(a for a in (
        address_of(sender.get("phone_number")) if isinstance(sender, Mapping) else None,
        address_of(first.get("phone_number"))) if a)
    extra = {"event_type": event_type, "message_id": payload.get("id"),
             "status": first.get("status")}
    return Event(KINDS.get(event_type, "system"), PROVIDER, parties=parties,
                 at=occurred_at(data.get("occurred_at")),
                 data={k: v for k, v in extra.items() if isinstance(v, str)}, raw=dict(data))

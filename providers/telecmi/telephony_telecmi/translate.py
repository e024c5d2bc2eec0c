"""Pure translation: canonical payloads to PCMO requests, webhooks to canonical events."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telephony_core.errors import EventError
from telephony_core.results import Event

__all__ = ["bridge_call", "event_from_webhook", "number", "play_call", "refused"]

PROVIDER = "telecmi"
#: live-event ``status`` -> kind. Global accounts (PIOPIY-doc piopiy/docs/live-out-started,
#: live-out-answered, live-in-answered) send no ``type`` and these statuses; leg b's answer is
#: ``out_bridged``. The older India pages (piopiy-india/docs/live-out-started) send
#: ``type: "event"`` with bare ``started``/``answered``; ``ringing``/``hangup`` are kept for them.
LIVE_KINDS = {
    "out_started": "call.ringing", "in_started": "call.ringing", "started": "call.ringing",
    "ringing": "call.ringing",
    "out_answered": "call.answered", "out_bridged": "call.answered",
    "in_answered": "call.answered", "answered": "call.answered",
    "hangup": "call.hangup",
}
#: CDR fields kept in ``Event.data`` (PIOPIY-doc webhooks-overview, inbound-webhooks-answered,
#: piopiy-india/docs/outbound-webhooks-answered). There is no ``billsec``: talk time is
#: ``end_time - answer_time`` (seconds), given as ``data["talk"]`` when both are there.
CDR_FIELDS = ("request_id", "status", "leg", "direction", "duration", "answer_time",
              "start_time", "end_time", "conversation_uuid", "call_rate", "balance", "record")
LIVE_FIELDS = ("request_id", "status", "leg", "direction", "conversation_uuid", "vn",
               "callerid")


def number(address_or_digits: str) -> int:
    """A ``tel:`` address or caller id as the JSON number TeleCMI wants. The schemas refuse a
    leading + or 0, which a JSON number cannot carry, so nothing is lost here."""
    return int(address_or_digits.split(":", 1)[-1])


def _call(credentials: Mapping[str, Any], payload: Mapping[str, Any], to: str,
          pcmo: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"appid": credentials["appid"], "secret": credentials["secret"],
            "from": number(payload["caller_id"]), "to": number(to)}
    if "reference" in payload:
        # a string, as seed 001's table types it and as the events echo it back
        # (PIOPIY-doc live-out-answered: extra_params '{"key":"value"}')
        body["extra_params"] = json.dumps({"reference": payload["reference"]},
                                          separators=(",", ":"))
    body["pcmo"] = pcmo
    return body


def play_call(credentials: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """One ``play`` action per prompt, in order: ``file_url`` for URLs, else ``file_name``."""
    pcmo = [{"action": "play", "file_url" if p.startswith(("http://", "https://"))
             else "file_name": p} for p in payload["prompts"]]
    return _call(credentials, payload, payload["to"], pcmo)


def bridge_call(credentials: Mapping[str, Any], payload: Mapping[str, Any],
                timeout: int = 30) -> dict[str, Any]:
    """Call the caller first; once answered, a ``bridge`` connects the callee."""
    pcmo = [{"action": "bridge", "from": number(payload["caller_id"]), "timeout": timeout,
             "connect": [{"type": "pstn", "number": number(payload["callee"])}]}]
    return _call(credentials, payload, payload["caller"], pcmo)


def refused(field: str, problem: str) -> EventError:
    """A webhook body this provider cannot read: a typed error naming the field."""
    return EventError(f"{field} {problem}", provider=PROVIDER)


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise refused(key, f"is a JSON {type(value).__name__}; expected a string or a number")
    return str(value)


def _seconds(body: Mapping[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise refused(key, f"is {value!r}; expected a number (a timestamp)") from None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise refused(key, f"is {value!r}; expected a finite number")
    return seconds


def _at(seconds: float | None) -> datetime | None:
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _reference(extra: Any) -> str | None:
    """``extra_params`` comes back as the JSON text that was sent (PIOPIY-doc
    live-out-answered); the reference is its ``reference`` member. Other text (the inbound
    samples' ``{ 'Name': 'Akil' }``, not JSON) carries no reference."""
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return None
    if isinstance(extra, Mapping):
        value = extra.get("reference")
        return str(value) if isinstance(value, str | int | float) and value != "" else None
    return None


def event_from_webhook(body: Any) -> Event:
    """A live event or a CDR (one per leg) as a canonical event.

    ``call_id`` is the leg's ``cmiuuid`` (what hold and hangup take); ``data`` carries the
    ``request_id`` of the make-call reply, the ``leg`` (a: the number called first, b: the one
    bridged) and the ``status``. ``time`` is in milliseconds; a CDR's ``end_time`` in seconds."""
    if not isinstance(body, Mapping):
        raise refused("$", "expected a JSON object (a TeleCMI live event or CDR)")
    parties = tuple(f"tel:{v}" for v in (_text(body, "from"), _text(body, "to")) if v)
    status = _text(body, "status")
    kind = "system"
    if _text(body, "type") == "cdr":
        kind = "cdr"
        data = {k: body[k] for k in CDR_FIELDS if k in body}
        answered, ended = _seconds(body, "answer_time"), _seconds(body, "end_time")
        if answered and ended and ended >= answered:
            data["talk"] = ended - answered
        when = ended
    else:
        kind = LIVE_KINDS.get(status or "", "system")
        data = {k: body[k] for k in LIVE_FIELDS if k in body}
        when = None
    if when is None:
        millis = _seconds(body, "time")
        when = millis / 1000 if millis is not None else None
    if "extra_params" in body:
        data["extra_params"] = body["extra_params"]
    return Event(kind, PROVIDER, call_id=_text(body, "cmiuuid"), parties=parties, at=_at(when),
                 reference=_reference(body.get("extra_params")), data=data, raw=dict(body))

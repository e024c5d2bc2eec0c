"""Yeastar event reports to canonical events.

Two report shapes exist in the field and both are read:

* the older one (every report sample of the guide,
  ../shared/vendor-docs/yeastar-s-series-api-guide/api_sample/call-report/*.md): the parties
  are top-level ``"ext"`` keys, repeated once per extension (``json_pairs`` keeps every pair),
  plus an ``"inbound"`` or ``"outbound"`` object for a trunk leg;
* the ``version: "1.0.2"`` one the provider asks for at login (the vendor's v1 help site,
  quoted in ../shared/research/vendor-fidelity.md Y31): the same members in a ``"call"`` list,
  ``[{"ext": {...}}, {"inbound": {...}}]``.

Parties are read per report: an ``ext`` member is ``ext:N``; an ``inbound`` leg is from a
number (``tel:``) to an extension; an ``outbound`` leg from an extension to a number; NewCdr
parties follow the call ``type`` (cdr.md: an Inbound CDR's ``callfrom`` is a number, an
Internal one's both are extensions). A report the provider cannot read raises a typed error
naming what is missing, never a raw exception. Every event carries a timestamp: the vendor's
(NewCdr ``timestart``) when there is one, else the time of receipt, and ``data["at_source"]``
says which (``"vendor"`` or ``"received"``).

The PBX re-sends a report until it gets HTTP 200: :class:`ReportFilter` drops the repeats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telephony_core.errors import PayloadError
from telephony_core.events import Deduplicator, json_pairs, parse_timestamp
from telephony_core.results import Event

from .errors import report_error

__all__ = ["ACTIONS", "ReportFilter", "events_from_report"]

PROVIDER = "yeastar"
ACTIONS = {
    "Invite": "call.offered", "Incoming": "call.ringing", "RING": "call.ringing",
    "ALERT": "call.ringing", "ANSWER": "call.answered", "ANSWERED": "call.answered",
    "BYE": "call.hangup", "CallFailed": "call.failed", "DTMF": "call.dtmf",
    "satisfaction": "call.dtmf", "NewCdr": "cdr", "PlayPromptEnd": "prompt.finished",
    "ExtensionStatus": "extension.status", "ConfigChange": "system", "BootUp": "system",
    "Tranfer": "call.transferred", "sms-send": "sms.status",
}
#: NewCdr ``type`` -> the kinds of (callfrom, callto) (cdr.md; Callback and Transfer are
#: listed there without a sample: a callback joins two numbers)
CDR_PARTIES = {"Inbound": ("tel", "ext"), "Outbound": ("ext", "tel"), "Internal": ("ext", "ext"),
               "Callback": ("tel", "tel")}
SMS_STATUS = {"Succeed": "sent", "Success": "sent", "Failed": "failed"}


def _as_dict(value: Any) -> Any:
    """Nested pair lists (from json_pairs) back to dicts; repeated keys only matter on top."""
    if isinstance(value, list) and value and all(
            isinstance(p, tuple) and len(p) == 2 for p in value):
        return {k: _as_dict(v) for k, v in value}
    if isinstance(value, list):
        return [_as_dict(v) for v in value]
    return value


def _members(pairs: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The ``ext``/``inbound``/``outbound`` members of either report shape, in order."""
    found: list[tuple[str, Any]] = [(k, _as_dict(v)) for k, v in pairs
                                    if k in ("ext", "inbound", "outbound")]
    calls = _as_dict(dict(pairs).get("call"))
    if isinstance(calls, list):  # another use of the name (none documented) is left alone
        for item in calls:
            if not isinstance(item, dict):
                raise report_error("every member of 'call' must be an object such as "
                                   f"{{\"ext\": {{\"extid\": \"1000\"}}}}, got {item!r:.60}")
            found += [(k, v) for k, v in item.items() if k in ("ext", "inbound", "outbound")]
    found = [(k, {} if v == [] else v) for k, v in found]  # {} parses as [] with pairs kept
    for key, value in found:
        if not isinstance(value, dict):
            raise report_error(f"'{key}' must be an object, got {type(value).__name__}")
    return found


def _text(value: Any) -> str | None:
    """A scalar field as text; None when absent, empty or not a scalar."""
    if value in (None, "") or isinstance(value, list | dict | tuple):
        return None
    return str(value)


def _parties(members: list[tuple[str, dict[str, Any]]]) -> list[str]:
    parties: list[str] = []
    for key, value in members:
        if key == "ext":
            found = [f"ext:{value['extid']}"] if _text(value.get("extid")) else []
        else:
            kinds = ("tel", "ext") if key == "inbound" else ("ext", "tel")
            found = [f"{kind}:{value[field]}" for kind, field in zip(kinds, ("from", "to"),
                                                                    strict=True)
                     if _text(value.get(field))]
        parties += [p for p in found if p not in parties]
    return parties


def _leg_data(members: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The trunk leg's own id (``outboundid`` differs from ``callid``: ringing.md, keypress.md)
    and trunk."""
    data: dict[str, Any] = {}
    for key, value in members:
        if key in ("inbound", "outbound"):
            if _text(value.get(f"{key}id")):
                data[f"{key}_id"] = str(value[f"{key}id"])
            trunk = _text(value.get("trunk")) or _text(value.get("trunkname"))
            if trunk:
                data["trunk"] = trunk
    return data


def _read(body: bytes | str | Mapping[str, Any]) -> list[tuple[str, Any]]:
    if isinstance(body, Mapping):
        return list(body.items())
    raw = body.encode() if isinstance(body, str) else body
    try:
        return json_pairs(raw)
    except PayloadError as exc:
        raise report_error(exc.problems[0].message if getattr(exc, "problems", None)
                           else "the report is not a JSON object") from None


def events_from_report(body: bytes | str | Mapping[str, Any]) -> list[Event]:
    """One report body (either shape) as canonical events."""
    pairs = _read(body)
    flat: dict[str, Any] = {k: _as_dict(v) for k, v in pairs}
    action = flat.get("action")
    if not isinstance(action, str) or not action:
        raise report_error("the report has no 'action' (expected e.g. \"RING\", \"NewCdr\")")
    kind = ACTIONS.get(action, "system")
    members = _members(pairs)
    parties = _parties(members)
    call_id = _text(flat.get("callid"))
    data: dict[str, Any] = {"action": action, **_leg_data(members)}
    at = None
    if action in ("Invite", "Incoming"):
        inbound = next((v for k, v in members if k == "inbound"), {})
        call_id = call_id or _text(inbound.get("inboundid"))
        data["to"] = _text(inbound.get("to"))
    elif action == "NewCdr":
        kinds = CDR_PARTIES.get(str(flat.get("type")), ("tel", "tel"))
        parties = [f"{k}:{_text(flat.get(f))}" for k, f in zip(kinds, ("callfrom", "callto"),
                                                               strict=True)
                   if _text(flat.get(f))]
        data.update({k: flat[k] for k in ("timestart", "callduraction", "talkduraction",
                                          "status", "type", "recording", "pincode") if k in flat})
        trunk = next((flat[k] for k in ("srctrunkname", "desttrunkname", "dstrunkname")
                      if _text(flat.get(k))), None)
        if trunk:
            data["trunk"] = trunk
        at = parse_timestamp(flat.get("timestart"))
    elif action == "DTMF":
        data["key"] = _text(flat.get("info"))
    elif action == "satisfaction":
        data.update(key=_text(flat.get("surveyresult")), survey=True)
    elif action == "CallFailed":
        data["reason"] = _text(flat.get("reason"))
    elif action == "ExtensionStatus":
        data.update({k: flat[k] for k in ("extension", "status") if k in flat})
    elif action == "PlayPromptEnd":
        data["prompt"] = _text(flat.get("prompt"))
    elif action == "Tranfer":
        # call-transfer.md: no top-level "to"; the leg object says from and to, the ext member
        # is the extension that transferred
        leg = next((v for k, v in members if k in ("inbound", "outbound")), {})
        by = next((f"ext:{v['extid']}" for k, v in members if k == "ext" and v.get("extid")),
                  None)
        data.update(by=by, to=_text(leg.get("to")), **{"from": next(
            (p for p in parties if p != by), None)})
    elif action == "sms-send":
        status = str(flat.get("status", ""))
        data.update(message_id=_text(flat.get("smsid")),
                    status=SMS_STATUS.get(status, status.lower() or "unknown"))
    elif kind == "system":
        data.update({k: v for k, v in flat.items()
                     if k != "action" and isinstance(v, str | int | float | bool)})
    data["at_source"] = "vendor" if at is not None else "received"
    return [Event(kind, PROVIDER, call_id=call_id, parties=parties,
                  at=at or datetime.now(UTC), data=data, raw=pairs)]


def _digest(body: bytes | str | Mapping[str, Any]) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(raw if isinstance(raw, bytes) else repr(raw).encode()).digest()


class ReportFilter(Deduplicator):
    """Drops reports the PBX re-sent (byte-identical bodies) within the last ``window``.

    ``if reports.is_new(body): events = client.parse_event(body)``. Thread-safe.
    """

    def __init__(self, window: int = 4096):
        super().__init__(window, key=_digest)

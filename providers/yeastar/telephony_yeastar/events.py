"""Yeastar event reports to canonical events.

v1 report bodies repeat the ``"ext"`` key (one per party); they are parsed with every pair kept,
in order. The ``version: "1.0.2"`` format asked for at login sends a list instead; both are read.
The PBX re-sends a report until it gets HTTP 200: :class:`ReportFilter` drops the repeats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from telephony_core.events import Deduplicator, json_pairs, parse_timestamp
from telephony_core.results import Event

__all__ = ["ACTIONS", "ReportFilter", "events_from_report"]

PROVIDER = "yeastar"
ACTIONS = {
    "Invite": "call.offered", "Incoming": "call.ringing", "RING": "call.ringing",
    "ALERT": "call.ringing", "ANSWER": "call.answered", "ANSWERED": "call.answered",
    "BYE": "call.hangup", "CallFailed": "call.failed", "DTMF": "call.dtmf",
    "NewCdr": "cdr", "PlayPromptEnd": "prompt.finished", "ExtensionStatus": "extension.status",
    "ConfigChange": "system", "BootUp": "system", "Tranfer": "call.transferred",
}


def _as_dict(value: Any) -> Any:
    """Nested pair lists (from json_pairs) back to dicts; repeated keys only matter on top."""
    if isinstance(value, list) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return {k: _as_dict(v) for k, v in value}
    if isinstance(value, list):
        return [_as_dict(v) for v in value]
    return value


def _parties(pairs: list[tuple[str, Any]]) -> list[str]:
    parties: list[str] = []
    for key, value in pairs:
        value = _as_dict(value)
        items = value if isinstance(value, list) else [value]
        if key == "ext":
            parties += [f"ext:{v['extid']}" for v in items if isinstance(v, dict) and "extid" in v]
        elif key in ("inbound", "outbound") and isinstance(value, dict):
            parties += [f"tel:{value['from']}" if key == "inbound" else f"ext:{value['from']}"]
            if value.get("to"):
                parties.append(f"{'tel' if key == 'outbound' else 'ext'}:{value['to']}")
    return parties


def events_from_report(body: bytes) -> list[Event]:
    pairs = json_pairs(body)
    flat: dict[str, Any] = {k: _as_dict(v) for k, v in pairs}
    action = str(flat.get("action", ""))
    kind = ACTIONS.get(action, "system")
    parties = _parties(pairs)
    call_id = flat.get("callid")
    data: dict[str, Any] = {"action": action}
    if action == "Invite":
        inbound = flat.get("inbound") or {}
        call_id = call_id or inbound.get("inboundid")
        data["trunk"] = inbound.get("trunk")
    elif action == "NewCdr":
        parties = [p for p in (f"ext:{flat['callfrom']}" if flat.get("callfrom") else None,
                               f"tel:{flat['callto']}" if flat.get("callto") else None) if p]
        data.update({k: flat[k] for k in ("timestart", "callduraction", "talkduraction", "status",
                                          "type", "recording") if k in flat})
    elif action == "DTMF":
        data["key"] = flat.get("info")
    elif action == "CallFailed":
        data["reason"] = flat.get("reason")
    elif action == "ExtensionStatus":
        data.update({k: flat[k] for k in ("extension", "status") if k in flat})
    elif action == "Tranfer":
        data["to"] = flat.get("to")
    at = parse_timestamp(flat.get("timestart")) if action == "NewCdr" else None
    return [Event(kind, PROVIDER, call_id=str(call_id) if call_id is not None else None,
                  parties=parties, at=at, data=data, raw=pairs)]


def _digest(body: bytes | str | Mapping[str, Any]) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(raw if isinstance(raw, bytes) else repr(raw).encode()).digest()


class ReportFilter(Deduplicator):
    """Drops reports the PBX re-sent (byte-identical bodies) within the last ``window``.

    ``if reports.is_new(body): events = client.parse_event(body)``. Thread-safe.
    """

    def __init__(self, window: int = 4096):
        super().__init__(window, key=_digest)

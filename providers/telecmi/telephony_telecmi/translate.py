"""Pure translation: canonical payloads to PCMO requests, webhooks to canonical events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telephony_core.events import parse_timestamp
from telephony_core.results import Event

__all__ = ["bridge_call", "event_from_webhook", "number", "play_call"]

PROVIDER = "telecmi"
LIVE_KINDS = {"ringing": "call.ringing", "answered": "call.answered", "hangup": "call.hangup"}


def number(address_or_digits: str) -> int:
    """A ``tel:`` address or caller id as the JSON number TeleCMI wants. The schemas refuse a
    leading + or 0, which a JSON number cannot carry, so nothing is lost here."""
    return int(address_or_digits.split(":", 1)[-1])


def _call(credentials: Mapping[str, Any], payload: Mapping[str, Any], to: str,
          pcmo: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"appid": credentials["appid"], "secret": credentials["secret"],
            "from": number(payload["caller_id"]), "to": number(to)}
    if "reference" in payload:
        body["extra_params"] = {"reference": payload["reference"]}
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


def _reference(extra: Any) -> str | None:
    if isinstance(extra, Mapping):
        value = extra.get("reference")
        return str(value) if value is not None else None
    return str(extra) if extra not in (None, "") else None


def event_from_webhook(body: Mapping[str, Any]) -> Event:
    """``type: cdr`` -> cdr; ``type: event`` -> call.ringing/answered/hangup (waiting and
    started -> system). ``call_id`` is the live call's ``cmiuuid`` (what hold takes); the
    ``request_id`` of the make-call reply is in ``data``."""
    parties = tuple(f"tel:{body[k]}" for k in ("from", "to") if body.get(k) not in (None, ""))
    data = {k: body[k] for k in ("request_id", "status", "duration", "billsec", "answeredsec",
                                 "record", "direction") if k in body}
    kind = "system"
    if body.get("type") == "cdr":
        kind = "cdr"
    elif body.get("type") == "event":
        kind = LIVE_KINDS.get(str(body.get("status")), "system")
    return Event(kind, PROVIDER, call_id=body.get("cmiuuid"), parties=parties,
                 at=parse_timestamp(body.get("time") or body.get("end_time")),
                 reference=_reference(body.get("extra_params")), data=data, raw=dict(body))

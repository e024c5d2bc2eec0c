"""Pure translation: canonical payloads to Infinity form fields, callbacks to canonical events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telephony_core.events import parse_timestamp
from telephony_core.results import Event

__all__ = ["dial_fields", "event_from_callback", "monitor_fields", "play_voice_fields"]

PROVIDER = "infinity"
STATUS_KINDS = {"ring": "call.ringing", "answer": "call.answered", "hangup": "call.hangup"}


def _value(address: str) -> str:
    return address.split(":", 1)[1]


def play_voice_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """App.Sip_Call.PlayVoice: one prompt, a one-key menu to an extension group."""
    [prompt] = payload["prompts"]
    [(key, group)] = payload["menu"].items()
    fields = {
        "service": "App.Sip_Call.PlayVoice",
        "voicetype": "2" if prompt.startswith(("http://", "https://")) else "1",
        "destnumber": _value(payload["to"]),
        "voicefile": prompt,
        "chengshudu": "1",
        "userid": f"{key}@{_value(group)}",
    }
    if "caller_id" in payload:
        fields["disnumber"] = payload["caller_id"]
    if "reference" in payload:
        fields["customuuid"] = payload["reference"]
    return fields


def dial_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """App.Sip_Call.MakeCall: the agent extension rings first, then the number."""
    fields = {"service": "App.Sip_Call.MakeCall", "extnumber": _value(payload["caller"]),
              "destnumber": _value(payload["callee"])}
    if "caller_id" in payload:
        fields["disnumber"] = payload["caller_id"]
    if "reference" in payload:
        fields["customuuid"] = payload["reference"]
    return fields


def monitor_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """App.Sip_Call.SpyCall: monitortype 1 listen, 2 whisper."""
    return {"service": "App.Sip_Call.SpyCall", "extnumber": _value(payload["supervisor"]),
            "destnumber": _value(payload["call"]),
            "monitortype": {"listen": "1", "whisper": "2"}[payload["mode"]]}


def _party(kind: str, value: Any) -> list[str]:
    return [f"{kind}:{value}"] if value not in (None, "") else []


def event_from_callback(body: Mapping[str, Any]) -> Event:
    """The extension-status callback (``status``) or the CDR callback (``billsec``) of seed 003."""
    reference = body.get("customuuid") or None
    if "status" in body and body["status"] in STATUS_KINDS:
        caller, callee = body.get("caller"), body.get("callee")
        outbound = body.get("direction") != "callin"
        parties = (_party("ext", caller) + _party("tel", callee) if outbound
                   else _party("tel", caller) + _party("ext", callee))
        data = {k: body[k] for k in ("direction", "extnumber", "buuid", "isbleg", "method",
                                     "disnumber") if k in body}
        return Event(STATUS_KINDS[body["status"]], PROVIDER, call_id=body.get("uuid"),
                     parties=parties, at=parse_timestamp(body.get("starttime")),
                     reference=reference, data=data, raw=dict(body))
    if "billsec" in body or "hangupcause" in body:
        parties = _party("ext", body.get("extnumber")) + _party("tel", body.get("destnumber"))
        data = {k: body[k] for k in ("userkey", "billsec", "duration", "hangupcause",
                                     "hangupdirection", "answertime", "starttime", "endtime",
                                     "type", "disnumber", "recordfilename") if k in body}
        return Event("cdr", PROVIDER, call_id=body.get("uuid"), parties=parties,
                     at=parse_timestamp(body.get("endtime")), reference=reference, data=data,
                     raw=dict(body))
    return Event("system", PROVIDER, reference=reference, data={"unrecognised": True},
                 raw=dict(body))

"""Pure translation: canonical payloads to Infinity form fields, callbacks to canonical events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telephony_core.errors import EventError
from telephony_core.events import parse_timestamp
from telephony_core.results import Event

__all__ = ["MONITOR_LISTEN", "MONITOR_TO_LISTEN", "MONITOR_TO_WHISPER", "dial_fields",
           "event_from_callback", "monitor_fields", "monitor_steps", "play_voice_fields",
           "refused"]

PROVIDER = "infinity"
STATUS_KINDS = {"ring": "call.ringing", "answer": "call.answered", "hangup": "call.hangup"}
#: App.Sip_Call.SpyCall's monitortype (INF-doc voice-cn-api/page/api-Xfr, 通话监听): 1 listen to
#: the extension, 2 switch (an ongoing) listen to whisper, 3 switch whisper back to listen
MONITOR_LISTEN, MONITOR_TO_WHISPER, MONITOR_TO_LISTEN = "1", "2", "3"


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


def monitor_fields(payload: Mapping[str, Any], monitortype: str) -> dict[str, str]:
    """App.Sip_Call.SpyCall: ``extnumber`` the supervisor, ``destnumber`` the agent."""
    return {"service": "App.Sip_Call.SpyCall", "monitortype": monitortype,
            "extnumber": _value(payload["supervisor"]), "destnumber": _value(payload["call"])}


def monitor_steps(payload: Mapping[str, Any]) -> list[dict[str, str]]:
    """The SpyCall requests a canonical monitor takes, in order.

    Infinity has no "start whispering": monitortype 2 switches a listen that is already going
    on to whisper. So ``listen`` is one request (1), ``whisper`` two: listen (1), then switch
    (2)."""
    steps = [monitor_fields(payload, MONITOR_LISTEN)]
    if payload["mode"] == "whisper":
        steps.append(monitor_fields(payload, MONITOR_TO_WHISPER))
    return steps


def refused(field: str, problem: str) -> EventError:
    """A callback body this provider cannot read: a typed error naming the field, never a raw
    KeyError/TypeError (a web handler that let one escape would answer 500)."""
    return EventError(f"{field} {problem}", provider=PROVIDER)


def _text(body: Mapping[str, Any], key: str) -> str | None:
    """A scalar field as text (the samples mix strings and numbers: ``companycode`` 9017)."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise refused(key, f"is a JSON {type(value).__name__}; expected a string or a number")
    return str(value)


def _when(value: str | None) -> Any:
    """parse_timestamp, except that a value past the platform's time_t (``1e300``) is None
    rather than the OverflowError the core's helper lets through."""
    try:
        return parse_timestamp(value)
    except (OverflowError, OSError):
        return None


def _party(kind: str, value: str | None) -> list[str]:
    return [f"{kind}:{value}"] if value else []


def event_from_callback(body: Any) -> Event:
    """The extension-status callback (``status``) or the CDR callback (``billsec``/
    ``hangupcause``) of seed 003; anything else becomes a ``system`` event."""
    if not isinstance(body, Mapping):
        raise refused("$", "expected a JSON object (an Infinity callback)")
    reference = _text(body, "customuuid")
    status = _text(body, "status")
    if status in STATUS_KINDS:
        caller, callee = _text(body, "caller"), _text(body, "callee")
        outbound = _text(body, "direction") != "callin"
        parties = (_party("ext", caller) + _party("tel", callee) if outbound
                   else _party("tel", caller) + _party("ext", callee))
        data = {k: body[k] for k in ("direction", "extnumber", "buuid", "isbleg", "method",
                                     "disnumber") if k in body}
        return Event(STATUS_KINDS[status], PROVIDER, call_id=_text(body, "uuid"),
                     parties=parties, at=_when(_text(body, "starttime")),
                     reference=reference, data=data, raw=dict(body))
    if "billsec" in body or "hangupcause" in body:
        parties = (_party("ext", _text(body, "extnumber"))
                   + _party("tel", _text(body, "destnumber")))
        data = {k: body[k] for k in ("userkey", "billsec", "duration", "hangupcause",
                                     "hangupdirection", "answertime", "starttime", "endtime",
                                     "type", "disnumber", "recordfilename") if k in body}
        return Event("cdr", PROVIDER, call_id=_text(body, "uuid"), parties=parties,
                     at=_when(_text(body, "endtime")), reference=reference, data=data,
                     raw=dict(body))
    return Event("system", PROVIDER, reference=reference, data={"unrecognised": True},
                 raw=dict(body))

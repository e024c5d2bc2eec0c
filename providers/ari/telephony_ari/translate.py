"""Pure translation between canonical addresses/events and ARI's channels and event frames.

Models and fields are the ones of the ARI Swagger specs (../shared/specs/asterisk-ari/:
``channels.json`` model ``Channel``; ``events.json`` models ``StasisStart``,
``ChannelStateChange``, ``ChannelDestroyed``, ``ChannelDtmfReceived``, ``PlaybackFinished``,
``ChannelHold``/``ChannelUnhold``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from telephony_core.errors import EventError
from telephony_core.results import Event

__all__ = ["LINKEDID", "Dialplan", "channel_party", "endpoint_of", "events_from_frame",
           "media_of", "target_of"]

PROVIDER = "ari"
#: the channel variable that names a call (the oldest channel's id); ari.conf ``channelvars``
LINKEDID = "CHANNEL(linkedid)"
#: ``appArgs`` first word of channels this library originated into the Stasis app
FLOW_TAG = "telephony"

#: Q.850 hangup causes (ChannelDestroyed.cause) that mean the call failed, not ended
FAILED = {17: "busy", 18: "no_answer", 19: "no_answer", 21: "rejected", 1: "unallocated",
          34: "congestion"}


class Dialplan:
    """Where addresses live in the PBX: ``TECH/N`` for extensions, ``TECH/N@TRUNK`` for
    outside numbers, and the dialplan contexts reaching extensions and outside numbers."""

    def __init__(self, technology: str = "PJSIP", trunk: str = "trunk",
                 context: str = "from-internal", outbound_context: str = "outbound"):
        self.technology, self.trunk = technology, trunk
        self.context, self.outbound_context = context, outbound_context

    def endpoint(self, address: str) -> str:
        kind, _, value = address.partition(":")
        if kind == "ext":
            return f"{self.technology}/{value}"
        if kind == "tel":
            return f"{self.technology}/{value}@{self.trunk}"
        if kind == "sip":
            return f"{self.technology}/sip:{value}"
        raise ValueError(f"{address} is not an endpoint ARI can originate to")

    def extension(self, address: str) -> tuple[str, str]:
        """(context, extension) reaching ``address`` in the dialplan."""
        kind, _, value = address.partition(":")
        if kind == "tel":
            return self.outbound_context, value
        return self.context, value

    def party(self, channel: Mapping[str, Any]) -> str | None:
        """The canonical address of a Channel: ``ext:N`` from ``TECH/N-xxxx``, ``tel:N`` for a
        trunk channel (its caller number)."""
        name = str(channel.get("name") or "")
        resource = name.partition("/")[2].rpartition("-")[0]
        if not resource:
            return None
        if resource == self.trunk:
            number = (channel.get("caller") or {}).get("number") or ""
            return f"tel:{number}" if number else None
        return f"ext:{resource}" if resource.isdigit() else None


endpoint_of = Dialplan().endpoint
channel_party = Dialplan().party
target_of = Dialplan().extension


def media_of(prompt: str) -> str:
    """A canonical prompt as an ARI media URI: ``recording:NAME`` stays, a name is a sound."""
    return prompt if prompt.startswith("recording:") else f"sound:{prompt}"


def call_id(channel: Mapping[str, Any]) -> str:
    """The ``call_id`` of the call a channel belongs to, as it is (no ``call:``): its linkedid
    when the server reports channel variables (ari.conf ``channelvars = CHANNEL(linkedid)``),
    else its own id."""
    variables = channel.get("channelvars")
    linked = variables.get(LINKEDID) if isinstance(variables, Mapping) else None
    return str(linked or channel["id"])


def _channel(frame: Mapping[str, Any], key: str = "channel") -> Mapping[str, Any]:
    channel = frame.get(key)
    if not isinstance(channel, Mapping) or not isinstance(channel.get("id"), str):
        raise EventError(f"the {frame.get('type')} event has no {key} object with an id")
    return channel


def events_from_frame(text: str | bytes, plan: Dialplan | None = None) -> list[Event]:
    """One ARI event frame (JSON text) to canonical events.

    Raises :class:`EventError` for a frame that is not a JSON object with a ``type``, that
    lacks what its type requires, or whose type this provider does not read (the stream skips
    it with a debug log line).
    """
    plan = plan or Dialplan()
    try:
        frame = json.loads(text)
    except ValueError:
        raise EventError("the frame is not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise EventError("the frame is not an ARI message (an object with a 'type')")
    kind = frame["type"]
    at = parse_timestamp(frame.get("timestamp"))
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise EventError(f"ARI event type {kind!r} is not one this provider reads")
    return handler(frame, plan, at)


def parse_timestamp(value: Any) -> datetime | None:
    """ARI's ``Date``: ``2026-11-29T05:00:00.123+0000`` (None when absent or unreadable)."""
    if not isinstance(value, str):
        return None
    for form in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, form)
        except ValueError:
            continue
    return None


def _event(kind: str, channel: Mapping[str, Any], plan: Dialplan, at: Any, frame: Any,
           **data: Any) -> Event:
    party = plan.party(channel)
    return Event(kind, PROVIDER, call_id=call_id(channel), parties=(party,) if party else (),
                 at=at, data={"channel": channel["id"], **data}, raw=frame)


def _stasis_start(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
    channel = _channel(frame)
    args = frame.get("args")
    if not isinstance(args, list):
        raise EventError("the StasisStart event has no args list")
    if args and args[0] == FLOW_TAG:  # our own originate, now answered and in the app
        return [_event("system", channel, plan, at, frame, ari="StasisStart",
                       args=[str(a) for a in args])]
    dialplan = channel.get("dialplan") if isinstance(channel.get("dialplan"), Mapping) else {}
    return [_event("call.offered", channel, plan, at, frame, to=str(dialplan.get("exten", "")),
                   args=[str(a) for a in args])]


def _state_change(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
    channel = _channel(frame)
    state = channel.get("state")
    kinds = {"Ringing": "call.ringing", "Ring": "call.ringing", "Up": "call.answered"}
    if state not in kinds:
        return [_event("system", channel, plan, at, frame, ari="ChannelStateChange",
                       state=str(state))]
    return [_event(kinds[state], channel, plan, at, frame, party=plan.party(channel))]


def _destroyed(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
    channel = _channel(frame)
    cause = frame.get("cause")
    if not isinstance(cause, int):
        raise EventError("the ChannelDestroyed event has no integer cause")
    out = []
    if cause in FAILED and channel.get("state") != "Up":
        out.append(_event("call.failed", channel, plan, at, frame, reason=FAILED[cause],
                          cause=cause))
    out.append(_event("call.hangup", channel, plan, at, frame, cause=cause,
                      cause_txt=str(frame.get("cause_txt", ""))))
    return out


def _dtmf(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
    channel = _channel(frame)
    digit = frame.get("digit")
    if not isinstance(digit, str) or len(digit) != 1:
        raise EventError("the ChannelDtmfReceived event has no one-character digit")
    return [_event("call.dtmf", channel, plan, at, frame, key=digit)]


def _playback(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
    playback = frame.get("playback")
    if not isinstance(playback, Mapping) or not isinstance(playback.get("target_uri"), str):
        raise EventError("the PlaybackFinished event has no playback with a target_uri")
    target = playback["target_uri"]
    if not target.startswith("channel:"):
        raise EventError("only playbacks on channels are read (target_uri channel:ID)")
    channel_id = target.removeprefix("channel:")
    return [Event("prompt.finished", PROVIDER, call_id=channel_id, at=at,
                  data={"channel": channel_id, "playback": str(playback.get("id", "")),
                        "state": str(playback.get("state", "")),
                        "media": str(playback.get("media_uri", ""))}, raw=frame)]


def _hold(status: str):
    def handle(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
        channel = _channel(frame)
        party = plan.party(channel)
        return [_event("extension.status", channel, plan, at, frame, extension=party,
                       status=status)]
    return handle


def _stasis_end(frame: dict[str, Any], plan: Dialplan, at: Any) -> list[Event]:
    return [_event("system", _channel(frame), plan, at, frame, ari="StasisEnd")]


_HANDLERS = {
    "StasisStart": _stasis_start,
    "StasisEnd": _stasis_end,
    "ChannelStateChange": _state_change,
    "ChannelDestroyed": _destroyed,
    "ChannelDtmfReceived": _dtmf,
    "PlaybackFinished": _playback,
    "ChannelHold": _hold("held"),
    "ChannelUnhold": _hold("talking"),
}


def group_calls(channels: Sequence[Mapping[str, Any]], plan: Dialplan,
                inbound_context: str | None = None) -> list[dict[str, Any]]:
    """Channels (GET /channels) grouped into calls by linkedid, oldest channel first."""
    calls: dict[str, list[Mapping[str, Any]]] = {}
    for channel in channels:
        calls.setdefault(call_id(channel), []).append(channel)
    out = []
    for cid, members in calls.items():
        members.sort(key=lambda c: (c["id"] != cid,
                                    str(c.get("creationtime", ""))))
        states = {c.get("state") for c in members}
        state = "talking" if states == {"Up"} and len(members) > 1 else (
            "ringing" if states & {"Ring", "Ringing", "Down", "Dialing", "Pre-ring"}
            else "talking" if "Up" in states else "unknown")
        first = members[0]
        dialplan = first.get("dialplan") if isinstance(first.get("dialplan"), Mapping) else {}
        inbound = inbound_context is not None and dialplan.get("context") == inbound_context
        parties = [plan.party(c) for c in members]
        out.append({"call_id": cid, "direction": "inbound" if inbound else "outbound",
                    "caller": parties[0], "callee": parties[1] if len(parties) > 1 else None,
                    "state": state, "channels": [c["id"] for c in members]})
    return out

"""The ``sim`` provider: every catalogue operation on the in-process PBX model.

Its webhook format is the canonical event itself as JSON (:func:`event_to_json`), so
``parse_event`` round-trips what :meth:`Pbx.subscribe` emits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..catalogue import Operation
from ..config import ProviderConfig
from ..events import parse_body, parse_timestamp
from ..provider import Provider, ProviderSpec
from ..results import Ack, CallInfo, CallRef, Event, MusicOnHold, MusicSource, SmsReceipt
from .model import Call, MohSettings, Pbx

__all__ = ["SimProvider", "event_to_json"]


def event_to_json(event: Event) -> bytes:
    """The sim's webhook body for ``event``."""
    return json.dumps({
        "kind": event.kind, "call_id": event.call_id, "parties": list(event.parties),
        "at": event.at.timestamp() if event.at else None, "reference": event.reference,
        "data": dict(event.data)}, default=str).encode()


def _moh(settings: MohSettings) -> MusicOnHold:
    def source(s) -> MusicSource:
        return MusicSource(s.selection, s.file, s.media_type)

    return MusicOnHold(settings.active, source(settings.source), source(settings.internal_source),
                       settings.use_internal_source, raw=settings)


def _info(call: Call) -> CallInfo:
    parties = call.parties
    trunk = next((leg.trunk for leg in call.legs if leg.trunk), None)
    return CallInfo(call.id, call.direction, parties[0] if parties else None,
                    parties[1] if len(parties) > 1 else call.pending, call.state, trunk, raw=call)


class SimProvider(Provider):
    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        super().__init__(spec, config)
        self.pbx: Pbx = Pbx.from_file(config["setup"]) if config.get("setup") else Pbx.default()

    def invoke(self, op: Operation, payload: dict[str, Any]) -> Any:
        return getattr(self, f"_{op.name}")(dict(payload))

    def _dial(self, p: dict[str, Any]) -> CallRef:
        return CallRef(self.name, self.pbx.dial(p.pop("caller"), p.pop("callee"), **p).id)

    def _transfer(self, p: dict[str, Any]) -> CallRef:
        return CallRef(self.name, self.pbx.transfer(p.pop("call"), p.pop("to"), **p).id)

    def _play_prompt(self, p: dict[str, Any]) -> CallRef:
        return CallRef(self.name, self.pbx.play_prompt(p.pop("to"), p.pop("prompts"), **p).id)

    def _ack(self, action: str, p: dict[str, Any]) -> Ack:
        call = getattr(self.pbx, action)(p.pop("call"), **p)
        return Ack(self.name, raw={"call_id": call.id})

    def _hold(self, p):
        return self._ack("hold", p)

    def _unhold(self, p):
        return self._ack("unhold", p)

    def _mute(self, p):
        return self._ack("mute", p)

    def _unmute(self, p):
        return self._ack("unmute", p)

    def _hangup(self, p):
        return self._ack("hangup", p)

    def _accept_call(self, p):
        return self._ack("accept_call", p)

    def _reject_call(self, p):
        return self._ack("reject_call", p)

    def _monitor(self, p: dict[str, Any]) -> Ack:
        call = self.pbx.monitor(p["supervisor"], p["call"], p["mode"])
        return Ack(self.name, raw={"call_id": call.id})

    def _get_music_on_hold(self, p: dict[str, Any]) -> MusicOnHold:
        return _moh(self.pbx.get_music_on_hold(p["scope"]))

    def _set_music_on_hold(self, p: dict[str, Any]) -> MusicOnHold:
        return _moh(self.pbx.set_music_on_hold(p.pop("scope"), **p))

    def _send_sms(self, p: dict[str, Any]) -> SmsReceipt:
        record = self.pbx.send_sms(p["to"], p["text"], p.get("sender"))
        return SmsReceipt(self.name, record.message_id, record.status, raw=record)

    def _list_calls(self, p: dict[str, Any]) -> list[CallInfo]:
        return [_info(call) for call in self.pbx.list_calls(p.get("direction"), p.get("ids"))]

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        data = parse_body(body, headers)
        return [Event(data["kind"], self.name, call_id=data.get("call_id"),
                      parties=data.get("parties", ()), at=parse_timestamp(data.get("at")),
                      reference=data.get("reference"), data=data.get("data", {}), raw=data)]

"""The ``sim`` provider: every catalogue operation on the in-process PBX model.

Its webhook format is the canonical event itself as JSON (:func:`event_to_json`), so
``parse_event`` round-trips what :meth:`Pbx.subscribe` emits. The model's events reach the
application the ways a real system's do: POSTed to ``webhook_url`` when it is configured
(:mod:`.delivery`), and through ``client.events()`` (:mod:`.stream`), each carrying the call id
the operation returned.

Time: the model's clock moves only when the application advances it
(``client.provider.pbx.clock.advance``), but it *starts* at the wall time of ``connect`` (whole
seconds), so events' ``at`` and ``CallRef.accepted_at`` are comparable, as with a real system.
The model's own default start (May 2017, :data:`telephony_core.sim.clock.EPOCH`) stays for
emulators and the equivalence suite, where fixed ids make runs repeatable.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..catalogue import Operation
from ..config import ProviderConfig
from ..errors import EventError
from ..events import parse_body, parse_timestamp
from ..provider import Provider, ProviderSpec
from ..results import (
    EVENT_KINDS,
    Ack,
    CallInfo,
    CallRef,
    Event,
    MusicOnHold,
    MusicSource,
    SmsReceipt,
)
from .clock import Clock
from .model import Call, MohSettings, Pbx
from .setup import load_setup
from .stream import AsyncSimEvents, SimEventStream

#: operations that are the model's method of the same name, answered with an Ack
_ACK_ACTIONS = frozenset({"hold", "unhold", "mute", "unmute", "hangup", "accept_call",
                          "reject_call"})

if TYPE_CHECKING:
    from .delivery import EventPoster

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
    #: seconds ``close`` waits for queued webhook events to be delivered
    FLUSH_SECONDS = 2.0

    def __init__(self, spec: ProviderSpec, config: ProviderConfig):
        super().__init__(spec, config)
        setup = load_setup(config["setup"]) if config.get("setup") else load_setup()
        self.pbx: Pbx = Pbx(setup, Clock(start=int(time.time())))
        self._handlers: dict[str, Any] = {}
        self.stream: SimEventStream = SimEventStream()
        self.pbx.subscribe(self.stream.put)
        self.poster: EventPoster | None = None
        if config.get("webhook_url"):
            from .delivery import EventPoster  # requests, only when events are posted

            self.poster = EventPoster(str(config["webhook_url"]), event_to_json,
                                      provider=self.name)
            self.pbx.subscribe(self.poster)

    # -- events ------------------------------------------------------------------------------

    def event_stream(self) -> SimEventStream:
        """What ``Client.events()`` reads: the model's events since ``connect``."""
        return self.stream

    def async_event_stream(self) -> AsyncSimEvents:
        """What ``AsyncClient.events()`` reads: the same events, awaited without blocking."""
        return self.stream.async_view()

    async def aclose_stream(self) -> None:
        """Called by ``AsyncClient.aclose`` before :meth:`close`: flushes the webhook queue in
        a thread, so the event loop is not blocked while the last events are delivered."""
        import asyncio

        await asyncio.to_thread(self._stop_delivery)

    def _stop_delivery(self) -> None:
        if self.poster is not None:
            self.poster.close(self.FLUSH_SECONDS)

    def close(self) -> None:
        """End ``events()`` readers and deliver the webhook events still queued (for at most
        :attr:`FLUSH_SECONDS`)."""
        self.stream.close()
        self._stop_delivery()

    def invoke(self, op: Operation, payload: dict[str, Any]) -> Any:
        handler = self._handlers.get(op.name)
        if handler is None:  # first use of this operation: look its handler up once
            handler = self._handlers[op.name] = (
                functools.partial(self._ack, op.name) if op.name in _ACK_ACTIONS
                else getattr(self, f"_{op.name}"))
        return handler(dict(payload))  # a copy: handlers take their arguments out of it

    def _dial(self, p: dict[str, Any]) -> CallRef:
        return CallRef(self.name, self.pbx.dial(p.pop("caller"), p.pop("callee"), **p).id)

    def _transfer(self, p: dict[str, Any]) -> CallRef:
        return CallRef(self.name, self.pbx.transfer(p.pop("call"), p.pop("to"), **p).id)

    def _play_prompt(self, p: dict[str, Any]) -> CallRef:
        return CallRef(self.name, self.pbx.play_prompt(p.pop("to"), p.pop("prompts"), **p).id)

    def _ack(self, action: str, p: dict[str, Any]) -> Ack:
        """The operations of :data:`_ACK_ACTIONS`: the model's method of the same name."""
        call = getattr(self.pbx, action)(p.pop("call"), **p)
        return Ack(self.name, raw={"call_id": call.id})

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
        """One event from the sim's webhook body (:func:`event_to_json`)."""
        data = parse_body(body, headers)
        kind, parties, extra = data.get("kind"), data.get("parties", []), data.get("data", {})
        if kind not in EVENT_KINDS:
            raise EventError(f"field 'kind' is {'missing' if kind is None else 'unknown'}; "
                             f"expected one of {', '.join(EVENT_KINDS)}", provider=self.name)
        if not isinstance(parties, list) or not all(isinstance(p, str) for p in parties):
            raise EventError("field 'parties' must be a list of addresses", provider=self.name)
        if not isinstance(extra, dict):
            raise EventError("field 'data' must be an object", provider=self.name)
        for key in ("call_id", "reference"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise EventError(f"field {key!r} must be a string", provider=self.name)
        return [Event(kind, self.name, call_id=data.get("call_id"), parties=parties,
                      at=parse_timestamp(data.get("at")), reference=data.get("reference"),
                      data=extra, raw=data)]

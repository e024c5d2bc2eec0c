"""The ARI emulator: the channels resource and the event WebSocket over the shared call model.

Demo credentials: ARI user ``asterisk``, password ``ari-demo``; every emulator gets its own
Stasis application name (``telephony-N``), which is how the event WebSocket, served apart from
the REST port by one process-wide :class:`~.event_server.Hub`, finds it.

Wire shapes come from the ARI Swagger specs (../shared/specs/asterisk-ari/): channels.json
(operations, the ``Channel`` model), events.json (``eventWebsocket`` and the event models),
playbacks.json (``Playback``). Error bodies are ``{"message": ...}`` as Asterisk's are.

Mapping onto the model (``telephony_core.sim``), which this module does not change:

* ``originateWithId`` with ``extension``/``context`` -> ``pbx.dial(caller, callee)``;
  with ``app`` -> ``pbx.play_prompt(to, [])`` (ring, then stay up: the application drives it);
  the channel enters Stasis (``StasisStart``) once answered. A refusal the model makes at
  placing time is answered 400; ringing, busy and no-answer arrive later as events
  (``ChannelStateChange``, ``ChannelDestroyed`` with Q.850 cause 17/19/21), as on Asterisk;
* hold, mute, hangup, continue, redirect act on the model call of the channel;
* an inbound call (``pbx.incoming``) enters the app (``StasisStart``); ``continue`` accepts it,
  ``DELETE`` rejects it;
* ``playWithId`` plays for 5 s of model time per media URI, then ``PlaybackFinished``
  (``failed`` when a ``sound:`` is not one of the set-up's prompts).

Deviation, documented: real Asterisk refuses channel operations on channels outside a Stasis
application (409); this emulator allows them unless created with ``stasis_only=True``.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from typing import Any

import attrs

from telephony_core.emulation import EmulatorApp, Request, Response, route
from telephony_core.errors import ProviderError
from telephony_core.redaction import get_logger
from telephony_core.results import Event
from telephony_core.sim import Pbx

from .event_server import Hub

__all__ = ["AriEmulator", "create"]

log = get_logger("telephony_ari.emulator")

HANGUP_REASONS = ("normal", "busy", "congestion", "no_answer", "timeout", "rejected",
                  "unallocated", "normal_unspecified", "number_incomplete", "codec_mismatch",
                  "interworking", "failure", "answered_elsewhere")
DIRECTIONS = ("both", "in", "out")
#: the model's end reasons -> Q.850 cause and cause_txt (ChannelDestroyed)
CAUSES = {"busy": (17, "User busy"), "dnd": (17, "User busy"),
          "no_answer": (19, "No user responding"), "rejected": (21, "Call Rejected")}
NORMAL = (16, "Normal Clearing")
PROMPT_SECONDS = 5.0
_APPS = itertools.count(1)


@attrs.define
class Channel:
    id: str
    name: str
    party: str
    call: str  # the model call id
    linkedid: str
    caller_number: str
    context: str
    exten: str
    created: str
    state: str = "Down"
    stasis: bool = False
    args: list[str] = attrs.Factory(list)
    started: bool = False
    offered: bool = False
    held: bool = False
    moh: str | None = None  # the music-on-hold class playing (startMoh), None when off
    #: call (a party's channel) | snoop | created (channels/create, not dialled) | monitor
    kind: str = "call"
    snoop: tuple[str, str, str] | None = None  # (target channel, spy, whisper)

    def model(self) -> dict[str, Any]:
        """The Channel model of channels.json (every required property)."""
        number = self.caller_number
        return {"id": self.id, "protocol_id": "", "name": self.name, "state": self.state,
                "caller": {"name": "", "number": number},
                "connected": {"name": "", "number": ""}, "accountcode": "",
                "dialplan": {"context": self.context, "exten": self.exten, "priority": 1,
                             "app_name": "Stasis" if self.stasis else "",
                             "app_data": ",".join(self.args)},
                "creationtime": self.created, "language": "en",
                "channelvars": {"CHANNEL(linkedid)": self.linkedid}}


class AriEmulator(EmulatorApp):
    """ARI's channels resource and event WebSocket over the shared call model.

    Demo credentials: ARI user ``asterisk``, password ``ari-demo`` (``password=`` replaces it).
    The Stasis application is ``telephony-N`` (``app=``); the event WebSocket is served by a
    process-wide server on another port, given in :meth:`connect_url` as ``events_port``.
    ``stasis_only=True`` refuses channel operations outside the app with 409, as Asterisk does.
    """

    def __init__(self, pbx: Pbx | None = None, *, username: str = "asterisk",
                 password: str = "ari-demo", app: str | None = None,
                 technology: str = "PJSIP", trunk: str = "trunk",
                 context: str = "from-internal", outbound_context: str = "outbound",
                 inbound_context: str = "from-trunk", stasis_only: bool = False):
        super().__init__(pbx if pbx is not None else Pbx.default())
        self.username, self.password = username, password
        self.app = app or f"telephony-{next(_APPS)}"
        self.technology, self.trunk = technology, trunk
        self.context, self.outbound_context = context, outbound_context
        self.inbound_context, self.stasis_only = inbound_context, stasis_only
        self.channels: dict[str, Channel] = {}
        self.playbacks: dict[str, dict[str, Any]] = {}
        self.bridges: dict[str, dict[str, Any]] = {}
        self.sockets: list[Any] = []
        #: every frame sent, per connection number (for tests: nothing lost or repeated)
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.connection_count = 0
        self._ids = itertools.count(1)
        self._placing: tuple[str, bool, list[str]] | None = None
        self._hub = Hub.get()
        self._hub.register(self)
        self.pbx.subscribe(self._on_event)

    # -- where ---------------------------------------------------------------------------

    def connect_url(self, base_url: str) -> str:
        host = base_url.split("://", 1)[1]
        return (f"ari://{self.username}:{self.password}@{host}?scheme=http&app={self.app}"
                f"&events_port={self._hub.port}")

    def authorized(self, header: str | None) -> bool:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return secrets.compare_digest(header or "", f"Basic {token}")

    def _guard(self, request: Request) -> Response | None:
        if not self.authorized(request.headers.get("Authorization")):
            return self.json_response({"message": "Authentication required"}, 401)
        return None

    # -- events --------------------------------------------------------------------------

    def attach(self, sock: Any, subscribe_all: bool) -> int:
        """A WebSocket is being upgraded: from now on its frames are kept until
        :meth:`activate` (the handshake's reply has left by then), so nothing sent between
        the client seeing the upgrade and this server's handler starting is lost."""
        with self.lock:
            self.connection_count += 1
            self.sockets.append([sock, subscribe_all, self.connection_count, []])
            return self.connection_count

    def activate(self, sock: Any) -> None:
        with self.lock:
            for entry in self.sockets:
                if entry[0] is sock and entry[3] is not None:
                    for text in entry[3]:
                        self._write(sock, text)
                    entry[3] = None

    def detach(self, sock: Any) -> None:
        with self.lock:
            self.sockets = [s for s in self.sockets if s[0] is not sock]

    def drop_streams(self) -> int:
        """Close every event WebSocket (as a restart of Asterisk's HTTP server would)."""
        with self.lock:
            dropped, self.sockets = list(self.sockets), []
        for entry in dropped:
            try:
                entry[0].close()
            except Exception:  # already closed
                log.debug("closing a dropped stream failed")
        return len(dropped)

    @staticmethod
    def _write(sock: Any, text: str) -> None:
        try:
            sock.send(text)
        except Exception:  # a closing socket: the client will reconnect
            log.debug("an event could not be sent on a closing stream")

    def _now(self) -> str:
        stamp = self.pbx.clock.datetime()
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"

    def _send(self, kind: str, channel: Channel | None = None, **fields: Any) -> None:
        frame = {"type": kind, "application": self.app, "timestamp": self._now(),
                 "asterisk_id": "00:00:00:00:00:01", **fields}
        if channel is not None:
            frame["channel"] = channel.model()
        text = json.dumps(frame)
        with self.lock:
            for sock, every, number, pending in self.sockets:
                if not (every or channel is None or channel.stasis):
                    continue
                self.sent.append((number, frame))
                if pending is not None:
                    pending.append(text)
                else:
                    self._write(sock, text)

    def _channels_of(self, call_id: str | None) -> list[Channel]:
        return [c for c in self.channels.values() if c.call == call_id]

    def _channel_for(self, call_id: str, party: str) -> Channel | None:
        return next((c for c in self._channels_of(call_id) if c.party == party), None)

    def _name(self, party: str) -> str:
        kind, _, value = party.partition(":")
        resource = value if kind == "ext" else self.trunk
        return f"{self.technology}/{resource}-{next(self._ids):08x}"

    def _new_channel(self, call_id: str, party: str, *, channel_id: str | None = None,
                     stasis: bool = False, args: list[str] | None = None,
                     context: str | None = None, exten: str = "s") -> Channel:
        siblings = self._channels_of(call_id)
        cid = channel_id or f"{int(self.pbx.clock.now())}.{next(self._ids)}"
        number = party.partition(":")[2] if party.startswith(("ext:", "tel:")) else ""
        channel = Channel(cid, self._name(party), party, call_id,
                          siblings[0].linkedid if siblings else cid, number,
                          context or self.context, exten, self._now(), stasis=stasis,
                          args=list(args or []))
        self.channels[cid] = channel
        return channel

    def _on_event(self, event: Event) -> None:
        call_id = event.call_id or ""
        party = str(event.data.get("party", ""))
        if event.kind == "call.ringing" and party.startswith(("ext:", "tel:")):
            channel = self._channel_for(call_id, party)
            if channel is None:
                placing = self._placing if not self._channels_of(call_id) else None
                channel = self._new_channel(call_id, party,
                                            channel_id=placing[0] if placing else None,
                                            stasis=bool(placing and placing[1]),
                                            args=placing[2] if placing else None)
            channel.state = "Ringing"
            self._send("ChannelStateChange", channel)
        elif event.kind == "call.answered":
            channel = self._channel_for(call_id, party)
            if channel is not None:
                channel.state = "Up"
                self._send("ChannelStateChange", channel)
                if channel.stasis and not channel.started:
                    channel.started = True
                    self._send("StasisStart", channel, args=channel.args)
        elif event.kind == "call.offered" and event.parties:
            channel = self._new_channel(call_id, event.parties[0], stasis=True,
                                        context=self.inbound_context,
                                        exten=str(event.data.get("to", "s")))
            channel.state, channel.offered, channel.started = "Ring", True, True
            self._send("StasisStart", channel, args=[])
        elif event.kind == "call.dtmf":
            channel = self._channel_for(call_id, party)
            if channel is not None:
                self._send("ChannelDtmfReceived", channel, digit=str(event.data["key"]),
                           duration_ms=100)
        elif event.kind == "extension.status":
            channel = self._channel_for(call_id, str(event.data.get("extension", "")))
            status = event.data.get("status")
            if channel is not None and status == "idle" and channel.kind == "monitor":
                for other in self._bridged_with(channel.id):
                    self._destroy(other, NORMAL)
                self._destroy(channel, NORMAL)
            elif channel is not None and status == "held":
                channel.held = True
                self._send("ChannelHold", channel)
            elif channel is not None and status == "talking" and channel.held:
                channel.held = False
                self._send("ChannelUnhold", channel)
        elif event.kind == "call.transferred":
            call = self.pbx.calls.get(call_id)
            present = {leg.party for leg in call.legs} if call else set()
            for channel in self._channels_of(call_id):
                if channel.party not in present:
                    self._destroy(channel, NORMAL)
        elif event.kind == "call.hangup":
            cause = CAUSES.get(str(event.data.get("reason")), NORMAL)
            for channel in self._channels_of(call_id):
                self._destroy(channel, cause)

    def _bridged_with(self, channel_id: str) -> list[Channel]:
        """The other channels of the bridges ``channel_id`` is in."""
        ids = {c for b in self.bridges.values() if channel_id in b["channels"]
               for c in b["channels"] if c != channel_id}
        return [self.channels[c] for c in ids if c in self.channels]

    def _destroy(self, channel: Channel, cause: tuple[int, str]) -> None:
        if self.channels.pop(channel.id, None) is None:
            return
        for bridge in self.bridges.values():
            if channel.id in bridge["channels"]:
                bridge["channels"].remove(channel.id)
        if channel.stasis and channel.started:
            self._send("StasisEnd", channel)
        self._send("ChannelDestroyed", channel, cause=cause[0], cause_txt=cause[1])

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _error(message: str, status: int) -> Response:
        return EmulatorApp.json_response({"message": message}, status)

    def _party(self, endpoint: str) -> str | None:
        tech, _, rest = endpoint.partition("/")
        if tech != self.technology or not rest:
            return None
        if rest.startswith("sip:"):
            return rest
        number, _, trunk = rest.partition("@")
        if trunk:
            return f"tel:{number}" if trunk == self.trunk and number else None
        return f"ext:{number}" if number.isdigit() else None

    def _destination(self, context: str, extension: str) -> str:
        """The outbound context reaches outside numbers; any other reaches extensions."""
        return f"tel:{extension}" if context == self.outbound_context else f"ext:{extension}"

    def _sync(self, channel: Channel) -> Channel:
        """An inbound channel stops being offered when the model routed its call on (the
        model's offer window passed): it is then Up in the dialplan."""
        call = self.pbx.calls.get(channel.call)
        if channel.offered and not (call is not None and call.offered):
            channel.offered, channel.state = False, "Up"
        return channel

    def _live(self, channel_id: str) -> Channel | Response:
        channel = self.channels.get(channel_id)
        if channel is None:
            return self._error("Channel not found", 404)
        if self.stasis_only and not channel.stasis:
            return self._error("Channel not in a Stasis application", 409)
        return self._sync(channel)

    def _model(self, action: Any, *args: Any, **kwargs: Any) -> Response | None:
        try:
            action(*args, **kwargs)
        except ProviderError as exc:
            if exc.code == "call_not_found":
                return self._error("Channel not found", 404)
            if exc.code == "unsupported_destination":
                return self._error(f"Endpoint is not the same type as the channel: "
                                   f"{exc.message}", 422)
            return self._error(f"Channel in invalid state: {exc.message}", 412)
        return None

    # -- channels.json -------------------------------------------------------------------

    @route("GET", "/ari/channels")
    def list_channels(self, request: Request):
        """list GET /channels"""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            return [self._sync(c).model() for c in list(self.channels.values())]

    @route("POST", "/ari/channels")
    def originate(self, request: Request):
        """originate POST /channels (the server chooses the id unless channelId is given)"""
        channel_id = request.args.get("channelId") or f"{int(self.pbx.clock.now())}." \
                                                       f"{next(self._ids)}"
        return self.originate_with_id(request, channel_id)

    @route("POST", "/ari/channels/{channel_id}")
    def originate_with_id(self, request: Request, channel_id: str):
        """originateWithId POST /channels/{channelId}: 400 invalid parameters, 409 the id
        exists."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        args = request.args
        party = self._party(args.get("endpoint", ""))
        if party is None or party.startswith("sip:"):
            return self._error("Invalid parameters for originating a channel: endpoint", 400)
        app = args.get("app")
        if app and any(k in args for k in ("extension", "context", "priority", "label")):
            return self._error("Invalid parameters for originating a channel: 'app' is "
                               "mutually exclusive with the dialplan location", 400)
        if app and app != self.app:
            return self._error(f"Invalid parameters for originating a channel: application "
                               f"{app} is not registered", 400)
        if not app and not args.get("extension"):
            return self._error("Invalid parameters for originating a channel: no extension "
                               "and no app", 400)
        caller_id = args.get("callerId")
        with self.pbx.lock:
            if channel_id in self.channels:
                return self._error("Channel with given unique ID already exists.", 409)
            app_args = [a for a in args.get("appArgs", "").split(",") if a] if app else []
            self._placing = (channel_id, bool(app), app_args)
            try:
                if app:
                    self.pbx.play_prompt(party, [], caller_id=caller_id)
                else:
                    destination = self._destination(args.get("context", "default"),
                                                    args["extension"])
                    self.pbx.dial(party, destination, caller_id=caller_id)
            except ProviderError as exc:
                return self._error(f"Invalid parameters for originating a channel: "
                                   f"{exc.message}", 400)
            finally:
                self._placing = None
            channel = self.channels.get(channel_id)
            if channel is None:  # the model ended it at once
                return self._error("Invalid parameters for originating a channel", 400)
            return channel.model()

    @route("GET", "/ari/channels/{channel_id}")
    def get_channel(self, request: Request, channel_id: str):
        """get GET /channels/{channelId}: 404 when it does not exist (any more)."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            channel = self.channels.get(channel_id)
            return self._sync(channel).model() if channel else self._error(
                "Channel not found", 404)

    @route("DELETE", "/ari/channels/{channel_id}")
    def hangup(self, request: Request, channel_id: str):
        """hangup DELETE /channels/{channelId}?reason=: an offered inbound channel is
        rejected; any other ends its call."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        reason = request.args.get("reason")
        if reason is not None and reason not in HANGUP_REASONS:
            return self._error("Invalid reason for hangup provided", 400)
        with self.pbx.lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                return self._error("Channel not found", 404)
            if channel.kind in ("snoop", "created"):
                self._destroy(channel, NORMAL)
                return Response(status=204)
            if channel.kind == "monitor":  # the supervisor leaves; the call goes on
                failed = self._model(self.pbx.far_hangup, channel.party)
                return failed or Response(status=204)
            action = self.pbx.reject_call if self._sync(channel).offered else self.pbx.hangup
            failed = self._model(action, f"call:{channel.call}")
        return failed or Response(status=204)

    def _channel_op(self, request: Request, channel_id: str, action: str,
                    need_up: bool = False) -> Response:
        refusal = self._guard(request)
        if refusal:
            return refusal
        direction = request.args.get("direction")
        if direction is not None and direction not in DIRECTIONS:
            return self._error("Invalid direction", 400)
        with self.pbx.lock:
            channel = self._live(channel_id)
            if isinstance(channel, Response):
                return channel
            if need_up and channel.state != "Up":
                return self._error("Channel in invalid state", 412)
            failed = self._model(getattr(self.pbx, action), f"call:{channel.call}")
        return failed or Response(status=204)

    @route("POST", "/ari/channels/{channel_id}/hold")
    def hold(self, request: Request, channel_id: str):
        """hold POST /channels/{channelId}/hold"""
        return self._channel_op(request, channel_id, "hold")

    @route("DELETE", "/ari/channels/{channel_id}/hold")
    def unhold(self, request: Request, channel_id: str):
        """unhold DELETE /channels/{channelId}/hold"""
        return self._channel_op(request, channel_id, "unhold")

    @route("POST", "/ari/channels/{channel_id}/mute")
    def mute(self, request: Request, channel_id: str):
        """mute POST /channels/{channelId}/mute?direction=both|in|out"""
        return self._channel_op(request, channel_id, "mute")

    @route("DELETE", "/ari/channels/{channel_id}/mute")
    def unmute(self, request: Request, channel_id: str):
        """unmute DELETE /channels/{channelId}/mute?direction=both|in|out"""
        return self._channel_op(request, channel_id, "unmute")

    @route("POST", "/ari/channels/{channel_id}/snoop/{snoop_id}")
    def snoop(self, request: Request, channel_id: str, snoop_id: str):
        """snoopChannelWithId POST /channels/{channelId}/snoop/{snoopId}?spy=&whisper=&app=
        (400 invalid parameters, 404 no such channel): a Snoop channel in the app."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        spy, whisper = request.args.get("spy", "none"), request.args.get("whisper", "none")
        directions = ("none", "both", "out", "in")
        if (spy not in directions or whisper not in directions
                or request.args.get("app") != self.app):
            return self._error("Invalid parameters", 400)
        with self.pbx.lock:
            target = self.channels.get(channel_id)
            if target is None:
                return self._error("Channel not found", 404)
            if snoop_id in self.channels:
                return self._error("Invalid parameters: the snoop id exists", 400)
            channel = self._new_channel(target.call, "", channel_id=snoop_id, stasis=True,
                                        args=request.args.get("appArgs", "").split(","))
            channel.name = f"Snoop/{target.id}-{next(self._ids):08x}"
            channel.kind, channel.snoop, channel.state = "snoop", (target.id, spy, whisper), "Up"
            channel.started = True
            self._send("StasisStart", channel, args=channel.args)
            return channel.model()

    @route("POST", "/ari/channels/create")
    def create_channel(self, request: Request):
        """create POST /channels/create?endpoint=&app= (409 the id exists): a channel in the
        app, not dialled yet."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        party = self._party(request.args.get("endpoint", ""))
        if party is None or not party.startswith("ext:") or request.args.get("app") != self.app:
            return self._error("Invalid parameters: endpoint or app", 400)
        with self.pbx.lock:
            channel_id = request.args.get("channelId") or f"{int(self.pbx.clock.now())}." \
                                                          f"{next(self._ids)}"
            if channel_id in self.channels:
                return self._error("Channel with given unique ID already exists.", 409)
            channel = self._new_channel("", party, channel_id=channel_id, stasis=True,
                                        args=request.args.get("appArgs", "").split(","))
            channel.kind = "created"
            return channel.model()

    @route("POST", "/ari/channels/{channel_id}/dial")
    def dial_channel(self, request: Request, channel_id: str):
        """dial POST /channels/{channelId}/dial (404, 409 cannot be dialled). A created
        channel bridged with a snoop joins the snooped call as its monitor (pbx.monitor;
        whisper none: listen, both: barge, else whisper); the model's refusal is a 409."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                return self._error("Channel cannot be found.", 404)
            snoops = [c for c in self._bridged_with(channel_id) if c.kind == "snoop"]
            if channel.kind != "created" or not snoops or snoops[0].snoop[0] not in \
                    self.channels:
                return self._error("Channel cannot be dialed.", 409)
            target = self.channels[snoops[0].snoop[0]]
            whisper = snoops[0].snoop[2]
            mode = {"none": "listen", "both": "barge"}.get(whisper, "whisper")
            try:
                self.pbx.monitor(channel.party, f"call:{target.call}", mode)
            except ProviderError as exc:
                return self._error(f"Channel cannot be dialed: {exc.message}", 409)
            channel.kind, channel.call, channel.state = "monitor", target.call, "Up"
            channel.linkedid = target.linkedid
            self._send("ChannelStateChange", channel)
            channel.started = True
            self._send("StasisStart", channel, args=channel.args)
        return Response(status=204)

    # -- bridges.json --------------------------------------------------------------------

    @route("POST", "/ari/bridges/{bridge_id}")
    def create_bridge(self, request: Request, bridge_id: str):
        """createWithId POST /bridges/{bridgeId}?type= (409 the id exists): a Bridge."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            if bridge_id in self.bridges:
                return self._error("Bridge with the same bridgeId already exists", 409)
            bridge = {"id": bridge_id, "technology": "simple_bridge",
                      "bridge_type": request.args.get("type", "mixing"),
                      "bridge_class": "stasis", "creator": "Stasis",
                      "name": request.args.get("name", ""), "channels": [],
                      "creationtime": self._now()}
            self.bridges[bridge_id] = bridge
            return {**bridge, "channels": list(bridge["channels"])}

    @route("DELETE", "/ari/bridges/{bridge_id}")
    def destroy_bridge(self, request: Request, bridge_id: str):
        """destroy DELETE /bridges/{bridgeId} (404)"""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            if self.bridges.pop(bridge_id, None) is None:
                return self._error("Bridge not found", 404)
        return Response(status=204)

    @route("POST", "/ari/bridges/{bridge_id}/addChannel")
    def add_channel(self, request: Request, bridge_id: str):
        """addChannel POST /bridges/{bridgeId}/addChannel?channel=a,b (400 a channel does not
        exist, 404 no bridge, 422 a channel is not in Stasis)"""
        refusal = self._guard(request)
        if refusal:
            return refusal
        wanted = [c for value in request.args.getlist("channel") for c in value.split(",") if c]
        if not wanted:
            return self._error("Channel not found", 400)
        with self.pbx.lock:
            bridge = self.bridges.get(bridge_id)
            if bridge is None:
                return self._error("Bridge not found", 404)
            for cid in wanted:
                channel = self.channels.get(cid)
                if channel is None:
                    return self._error("Channel not found", 400)
                if not channel.stasis:
                    return self._error("Channel not in Stasis application", 422)
            bridge["channels"] += [c for c in wanted if c not in bridge["channels"]]
        return Response(status=204)

    @route("POST", "/ari/channels/{channel_id}/moh")
    def start_moh(self, request: Request, channel_id: str):
        """startMoh POST /channels/{channelId}/moh?mohClass= (kept on the channel: the
        shared model has no per-call music; no ARI event reports it)"""
        return self._moh(request, channel_id, request.args.get("mohClass", "default"))

    @route("DELETE", "/ari/channels/{channel_id}/moh")
    def stop_moh(self, request: Request, channel_id: str):
        """stopMoh DELETE /channels/{channelId}/moh"""
        return self._moh(request, channel_id, None)

    def _moh(self, request: Request, channel_id: str, moh_class: str | None) -> Response:
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            channel = self._live(channel_id)
            if isinstance(channel, Response):
                return channel
            if channel.state != "Up":
                return self._error("Channel in invalid state", 412)
            channel.moh = moh_class
        return Response(status=204)

    @route("POST", "/ari/channels/{channel_id}/answer")
    def answer(self, request: Request, channel_id: str):
        """answer POST /channels/{channelId}/answer (an Up channel stays Up)"""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            channel = self._live(channel_id)
            if isinstance(channel, Response):
                return channel
            if channel.state != "Up" and not channel.offered:
                return self._error("Channel in invalid state", 412)
        return Response(status=204)

    @route("POST", "/ari/channels/{channel_id}/continue")
    def continue_in_dialplan(self, request: Request, channel_id: str):
        """continueInDialplan POST /channels/{channelId}/continue: with no location, an
        offered inbound channel goes on to its inbound route (accepted); with a
        context/extension, the call goes there (blind transfer)."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        with self.pbx.lock:
            channel = self._live(channel_id)
            if isinstance(channel, Response):
                return channel
            extension = request.args.get("extension")
            if extension is None:
                if not channel.offered:
                    return self._error("Channel in invalid state", 412)
                channel.offered, channel.state = False, "Up"
                failed = self._model(self.pbx.accept_call, f"call:{channel.call}")
            else:
                target = self._destination(request.args.get("context", channel.context),
                                           extension)
                channel.offered = False
                failed = self._model(self.pbx.transfer, f"call:{channel.call}", target)
        return failed or Response(status=204)

    @route("POST", "/ari/channels/{channel_id}/redirect")
    def redirect(self, request: Request, channel_id: str):
        """redirect POST /channels/{channelId}/redirect?endpoint= (400 without one)"""
        refusal = self._guard(request)
        if refusal:
            return refusal
        endpoint = request.args.get("endpoint")
        if not endpoint:
            return self._error("Endpoint parameter not provided", 400)
        with self.pbx.lock:
            channel = self._live(channel_id)
            if isinstance(channel, Response):
                return channel
            target = self._party(endpoint)
            if target is None:
                return self._error("Channel or endpoint not found", 404)
            failed = self._model(self.pbx.transfer, f"call:{channel.call}", target)
        return failed or Response(status=204)

    @route("POST", "/ari/channels/{channel_id}/play/{playback_id}")
    def play_with_id(self, request: Request, channel_id: str, playback_id: str):
        """playWithId POST /channels/{channelId}/play/{playbackId}?media=...: 201 Created
        with ``Location: /playbacks/ID`` and the Playback, ``queued`` (the vendor's sample:
        Getting Started with ARI, "Hello World!" step 3; Asterisk answers play and playWithId
        alike, res/ari/resource_channels.c ari_channels_handle_play ->
        ast_ari_response_created); then PlaybackStarted (``playing``) and, after 5 s of model
        time per media URI, PlaybackFinished (``done``)."""
        refusal = self._guard(request)
        if refusal:
            return refusal
        media = request.args.getlist("media")
        if not media:
            return self._error("media is required", 400)
        with self.pbx.lock:
            channel = self._live(channel_id)
            if isinstance(channel, Response):
                return channel
            if channel.state != "Up":
                return self._error("Channel in invalid state", 412)
            known = self.pbx.setup.prompts
            ok = all(m.startswith("recording:") or (m.startswith("sound:")
                                                    and m[6:] in known) for m in media)
            playback = {"id": playback_id, "media_uri": media[0],
                        "target_uri": f"channel:{channel_id}", "language": "en",
                        "state": "playing"}
            if len(media) > 1:
                playback["next_media_uri"] = media[1]
            self.playbacks[playback_id] = playback
            queued = {**playback, "state": "queued"}
            self._send("PlaybackStarted", playback=playback)

            def finish() -> None:
                if channel_id in self.channels:
                    done = {k: v for k, v in playback.items() if k != "next_media_uri"}
                    done.update(state="done" if ok else "failed", media_uri=media[-1])
                    self.playbacks.pop(playback_id, None)
                    self._send("PlaybackFinished", playback=done)

            self.pbx.clock.call_later(PROMPT_SECONDS * len(media), finish)
            return self.json_response(queued, status=201,
                                      headers={"Location": f"/playbacks/{playback_id}"})

    @route("GET", "/ari/channels/{channel_id}/variable")
    def get_variable(self, request: Request, channel_id: str):
        """getChannelVar GET /channels/{channelId}/variable?variable= (CHANNEL(linkedid))"""
        refusal = self._guard(request)
        if refusal:
            return refusal
        name = request.args.get("variable")
        if not name:
            return self._error("Missing variable parameter.", 400)
        with self.pbx.lock:
            channel = self.channels.get(channel_id)
            if channel is None or name != "CHANNEL(linkedid)":
                return self._error("Channel or variable not found", 404)
            return {"value": channel.linkedid}


def create(pbx: Pbx | None = None, **options: Any) -> AriEmulator:
    return AriEmulator(pbx, **{k: v for k, v in options.items() if v is not None})


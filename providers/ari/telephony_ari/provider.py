"""The ARI provider: REST operations on channels, the event WebSocket, and call flows that
continue on its events.

Every request names its Swagger operation (../shared/specs/asterisk-ari/channels.json, Swagger
1.1, basePath ``/ari``) by nickname. Channel operations other than originate and hangup act
only on channels in a Stasis application (409 otherwise): calls placed by ``play_prompt`` and
inbound calls that enter the app are; calls placed by ``dial`` continue in the dialplan.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from telephony_core.context import current, new_key
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    PayloadProblem,
    ProviderError,
    TelephonyError,
    TransportError,
)
from telephony_core.provider import FollowUp
from telephony_core.redaction import get_logger, redact
from telephony_core.results import Ack, CallInfo, CallRef, Event
from telephony_core.streams import AsyncEventStream, EventStream, StreamSource
from telephony_core.wire import HttpProvider, WireReply, WireRequest

from .translate import FLOW_TAG, Dialplan, events_from_frame, group_calls, media_of

__all__ = ["AriProvider"]

log = get_logger("telephony_ari")

#: ARI status codes (channels.json errorResponses) -> (category, code)
STATUS = {
    400: ("invalid", "invalid_parameters"),
    404: ("not_found", "not_found"),
    409: ("invalid", "not_in_stasis"),
    412: ("invalid", "invalid_state"),
    422: ("invalid", "unprocessable"),
}


def _chan(payload: Mapping[str, Any], key: str = "call") -> str:
    return quote(payload[key].removeprefix("call:"), safe="")


class AriProvider(HttpProvider):
    """ARI over HTTP Basic, with a background event stream (see telephony_core.streams)."""

    default_port = 8088
    base_path = "/ari"

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self.app = str(config["app"])
        self.auth = self.basic_auth(str(config["username"]), config.secret("password") or "")
        self.plan = Dialplan(str(config.get("technology", "PJSIP")),
                             str(config.get("trunk", "trunk")),
                             str(config.get("context", "from-internal")),
                             str(config.get("outbound_context", "outbound")))
        #: channel id -> the flow it runs (prompts, menu) for channels play_prompt originated
        self.flows: dict[str, dict[str, Any]] = {}
        self._flows_lock = threading.Lock()
        self._stream: EventStream | None = None
        self._stream_lock = threading.Lock()
        self._waited = False
        self._closed = False
        self._driver: Callable[[FollowUp], Any] | None = None
        self._adriver: Callable[[FollowUp], Awaitable[Any]] | None = None
        self._astream: AsyncEventStream | None = None

    # -- HTTP ------------------------------------------------------------------------------

    def authorize(self, request: WireRequest) -> WireRequest:
        return request.with_headers(self.auth)

    def decode(self, reply: WireReply, op) -> Any:
        if reply.status == 401:
            raise AuthenticationError("Asterisk refused the ARI user or password (HTTP 401)")
        if reply.status in STATUS:
            category, code = STATUS[reply.status]
            raise ProviderError(f"Asterisk refused the request (HTTP {reply.status}): "
                                f"{redact(_message(reply))}", code=code, category=category,
                                vendor_code=str(reply.status))
        return super().decode(reply, op)

    def _call(self, request: WireRequest) -> Generator[WireRequest, WireReply, Any]:
        """One request inside an exchange: yield it (the driver authorizes and sends it),
        decode the reply. A failed send is raised here, at the ``yield``."""
        reply = yield request
        return self.decode(reply, None)

    # -- the client's driver, for what the stream reader sends -----------------------------

    def bind_driver(self, run: Callable[[FollowUp], Any]) -> None:
        """The client hands over how it sends one step (its driver, session and retry policy:
        ``Client._follow``, or ``AsyncClient._follow``, a coroutine function). The stream
        reader sends follow-up steps and the reconciling GET through it; the provider itself
        never sends."""
        if inspect.iscoroutinefunction(run):
            self._adriver = run
        else:
            self._driver = run

    def _send(self, request: WireRequest, retry_safe: bool, reason: str) -> Any:
        if self._driver is None:
            raise TelephonyError("this ARI provider is not attached to a client; create it "
                                 "with telephony_core.connect('ari', ...)", provider=self.name)
        return self._driver(FollowUp(request, retry_safe, reason))

    # -- the event stream ------------------------------------------------------------------

    def event_stream(self) -> EventStream | None:
        """The stream of this client (created and started on first use)."""
        if not self.config.get("stream", True):
            return None
        with self._stream_lock:
            if self._closed:
                raise TelephonyError("the client is closed", provider=self.name,
                                     operation="events")
            if self._stream is None:
                self._stream = EventStream(self.stream_source(),
                                           max_failures=int(self.config.get("stream_failures", 8)))
            stream = self._stream
        return stream.start()

    def stream_source(self, *, asynchronous: bool = False) -> StreamSource:
        """What the stream reader needs (the thread and the asyncio task read the same; the
        task's follow-ups and reconciliation are coroutines through the async driver)."""
        return StreamSource(
            self._events_url(), lambda text: events_from_frame(text, self.plan), self.name,
            headers=self.auth, reconcile=self._areconcile if asynchronous else self._reconcile,
            follow=self._acontinue if asynchronous else self._continue, ssl=self._ssl(),
            open_timeout=float(self.config.get("connect_timeout", 5)))

    def async_event_stream(self) -> AsyncEventStream | None:
        """The asyncio stream of an async client (a task, created on first use inside the
        running loop)."""
        if not self.config.get("stream", True) or self._adriver is None:
            return None
        if self._closed:
            raise TelephonyError("the client is closed", provider=self.name, operation="events")
        if self._astream is None:
            self._astream = AsyncEventStream(
                self.stream_source(asynchronous=True),
                max_failures=int(self.config.get("stream_failures", 8)))
        return self._astream.start()

    async def stream_ready(self, operation: str) -> None:
        """The async client awaits this before an operation: the first one waits for the
        stream once (the Stasis app), play_prompt every time it is not connected."""
        stream = self.async_event_stream()
        if stream is None or stream.connected:
            return
        if not self._waited or operation == "play_prompt":
            self._waited = True
            await stream.wait_connected(float(self.config.get("connect_timeout", 5)))

    async def aclose_stream(self) -> None:
        self._closed = True
        stream, self._astream = self._astream, None
        if stream is not None:
            await stream.aclose()

    def _events_url(self) -> str:
        """eventWebsocket (events.json): ``GET /ari/events?app=NAME&subscribeAll=true``, the
        credential in the Basic header (never ``api_key`` in the URL)."""
        base = self.settings.base_url
        scheme = "wss" if base.startswith("https") else "ws"
        rest = base.split("://", 1)[1]
        port = self.config.get("events_port")
        if port:
            host = rest.split("/", 1)[0].rpartition(":")[0] or rest.split("/", 1)[0]
            rest = f"{host}:{port}/" + (rest.split("/", 1)[1] if "/" in rest else "")
            rest = rest.rstrip("/")
        return f"{scheme}://{rest}/events?app={quote(self.app)}&subscribeAll=true"

    def _ssl(self) -> Any:
        if not self.settings.base_url.startswith("https"):
            return None
        import ssl

        verify = self.settings.verify
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
        if verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _reconcile(self) -> dict[str, Any]:
        """After a reconnect: what is live now (listChannels GET /channels), for the gap."""
        channels = self._send(WireRequest("GET", "/channels"), True, "reconcile after a gap")
        return _live(channels, self.plan)

    async def _areconcile(self) -> dict[str, Any]:
        assert self._adriver is not None
        channels = await self._adriver(FollowUp(WireRequest("GET", "/channels"), True,
                                                "reconcile after a gap"))
        return _live(channels, self.plan)

    async def _acontinue(self, event: Event) -> None:
        assert self._adriver is not None
        for step in self.follow_up(event):
            await self._adriver(step)

    def _continue(self, event: Event) -> None:
        """Send the flow's next steps for a stream event (the stream reader calls this)."""
        for step in self.follow_up(event):
            self._send(step.request, step.retry_safe, step.reason)

    def _started(self) -> None:
        """The Stasis app exists only while its WebSocket is up: the first operation waits for
        the stream once; later ones do not. (The async client awaits :meth:`stream_ready`.)"""
        if self._adriver is not None:
            return
        stream = self.event_stream()
        if stream is not None and not self._waited:
            self._waited = True
            stream.start(wait=float(self.config.get("connect_timeout", 5)))

    def _require_stream(self) -> None:
        stream: Any
        if self._adriver is not None:
            stream = self.async_event_stream()
        else:
            stream = self.event_stream()
            if stream is not None:
                stream.start(wait=float(self.config.get("connect_timeout", 5)))
        if stream is None:
            return
        if stream.failure is not None:
            raise stream.failure
        if not stream.connected:
            raise TransportError(
                f"the ARI event stream (Stasis app {self.app!r}) is not connected, so a call "
                "originated into the app would fail; nothing was sent", request_sent=False,
                reason="refused", provider=self.name)

    # -- operations (Exchanges: yield requests, receive replies) ----------------------------

    def _channel_id(self) -> str:
        """A client-chosen channel id from the operation's idempotency key: a repeat of the
        same originate is refused with 409 while the first channel lives."""
        ctx = current()
        return f"tc-{ctx.idempotency_key if ctx else new_key()}"

    def _originate(self, channel_id: str, params: dict[str, Any]) -> Generator[
            WireRequest, WireReply, CallRef]:
        """originateWithId POST /channels/{channelId}. Sent at most once; when its outcome is
        unknown (the TransportError the driver throws in at the yield), GET
        /channels/{channelId} (channels.json ``get``) decides, in this same exchange: the
        channel exists -> placed; otherwise OutcomeUnknown (it may have been placed and
        already ended)."""
        request = WireRequest("POST", f"/channels/{quote(channel_id, safe='')}", params=params)
        try:
            data = yield from self._call(request)
        except TransportError as exc:
            if not exc.request_sent:
                raise
            return (yield from self._reconcile_originate(channel_id, exc))
        except ProviderError as exc:
            if exc.vendor_code == "409":  # the same key again, while its channel lives
                return CallRef(self.name, channel_id, raw={"duplicate": True})
            raise
        if not isinstance(data, Mapping) or data.get("id") != channel_id:
            raise ValueError("the originate reply is not the Channel asked for")
        return CallRef(self.name, channel_id, raw=data)  # as it is (conformance.md "Ids")

    def _reconcile_originate(self, channel_id: str, cause: TransportError) -> Generator[
            WireRequest, WireReply, CallRef]:
        try:
            data = yield from self._call(
                WireRequest("GET", f"/channels/{quote(channel_id, safe='')}"))
        except ProviderError as exc:
            if exc.category != "not_found":
                raise self._unknown(cause) from None
            raise OutcomeUnknown(
                f"the originate may have reached Asterisk ({cause.message}), and channel "
                f"{channel_id} does not exist now: it was never created, or it already ended. "
                "It was not re-sent", reason=cause.reason, provider=self.name) from None
        except TelephonyError:
            raise self._unknown(cause) from None
        return CallRef(self.name, channel_id, raw={"reconciled": True, **(
            data if isinstance(data, Mapping) else {})})

    def _unknown(self, cause: TransportError) -> OutcomeUnknown:
        return OutcomeUnknown(f"the originate may have reached Asterisk ({cause.message}) and "
                              "its channel could not be looked up; it was not re-sent",
                              reason=cause.reason, provider=self.name)

    def _op_dial(self, payload: dict[str, Any]) -> Generator[WireRequest, WireReply, CallRef]:
        context, extension = self.plan.extension(payload["callee"])
        params = {"endpoint": self.plan.endpoint(payload["caller"]), "extension": extension,
                  "context": context}
        if "caller_id" in payload:
            params["callerId"] = payload["caller_id"]
        return (yield from self._originate(self._channel_id(), params))

    def _op_play_prompt(self, payload: dict[str, Any]) -> Generator[
            WireRequest, WireReply, CallRef]:
        self._require_stream()
        channel_id = self._channel_id()
        params = {"endpoint": self.plan.endpoint(payload["to"]), "app": self.app,
                  "appArgs": f"{FLOW_TAG},play_prompt"}
        if "caller_id" in payload:
            params["callerId"] = payload["caller_id"]
        with self._flows_lock:
            self.flows[channel_id] = {"prompts": list(payload["prompts"]),
                                      "menu": dict(payload.get("menu") or {})}
        try:
            return (yield from self._originate(channel_id, params))
        except TelephonyError as exc:
            if not isinstance(exc, OutcomeUnknown):
                with self._flows_lock:
                    self.flows.pop(channel_id, None)
            raise

    def _simple(self, method: str, suffix: str, payload: dict[str, Any],
                params: dict[str, Any] | None = None) -> Generator[WireRequest, WireReply, Ack]:
        data = yield from self._call(WireRequest(method, f"/channels/{_chan(payload)}{suffix}",
                                                 params=params))
        return Ack(self.name, raw=data)

    def _op_hangup(self, payload):  # hangup DELETE /channels/{channelId}
        return (yield from self._simple("DELETE", "", payload))

    def _op_hold(self, payload):  # hold POST /channels/{channelId}/hold
        return (yield from self._simple("POST", "/hold", payload))

    def _op_unhold(self, payload):  # unhold DELETE /channels/{channelId}/hold
        return (yield from self._simple("DELETE", "/hold", payload))

    def _op_mute(self, payload):  # mute POST /channels/{channelId}/mute
        return (yield from self._simple("POST", "/mute", payload, {"direction": "both"}))

    def _op_unmute(self, payload):  # unmute DELETE /channels/{channelId}/mute
        return (yield from self._simple("DELETE", "/mute", payload, {"direction": "both"}))

    def _offered(self, payload: dict[str, Any]) -> Generator[WireRequest, WireReply, None]:
        """get GET /channels/{channelId}: an offered inbound channel is in state ``Ring``
        (it entered the app unanswered); accept/reject of any other is refused here."""
        data = yield from self._call(WireRequest("GET", f"/channels/{_chan(payload)}"))
        state = data.get("state") if isinstance(data, Mapping) else None
        if state != "Ring":
            raise ProviderError(f"channel {payload['call'][5:]} is not an offered inbound call "
                                f"(its state is {state!r}, not 'Ring')", code="not_offered",
                                category="invalid")

    def _op_accept_call(self, payload):  # continueInDialplan: leave the app, next priority
        yield from self._offered(payload)
        return (yield from self._simple("POST", "/continue", payload))

    def _op_reject_call(self, payload):  # hangup with reason=rejected (allowedValues)
        yield from self._offered(payload)
        return (yield from self._simple("DELETE", "", payload, {"reason": "rejected"}))

    def _op_transfer(self, payload: dict[str, Any]) -> Generator[
            WireRequest, WireReply, CallRef]:
        """continueInDialplan to the target's context/extension; redirect for sip:."""
        to = payload["to"]
        if to.startswith("sip:"):
            yield from self._simple("POST", "/redirect", payload,
                                    {"endpoint": self.plan.endpoint(to)})
        else:
            context, extension = self.plan.extension(to)
            yield from self._simple("POST", "/continue", payload,
                                    {"context": context, "extension": extension, "priority": 1})
        return CallRef(self.name, payload["call"].removeprefix("call:"))

    def _op_monitor(self, payload: dict[str, Any]) -> Generator[WireRequest, WireReply, Ack]:
        """snoopChannelWithId on the call's channel (listen: spy=both; whisper: also
        whisper=out; barge: whisper=both), create (the supervisor's channel, not yet dialled),
        createWithId a mixing bridge, addChannel both, then dial the supervisor. Ids derive
        from the call and the supervisor, so one supervisor monitors a call once. When a step
        is refused, what the earlier steps created is removed (best effort)."""
        channel = payload["call"].removeprefix("call:")
        number = payload["supervisor"].removeprefix("ext:")
        snoop, supervisor, bridge = (f"{channel}-{what}-{number}" for what in
                                     ("snoop", "sup", "mon"))
        whisper = {"listen": "none", "whisper": "out", "barge": "both"}[payload["mode"]]
        q = lambda text: quote(text, safe="")  # noqa: E731
        created: list[WireRequest] = []
        try:
            yield from self._call(WireRequest(
                "POST", f"/channels/{q(channel)}/snoop/{q(snoop)}", params={
                    "spy": "both", "whisper": whisper, "app": self.app,
                    "appArgs": f"{FLOW_TAG},snoop"}))
            created.append(WireRequest("DELETE", f"/channels/{q(snoop)}"))
            yield from self._call(WireRequest("POST", "/channels/create", params={
                "endpoint": self.plan.endpoint(payload["supervisor"]), "app": self.app,
                "appArgs": f"{FLOW_TAG},monitor", "channelId": supervisor}))
            created.append(WireRequest("DELETE", f"/channels/{q(supervisor)}"))
            yield from self._call(WireRequest("POST", f"/bridges/{q(bridge)}",
                                              params={"type": "mixing"}))
            created.append(WireRequest("DELETE", f"/bridges/{q(bridge)}"))
            yield from self._call(WireRequest("POST", f"/bridges/{q(bridge)}/addChannel",
                                              params={"channel": f"{snoop},{supervisor}"}))
            data = yield from self._call(WireRequest("POST", f"/channels/{q(supervisor)}/dial"))
        except ProviderError:
            for undo in reversed(created):
                try:
                    yield from self._call(undo)
                except TelephonyError:
                    log.debug("%s: cleaning up after a refused monitor failed", self.name)
            raise
        return Ack(self.name, raw=data)

    def _op_list_calls(self, payload: dict[str, Any]) -> Generator[
            WireRequest, WireReply, list[CallInfo]]:
        """listChannels GET /channels, grouped into calls by CHANNEL(linkedid)."""
        channels = yield from self._call(WireRequest("GET", "/channels"))
        if not isinstance(channels, list):
            raise ValueError("GET /channels did not answer a list")
        wanted = {i.removeprefix("call:") for i in payload.get("ids") or ()}
        out = []
        for call in group_calls(channels, self.plan):
            if wanted and call["call_id"] not in wanted:
                continue
            if payload.get("direction") and call["direction"] != payload["direction"]:
                continue
            out.append(CallInfo(call["call_id"], call["direction"], call["caller"],
                                call["callee"], call["state"], raw=call))
        return out

    # -- beyond the catalogue ---------------------------------------------------------------

    def start_moh(self, call: str, moh_class: str | None = None) -> Ack:
        """Play music on hold to a channel: ``startMoh`` POST /channels/{channelId}/moh
        (``mohClass`` from musiconhold.conf, Asterisk's default class when omitted). The
        catalogue's music-on-hold operations are configuration, so this is an extra:
        ``client.provider.start_moh("call:ID")``, sent once (no retry) through the client's
        driver."""
        payload = _checked_call(call)
        params = {"mohClass": _checked_class(moh_class)} if moh_class is not None else None
        data = self._send(WireRequest("POST", f"/channels/{_chan(payload)}/moh", params=params),
                          False, "start_moh")
        return Ack(self.name, raw=data)

    def stop_moh(self, call: str) -> Ack:
        """``stopMoh`` DELETE /channels/{channelId}/moh."""
        payload = _checked_call(call)
        data = self._send(WireRequest("DELETE", f"/channels/{_chan(payload)}/moh"), False,
                          "stop_moh")
        return Ack(self.name, raw=data)

    # -- call flows ------------------------------------------------------------------------

    def follow_up(self, event: Event) -> Sequence[FollowUp]:
        """play_prompt's flow: StasisStart -> answer, play (playWithId, every prompt in one
        request); PlaybackFinished -> hang up unless a menu waits; a key in the menu ->
        continueInDialplan there. The flow's prompts and menu are kept in this process,
        keyed by the channel id it chose."""
        channel = str(event.data.get("channel", ""))
        with self._flows_lock:
            flow = self.flows.get(channel)
            if event.kind == "call.hangup":
                self.flows.pop(channel, None)
        if flow is None:
            return ()
        path = f"/channels/{quote(channel, safe='')}"
        if event.kind == "system" and event.data.get("ari") == "StasisStart":
            media = [media_of(p) for p in flow["prompts"]]
            return (FollowUp(WireRequest("POST", f"{path}/answer"), True, "answer"),
                    FollowUp(WireRequest("POST", f"{path}/play/{quote(channel)}-play",
                                         params={"media": media}), False, "play the prompts"))
        if event.kind == "prompt.finished" and not flow["menu"]:
            return (FollowUp(WireRequest("DELETE", path), True, "prompts played"),)
        if event.kind == "call.dtmf" and event.data.get("key") in flow["menu"]:
            context, extension = self.plan.extension(flow["menu"][event.data["key"]])
            with self._flows_lock:
                self.flows.pop(channel, None)
            return (FollowUp(WireRequest("POST", f"{path}/continue", params={
                "context": context, "extension": extension, "priority": 1}), False,
                f"menu key {event.data['key']}"),)
        return ()

    def close(self) -> None:
        with self._stream_lock:
            self._closed = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        super().close()


def _live(channels: Any, plan: Dialplan) -> dict[str, Any]:
    """What reconciling found: the live calls and channels of listChannels."""
    channels = channels if isinstance(channels, list) else []
    calls = group_calls(channels, plan)
    return {"live_calls": [c["call_id"] for c in calls],
            "live_channels": [c["id"] for c in channels if isinstance(c, Mapping)]}


def _exchange(name: str) -> Any:
    """The Exchange of operation ``name``: wait for the stream once (the Stasis app), then
    run ``AriProvider._op_NAME``."""
    def run(provider: AriProvider, payload: dict[str, Any]) -> Generator[
            WireRequest, WireReply, Any]:
        provider._started()
        return (yield from getattr(provider, f"_op_{name}")(payload))

    run.__name__ = name
    return run


AriProvider.routes = {name[4:]: _exchange(name[4:]) for name in dir(AriProvider)
                      if name.startswith("_op_")}


def _checked_call(call: object) -> dict[str, Any]:
    if not isinstance(call, str) or not _CALL.fullmatch(call):
        raise PayloadError([PayloadProblem("call", "expected call:ID, the channel id (letters, "
                                                   "digits, '.', '_', ':', '-')")])
    return {"call": call}


def _checked_class(value: object) -> str:
    if not isinstance(value, str) or not _CLASS.fullmatch(value):
        raise PayloadError([PayloadProblem("moh_class", "expected a musiconhold.conf class "
                                                        "name (letters, digits, '_', '-')")])
    return value


_CALL = re.compile(r"call:[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_CLASS = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _message(reply: WireReply) -> str:
    try:
        body = reply.json()
    except TelephonyError:
        return reply.text[:200]
    return str(body.get("message") or body) if isinstance(body, dict) else str(body)[:200]


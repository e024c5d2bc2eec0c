"""The TeleCMI provider: make-call requests with PCMO actions, live-call actions, webhooks.

Sans-IO (plugin API 2): no session (the app id and secret travel in every body); the live-call
actions go to a second host (``piopiy.telecmi.com``), built here from the configuration and
named on each request (``WireRequest(base=...)``), so both clients send them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Mapping
from typing import Any

from telephony_core.errors import AuthenticationError, ProviderError
from telephony_core.events import parse_body
from telephony_core.redaction import redact
from telephony_core.results import Ack, CallRef, Event
from telephony_core.wire import (
    HttpProvider,
    MalformedReply,
    Route,
    TransportSettings,
    WireReply,
    WireRequest,
)

from .translate import bridge_call, event_from_webhook, play_call

__all__ = ["TeleCmiProvider"]

#: HTTP status -> (category, code) on the make-call host (seed 001's table); 502 means "a
#: required property is missing" here, not a gateway failure
STATUS = {404: ("not_found", "not_found"), 422: ("invalid", "missing_property"),
          502: ("invalid", "missing_property")}
#: live-call actions by region: the Node SDK (telecmi/piopiy_node src/voice/hold.js and
#: hangup.js, global accounts) posts to /v1/call/global_action; src/ind_voice/hold.js (India)
#: to /v1/call/action; both name the call ``cmiuid``. See docs/providers/telecmi.md.
ACTION_PATHS = {"global": "/v1/call/global_action", "india": "/v1/call/action"}
LIVE_ACTIONS = ("hold", "unhold", "hangup")
_AUTH_WORDS = ("secret", "app id", "appid", "authenticat")
_CALL_WORDS = ("cmiuuid", "cmiuid", "call not found", "no such call")
#: request ids remembered for live_call_id (the newest win; a bounded map)
_REMEMBERED = 4096


def _make_call(build):
    def to_request(self: TeleCmiProvider, payload: dict[str, Any]) -> WireRequest:
        path = "/v2/ind_pcmo_make_call" if self.config.get("region") == "india" \
            else "/v2/global_pcmo_make_call"
        return WireRequest("POST", path, json=build(self.credentials, payload))
    return to_request


def _call_ref(self: TeleCmiProvider, data: Any, payload: dict[str, Any]) -> CallRef:
    """No call id: TeleCMI answers with a ``request_id`` (kept in ``raw``), while the live call's
    id (``cmiuuid``, what hold takes) is only known from its events. A ``request_id`` passed to
    hold would be refused, so it is not offered as the call id; :meth:`live_call_id` maps it to
    the live call once an event has told."""
    if not isinstance(data, dict) or not data.get("request_id"):
        raise MalformedReply("the make-call reply has no request_id")
    return CallRef(self.name, None, raw=data)


def _live_action(action: str) -> Callable[[TeleCmiProvider, dict[str, Any]],
                                          Generator[WireRequest, WireReply, Ack]]:
    """hold/unhold/hangup: one POST to the live-action host, ``cmiuid`` naming the call."""
    def exchange(self: TeleCmiProvider, payload: dict[str, Any]) -> Generator[
            WireRequest, WireReply, Ack]:
        path = ACTION_PATHS[self.config.get("region", "global")]
        body = {**self.credentials, "action": action,
                "cmiuid": payload["call"].split(":", 1)[1]}
        reply = yield WireRequest("POST", path, json=body, base=self.action_base)
        return Ack(self.name, raw=self._decode_action(reply))
    return exchange


class TeleCmiProvider(HttpProvider):
    routes = {
        "play_prompt": Route(_make_call(play_call), _call_ref),
        "dial": Route(_make_call(bridge_call), _call_ref),
        **{action: _live_action(action) for action in LIVE_ACTIONS},
    }

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self.credentials = {"appid": config["appid"], "secret": config.secret("secret")}
        #: the live-action host's base URL, from the configuration only (never a payload);
        #: built like the main one (a plain-http or insecure setting warns the same way)
        self.action_base = TransportSettings.from_config(
            config, base_url=_action_base(config)).base_url
        self._legs: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._legs_lock = threading.Lock()

    def _decode_action(self, reply: WireReply) -> Any:
        """The live-action host answers 404 for "Invalid app id or secret, authentication
        failed, Missing parameter, cmiuuid not found" alike (PIOPIY-doc piopiy/docs/get-cmiuuid,
        same host); its message tells which, when there is one."""
        if reply.status == 404:
            message = redact(_message(reply))
            lowered = message.lower()
            if any(word in lowered for word in _AUTH_WORDS):
                raise AuthenticationError(f"TeleCMI refused the app id or secret (HTTP 404): "
                                          f"{message}")
            if any(word in lowered for word in _CALL_WORDS):
                raise ProviderError(f"TeleCMI knows no live call by that id (HTTP 404): "
                                    f"{message}", code="call_not_found", category="not_found",
                                    vendor_code="404")
            raise ProviderError(
                "TeleCMI answered 404, which on the live-action host means a wrong app id or "
                "secret, a missing parameter, or a call id it does not know (ended calls "
                f"included): {message}", code="not_found_or_refused", category="not_found",
                vendor_code="404")
        return self.decode(reply, None)

    def decode(self, reply: WireReply, op) -> Any:
        if reply.status == 420:
            raise AuthenticationError("TeleCMI refused the app id or secret (HTTP 420)")
        if reply.status in STATUS:
            category, code = STATUS[reply.status]
            raise ProviderError(f"TeleCMI refused the request (HTTP {reply.status}): "
                                f"{redact(_message(reply))}", code=code, category=category,
                                vendor_code=str(reply.status))
        return super().decode(reply, op)

    # -- events ------------------------------------------------------------------------------

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        event = event_from_webhook(parse_body(body, headers))
        self._remember(event)
        return [event]

    def _remember(self, event: Event) -> None:
        request_id, leg = event.data.get("request_id"), event.data.get("leg") or "a"
        if not isinstance(request_id, str) or not event.call_id or not isinstance(leg, str):
            return
        with self._legs_lock:
            self._legs.setdefault(request_id, {})[leg] = event.call_id
            self._legs.move_to_end(request_id)
            while len(self._legs) > _REMEMBERED:
                self._legs.popitem(last=False)

    def live_call_id(self, request_id: str, leg: str = "a") -> str | None:
        """The ``cmiuuid`` of a call placed with ``request_id`` (``CallRef.raw["request_id"]``),
        once one of its events has been through this client's ``parse_event``; None before.
        Like every ``call_id`` it is the id as it is (the events' ``call_id``); act on the call
        with ``call:`` + it.

        Leg ``a`` is the number called first (``to``/``caller``), ``b`` the one bridged to it.
        TeleCMI's own look-up by request id (``/v1/piopiy/requestid_cdr``) answers CDRs without
        the ``cmiuuid``, so it cannot tell this."""
        with self._legs_lock:
            cmiuuid = self._legs.get(request_id, {}).get(leg)
        return cmiuuid or None


def _action_base(config) -> str:
    """``action_url``, else ``action_host`` with the scheme and port of ``host``: TeleCMI serves
    make-call on rest.telecmi.com and live actions on piopiy.telecmi.com, both HTTPS on 443."""
    if config.get("action_url"):
        return str(config["action_url"])
    host = str(config.get("action_host", "piopiy.telecmi.com"))
    netloc = f"[{host}]" if ":" in host else host
    port = config.get("port")
    return f"{config.get('scheme', 'https')}://{netloc}" + (f":{port}" if port else "")


def _message(reply: WireReply) -> str:
    try:
        body = reply.json()
    except Exception:
        return reply.text[:200]
    return str(body.get("msg") or body.get("message") or body) if isinstance(body, dict) \
        else str(body)

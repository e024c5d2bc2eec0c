"""The TeleCMI provider: make-call requests with PCMO actions, live-call actions, webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telephony_core.errors import AuthenticationError, ProviderError
from telephony_core.events import parse_body
from telephony_core.http import HttpProvider, HttpTransport, Route, WireReply, WireRequest
from telephony_core.redaction import redact
from telephony_core.results import Ack, CallRef, Event

from .translate import bridge_call, event_from_webhook, play_call

__all__ = ["TeleCmiProvider"]

#: HTTP status -> (category, code); 502 means "a required property is missing" here, not a
#: gateway failure
STATUS = {404: ("not_found", "not_found"), 422: ("invalid", "missing_property"),
          502: ("invalid", "missing_property")}


def _make_call(build):
    def to_request(self: TeleCmiProvider, payload: dict[str, Any]) -> WireRequest:
        path = "/v2/ind_pcmo_make_call" if self.config.get("region") == "india" \
            else "/v2/global_pcmo_make_call"
        return WireRequest("POST", path, json=build(self.credentials, payload))
    return to_request


def _call_ref(self: TeleCmiProvider, data: Any, payload: dict[str, Any]) -> CallRef:
    """No call id: TeleCMI answers with a ``request_id`` (kept in ``raw``), while the live call's
    id (``cmiuuid``, what hold takes) is only known from its events. A ``request_id`` passed to
    hold would be refused, so it is not offered as the call id."""
    if not data.get("request_id"):
        raise ValueError("the reply has no request_id")
    return CallRef(self.name, None, raw=data)


class TeleCmiProvider(HttpProvider):
    routes = {
        "play_prompt": Route(_make_call(play_call), _call_ref),
        "dial": Route(_make_call(bridge_call), _call_ref),
    }

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self.credentials = {"appid": config["appid"], "secret": config.secret("secret")}
        self.actions = HttpTransport.from_config(config, base_url=config["action_url"])

    def invoke(self, op, payload):
        if op.name in ("hold", "unhold"):
            body = {**self.credentials, "cmiuuid": payload["call"].split(":", 1)[1],
                    "action": op.name}
            reply = self.actions.send(WireRequest("POST", "/v1/call/action", json=body))
            return Ack(self.name, raw=self.decode(reply, op))
        return super().invoke(op, payload)

    def decode(self, reply: WireReply, op) -> Any:
        if reply.status == 420:
            raise AuthenticationError("TeleCMI refused the app id or secret (HTTP 420)")
        if reply.status in STATUS:
            category, code = STATUS[reply.status]
            raise ProviderError(f"TeleCMI refused the request (HTTP {reply.status}): "
                                f"{redact(_message(reply))}", code=code, category=category,
                                vendor_code=str(reply.status))
        return super().decode(reply, op)

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        return [event_from_webhook(parse_body(body, headers))]

    def close(self) -> None:
        self.actions.close()
        super().close()


def _message(reply: WireReply) -> str:
    try:
        body = reply.json()
    except Exception:
        return reply.text[:200]
    return str(body.get("msg") or body.get("message") or body) if isinstance(body, dict) \
        else str(body)

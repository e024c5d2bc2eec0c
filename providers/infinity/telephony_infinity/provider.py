"""The Infinity provider: token login, form-data RPC, replies checked as ``ret``/``data.status``."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

from telephony_core.errors import AuthenticationError, ProviderError
from telephony_core.events import parse_body
from telephony_core.http import HttpProvider, Route, WireReply, WireRequest
from telephony_core.redaction import get_logger, redact
from telephony_core.results import Ack, CallRef, Event

from .translate import dial_fields, event_from_callback, monitor_fields, play_voice_fields

__all__ = ["InfinityProvider"]

log = get_logger("telephony_infinity")
TOKEN_EXPIRED = 600


class TokenExpired(Exception):
    """``ret`` 600: the token must be renewed (handled here, never seen by applications)."""


def _rpc(fields_of):
    return lambda self, payload: WireRequest("POST", "/", data=fields_of(payload))


class InfinityProvider(HttpProvider):
    routes = {
        "play_prompt": Route(_rpc(play_voice_fields), lambda self, d, p: CallRef(self.name, None,
                                                                                 raw=d)),
        "dial": Route(_rpc(dial_fields), lambda self, d, p: CallRef(self.name, None, raw=d)),
        "monitor": Route(_rpc(monitor_fields), lambda self, d, p: Ack(self.name, raw=d)),
    }
    #: the clock token lifetimes are measured with (tests replace it)
    monotonic = staticmethod(time.monotonic)

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    # -- the token ---------------------------------------------------------------------------

    def _login(self) -> str:
        reply = self.transport.send(WireRequest("POST", "/", multipart=True, data={
            "service": "App.Sip_Auth.Login", "appid": self.config["appid"],
            "accesskey": self.config.secret("accesskey")}))
        try:
            data = self._checked(reply)
        except ProviderError as exc:
            raise AuthenticationError(f"login refused: {exc.message}") from None
        token = (data or {}).get("token") if isinstance(data, dict) else None
        if not token:
            raise AuthenticationError("login answered without a token")
        self.add_secret(token)
        self._renew_at = self.monotonic() + 0.9 * float(self.config.get("token_lifetime", 43200))
        return token

    def _current_token(self, stale: str | None = None) -> str:
        """The token, logging in when there is none, it is near its end, or it is ``stale``
        (single flight: threads that saw the same stale token cause one login)."""
        with self._lock:
            if self._token is None or self._token == stale or self.monotonic() >= self._renew_at:
                self._token = self._login()
            return self._token

    def call(self, request: WireRequest, op=None) -> Any:
        token = self._current_token()
        try:
            return self._send(request, token, op)
        except TokenExpired:
            log.info("infinity: token expired (ret 600); renewing once")
        try:
            return self._send(request, self._current_token(stale=token), op)
        except TokenExpired:
            raise AuthenticationError("Infinity refused a freshly issued token (ret 600)") \
                from None

    def _send(self, request: WireRequest, token: str, op) -> Any:
        reply = self.transport.send(with_token(request, token))
        return self._checked(reply)

    # -- replies -----------------------------------------------------------------------------

    def _checked(self, reply: WireReply) -> Any:
        if reply.status >= 500:
            raise ProviderError(f"Infinity failed (HTTP {reply.status})", code="server_error",
                                category="transient", vendor_code=str(reply.status))
        body = reply.json()
        if not isinstance(body, dict) or "ret" not in body:
            raise ValueError("the reply has no 'ret'")
        ret, data = body["ret"], body.get("data")
        message = redact(body.get("msg") or (data or {}).get("desc") or "no description")
        if ret == TOKEN_EXPIRED:
            raise TokenExpired()
        if ret != 200:
            category = "transient" if 500 <= int(ret) < 600 else "invalid"
            raise ProviderError(f"Infinity refused the request: {message}", code="rejected",
                                category=category, vendor_code=str(ret))
        if isinstance(data, dict) and data.get("status", 0) != 0:
            desc = redact(data.get("desc") or "no description")
            raise ProviderError(f"Infinity refused the command: {desc}", code="refused",
                                category="unknown", vendor_code=f"status {data['status']}")
        return data

    def close(self) -> None:
        if self._token is not None:
            try:
                self._send(WireRequest("POST", "/", data={"service": "App.Sip_Auth.Logout"}),
                           self._token, None)
            except Exception as exc:  # logging out must not fail the application's shutdown
                log.info("infinity: logout failed: %s", type(exc).__name__)
            self._token = None
        super().close()

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        return [event_from_callback(parse_body(body, headers))]


def with_token(request: WireRequest, token: str) -> WireRequest:
    """Multipart form fields with ``token`` right after ``service``, as the seed's sample has."""
    data = dict(request.data or {})
    ordered = {"service": data.pop("service"), "token": token, **data}
    return attrs.evolve(request, data=ordered, multipart=True)

"""The Infinity provider: token login, form-data RPC, replies checked as ``ret``/``data.status``."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    ProviderError,
    TelephonyError,
    TransportError,
)
from telephony_core.events import parse_body
from telephony_core.http import HttpProvider, MalformedReply, Route, WireReply, WireRequest
from telephony_core.redaction import get_logger, redact
from telephony_core.results import Ack, CallRef, Event

from .translate import dial_fields, event_from_callback, monitor_steps, play_voice_fields

__all__ = ["InfinityProvider"]

log = get_logger("telephony_infinity")

# INF-doc "Common API - Global error and status codes"
# (https://document.infin8linx.com/books/voice-api/page/common-api-global-error-and-status-codes)
TOKEN_EXPIRED = 600  # "The token is invalid, please log in again to verify"
#: ret 601-604: the account or its licence is refused; logging in again cannot help
ACCOUNT_REFUSALS = {
    601: (AuthenticationError, "appid_not_authorized", "the appid is not authorised"),
    602: (AuthenticationError, "appid_expired", "the appid's authorisation has expired"),
    603: (ProviderError, "module_not_licensed", "the module is not licensed"),
    604: (ProviderError, "ip_not_authorized", "this IP address is not authorised"),
}
#: ret 200 with data.status 1: data.errors.code -> (code, category)
ERRORS = {
    "1001": ("server_connection_failed", "transient"),
    "1002": ("abnormal_operation", "invalid"),
    "1003": ("operation_failed", "unknown"),
    "1010": ("extension_exception", "unknown"),
    "1011": ("illegal_extension", "forbidden"),
    "1012": ("extension_not_found", "not_found"),
    "1013": ("extension_disabled", "forbidden"),
    "1014": ("extension_not_registered", "busy"),
    "1015": ("extension_not_in_call", "invalid"),
}
RENEW_TOKEN = "1010"  # "Extension exception: log in again to get a new token"


class RenewToken(Exception):
    """The token must be renewed before the request can succeed (``ret`` 600, or the
    ``data.errors.code`` 1010 refusal). Handled here, never seen by applications.

    Both are refusals read from a complete reply: the platform did not act on the request, so
    sending it once more after a new login cannot repeat anything, even for a dial."""

    def __init__(self, error: TelephonyError, reason: str):
        super().__init__(reason)
        self.error = error
        self.reason = reason


def _rpc(fields_of):
    return lambda self, payload: WireRequest("POST", "/", data=fields_of(payload))


class InfinityProvider(HttpProvider):
    routes = {
        "play_prompt": Route(_rpc(play_voice_fields), lambda self, d, p: CallRef(self.name, None,
                                                                                 raw=d)),
        "dial": Route(_rpc(dial_fields), lambda self, d, p: CallRef(self.name, None, raw=d)),
    }
    #: the clock token lifetimes are measured with (tests replace it)
    monotonic = staticmethod(time.monotonic)

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def invoke(self, op, payload):
        if op.name == "monitor":
            return self._monitor(op, payload)
        return super().invoke(op, payload)

    def _monitor(self, op, payload) -> Ack:
        """listen: SpyCall 1. whisper: SpyCall 1, then 2 (Infinity switches an ongoing listen
        to whisper; it has no request that starts one)."""
        first, *switch = monitor_steps(payload)
        data = self.call(WireRequest("POST", "/", data=first), op)
        if not switch:
            return Ack(self.name, raw=data)
        try:
            data = self.call(WireRequest("POST", "/", data=switch[0]), op)
        except ProviderError as exc:
            raise ProviderError(
                f"the supervisor is listening, but Infinity refused to switch to whisper "
                f"(SpyCall monitortype 2): {exc.message}", code=exc.code,
                category=exc.category, vendor_code=exc.vendor_code) from None
        except TransportError as exc:
            if exc.request_sent:
                raise OutcomeUnknown(
                    "the supervisor is listening; the switch to whisper (SpyCall monitortype 2) "
                    f"may or may not have happened: {exc.message}") from None
            raise ProviderError(
                "the supervisor is listening, but the switch to whisper (SpyCall monitortype 2) "
                f"could not be sent: {exc.message}", code="whisper_not_switched",
                category="unknown") from None
        return Ack(self.name, raw=data)

    # -- the token ---------------------------------------------------------------------------

    def _login(self) -> str:
        reply = self.transport.send(WireRequest("POST", "/", multipart=True, data={
            "service": "App.Sip_Auth.Login", "appid": self.config["appid"],
            "accesskey": self.config.secret("accesskey")}))
        try:
            data = self._checked(reply)
        except RenewToken as exc:
            raise AuthenticationError(f"login refused: {exc.error.message}") from None
        except ProviderError as exc:
            # 603/604 (the licence or the address, not the key) and server failures (5xx,
            # errors.code 1001) are not a refusal of the credentials
            if exc.category in ("forbidden", "transient"):
                raise
            raise AuthenticationError(f"login refused: {exc.message}") from None
        # INF-doc "Obtain authorization token interface": data.result.token
        result = data.get("result") if isinstance(data, dict) else None
        token = result.get("token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("login answered without a token at data.result.token")
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
        """Send with the token; on ret 600 or errors.code 1010 log in once more and send once
        more (both are refusals: nothing was done). A second refusal is raised."""
        token = self._current_token()
        try:
            return self._send(request, token, op)
        except RenewToken as exc:
            log.info("infinity: %s; logging in again, then sending once more", exc.reason)
        try:
            return self._send(request, self._current_token(stale=token), op)
        except RenewToken as exc:
            raise exc.error from None

    def _send(self, request: WireRequest, token: str, op) -> Any:
        reply = self.transport.send(with_token(request, token))
        return self._checked(reply)

    # -- replies -----------------------------------------------------------------------------

    def _checked(self, reply: WireReply) -> Any:
        if reply.status >= 500:
            raise ProviderError(f"Infinity failed (HTTP {reply.status})", code="server_error",
                                category="transient", vendor_code=str(reply.status))
        body = reply.json()
        ret = body.get("ret") if isinstance(body, dict) else None
        if isinstance(ret, bool) or not isinstance(ret, int):
            raise MalformedReply("the Infinity reply has no numeric 'ret'")
        data = body.get("data")
        message = redact(str(body.get("msg") or "no message"))
        if ret == TOKEN_EXPIRED:
            raise RenewToken(AuthenticationError(
                f"Infinity refused a freshly issued token (ret 600): {message}"),
                "the token is invalid (ret 600)")
        if ret in ACCOUNT_REFUSALS:
            cls, code, meaning = ACCOUNT_REFUSALS[ret]
            text = f"Infinity refused the account (ret {ret}, {meaning}): {message}"
            if cls is AuthenticationError:
                raise AuthenticationError(text)
            raise ProviderError(text, code=code, category="forbidden", vendor_code=str(ret))
        if ret != 200:
            category = "transient" if 500 <= ret < 600 else "invalid"
            raise ProviderError(f"Infinity refused the request (ret {ret}): {message}",
                                code="rejected", category=category, vendor_code=str(ret))
        if isinstance(data, dict) and data.get("status", 0) != 0:
            raise _refusal(data)
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


def _refusal(data: dict[str, Any]) -> ProviderError | RenewToken:
    """``ret`` 200 with a non-zero ``data.status``: ``desc`` says what failed, and
    ``data.errors.code`` (when given) why."""
    desc = redact(str(data.get("desc") or "no description"))
    errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
    vendor = str(errors.get("code")) if errors.get("code") not in (None, "") else None
    code, category = ERRORS.get(vendor or "", ("refused", "unknown"))
    detail = f" ({redact(str(errors['codemsg']))})" if errors.get("codemsg") else ""
    error = ProviderError(f"Infinity refused the command: {desc}{detail}", code=code,
                          category=category,  # type: ignore[arg-type]
                          vendor_code=vendor or f"status {data['status']}")
    if vendor == RENEW_TOKEN:
        return RenewToken(error, "extension exception (errors.code 1010)")
    return error


def with_token(request: WireRequest, token: str) -> WireRequest:
    """Multipart form fields with ``token`` right after ``service``, as the seed's sample has."""
    data = dict(request.data or {})
    ordered = {"service": data.pop("service"), "token": token, **data}
    return attrs.evolve(request, data=ordered, multipart=True)

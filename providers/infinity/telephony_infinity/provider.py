"""The Infinity provider: token login, form-data RPC, replies checked as ``ret``/``data.status``.

Sans-IO (plugin API 2): the login, the token on each request and the replies that call for a
new token are declared here; the core runs the session (single flight, renewal at 90% of
``token_lifetime``, one new login and one re-send per operation, logout on close) for the sync
and the async client alike.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import attrs

from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    ProviderError,
    TransportError,
)
from telephony_core.events import parse_body
from telephony_core.redaction import redact
from telephony_core.results import Ack, CallRef, Event
from telephony_core.wire import HttpProvider, MalformedReply, Route, Token, WireReply, WireRequest

from .translate import dial_fields, event_from_callback, monitor_steps, play_voice_fields

__all__ = ["InfinityProvider"]

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
LOGIN, LOGOUT = "App.Sip_Auth.Login", "App.Sip_Auth.Logout"


def _rpc(fields_of):
    return lambda self, payload: WireRequest("POST", "/", data=fields_of(payload))


def _acknowledged(self: InfinityProvider, data: Any, payload: dict[str, Any]) -> CallRef:
    return CallRef(self.name, None, raw=data)


def monitor(self: InfinityProvider, payload: dict[str, Any]) -> Generator[
        WireRequest, WireReply, Ack]:
    """listen: SpyCall 1. whisper: SpyCall 1, then 2 (Infinity switches an ongoing listen to
    whisper; it has no request that starts one). When the switch fails the error says the
    supervisor is listening."""
    first, *switch = monitor_steps(payload)
    data = self.decode((yield WireRequest("POST", "/", data=first)), None)
    if not switch:
        return Ack(self.name, raw=data)
    try:
        # a ProviderError here is Infinity refusing the switch, or (when the token had to be
        # renewed first) the new login failing: either way the switch did not happen
        data = self.decode((yield WireRequest("POST", "/", data=switch[0])), None)
    except TransportError as exc:  # failed to send, or an unreadable reply (MalformedReply)
        if exc.request_sent:
            raise OutcomeUnknown(
                "the supervisor is listening; the switch to whisper (SpyCall monitortype 2) "
                f"may or may not have happened: {exc.message}") from None
        raise ProviderError(
            "the supervisor is listening, but the switch to whisper (SpyCall monitortype 2) "
            f"could not be sent: {exc.message}", code="whisper_not_switched",
            category="unknown") from None
    except ProviderError as exc:
        raise ProviderError(
            f"the supervisor is listening, but Infinity refused to switch to whisper "
            f"(SpyCall monitortype 2): {exc.message}", code=exc.code,
            category=exc.category, vendor_code=exc.vendor_code) from None
    return Ack(self.name, raw=data)


class InfinityProvider(HttpProvider):
    routes = {
        "play_prompt": Route(_rpc(play_voice_fields), _acknowledged),
        "dial": Route(_rpc(dial_fields), _acknowledged),
        "monitor": monitor,
    }

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self.token_lifetime = float(config.get("token_lifetime", 43200))
        #: renewed at 90% of its lifetime (the core renews ``renew_margin`` s before expiry)
        self.renew_margin = 0.1 * self.token_lifetime

    # -- the session (run by the core) -------------------------------------------------------

    def login(self) -> Generator[WireRequest, WireReply, Token]:
        """INF-doc "Obtain authorization token interface": the token at data.result.token."""
        reply = yield WireRequest("POST", "/", multipart=True, data={
            "service": LOGIN, "appid": self.config["appid"],
            "accesskey": self.config.secret("accesskey")})
        try:
            data = self.decode(reply, None)
        except ProviderError as exc:
            # 603/604 (the licence or the address, not the key) and server failures (5xx,
            # errors.code 1001) are not a refusal of the credentials
            if exc.category in ("forbidden", "transient"):
                raise
            raise AuthenticationError(f"login refused: {exc.message}") from None
        except AuthenticationError as exc:
            raise AuthenticationError(f"login refused: {exc.message}") from None
        result = data.get("result") if isinstance(data, dict) else None
        token = result.get("token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("login answered without a token at data.result.token")
        return Token(token, expires_in=self.token_lifetime)

    def attach(self, request: WireRequest, token: Token) -> WireRequest:
        return with_token(request, token.value)

    def token_is_dead(self, reply: WireReply) -> bool:
        """``ret`` 600, or ``ret`` 200 with ``data.status`` non-zero and ``data.errors.code``
        1010. Both are refusals read from a complete reply (no server failure: HTTP < 500): the
        platform did not act on the request, so one new login and one re-send cannot repeat
        anything, even for a dial. Anything unreadable is not a dead token (decode says what
        it is)."""
        if reply.status >= 500:
            return False
        try:
            body = reply.json()
        except MalformedReply:
            return False
        if not isinstance(body, dict):
            return False
        ret = body.get("ret")
        if isinstance(ret, bool) or not isinstance(ret, int):
            return False
        if ret == TOKEN_EXPIRED:
            return True
        data = body.get("data")
        if ret != 200 or not isinstance(data, dict) or data.get("status", 0) == 0:
            return False
        errors = data.get("errors")
        return isinstance(errors, dict) and str(errors.get("code")) == RENEW_TOKEN

    def logout(self, token: Token) -> WireRequest:
        """INF-doc "Clear the Token interface"."""
        return WireRequest("POST", "/", data={"service": LOGOUT})

    # -- replies -----------------------------------------------------------------------------

    def decode(self, reply: WireReply, op) -> Any:
        """``ret`` first (the platform's status), then ``data.status``/``data.errors``. A ret
        600 or errors.code 1010 reaching here came after a new login (the core re-logs in once
        per operation): it is raised."""
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
            raise AuthenticationError(
                f"Infinity refused a freshly issued token (ret 600): {message}")
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

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        return [event_from_callback(parse_body(body, headers))]


def _refusal(data: dict[str, Any]) -> ProviderError:
    """``ret`` 200 with a non-zero ``data.status``: ``desc`` says what failed, and
    ``data.errors.code`` (when given) why."""
    desc = redact(str(data.get("desc") or "no description"))
    errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
    vendor = str(errors.get("code")) if errors.get("code") not in (None, "") else None
    code, category = ERRORS.get(vendor or "", ("refused", "unknown"))
    detail = f" ({redact(str(errors['codemsg']))})" if errors.get("codemsg") else ""
    return ProviderError(f"Infinity refused the command: {desc}{detail}", code=code,
                         category=category,  # type: ignore[arg-type]
                         vendor_code=vendor or f"status {data['status']}")


def with_token(request: WireRequest, token: str) -> WireRequest:
    """Multipart form fields with ``token`` right after ``service``, as the seed's sample has."""
    data = dict(request.data or {})
    ordered = {"service": data.pop("service"), "token": token, **data}
    return attrs.evolve(request, data=ordered, multipart=True)

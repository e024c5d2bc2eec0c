"""The Yeastar provider: a token session over the core's transport, and the operations.

Session rules (vendors.md): log in with the lowercase MD5 of the API password; the token travels
in the query string; it dies after 30 idle minutes, so a heartbeat goes out before a request when
the session has been idle for ``heartbeat_after`` seconds; errno 20004-20006 cause ONE re-login
shared by all threads (single flight); a failed login is never retried: five failures lock the
client's address out for ten minutes, so after one the provider refuses to log in again until the
client is re-created.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from telephony_core.catalogue import Operation
from telephony_core.errors import (
    AuthenticationError,
    PayloadError,
    PayloadProblem,
    ProviderError,
    TelephonyError,
)
from telephony_core.http import HttpProvider, WireReply, WireRequest
from telephony_core.redaction import get_logger
from telephony_core.results import Ack, CallInfo, CallRef, Event, SmsReceipt

from .errors import TOKEN_ERRNOS, error_for
from .events import events_from_report
from .translate import V0, call_info_fields, first_emoji, query_for, request_for, version_key

__all__ = ["YeastarProvider"]

log = get_logger("telephony_yeastar")


class TokenRejected(Exception):
    """errno 20004-20006: the token is gone; handled here by one re-login."""


class YeastarProvider(HttpProvider):
    default_port = 8088
    #: the clock idle time is measured with (tests replace it)
    monotonic = staticmethod(time.monotonic)

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self._token: str | None = None
        self._login_failure: str | None = None
        self._last_traffic = 0.0
        self._lock = threading.Lock()
        self._password_md5 = hashlib.md5(
            (config.secret("password") or "").encode()).hexdigest()
        self.add_secret(self._password_md5)

    # -- the session -------------------------------------------------------------------------

    def _version(self, introduced: str) -> str:
        """The API version to send: the configured one, unless the endpoint came later."""
        configured = str(self.config.get("api_version") or V0)
        return max(configured, introduced, key=version_key)

    def _post(self, version: str, path: str, body: Mapping[str, Any],
              token: str | None = None) -> dict[str, Any]:
        version = self._version(version)
        params = {"token": token} if token else None
        reply = self.transport.send(WireRequest("POST", f"/api/{version}/{path}", params=params,
                                                json=dict(body)))
        return self._decode(reply)

    def _decode(self, reply: WireReply) -> dict[str, Any]:
        if reply.status >= 500:
            raise ProviderError(f"the PBX failed (HTTP {reply.status})", code="server_error",
                                category="transient", vendor_code=str(reply.status))
        data = reply.json()
        if not isinstance(data, dict) or "status" not in data:
            raise ValueError("the reply has no 'status'")
        if data["status"] == "Success":
            return data
        errno = str(data.get("errno", ""))
        if errno in TOKEN_ERRNOS:
            raise TokenRejected(errno)
        if data.get("action") == "sms-send":
            raise ProviderError("the PBX reports the message failed to send", code="sms_failed",
                                category="unknown", vendor_code=str(data.get("smsid")))
        raise error_for(errno)

    def _login(self) -> str:
        if self._login_failure:
            raise AuthenticationError(
                f"not logging in again after a failed login ({self._login_failure}); five "
                "failures lock this address out for ten minutes. Fix the credentials and create "
                "a new client")
        body = {"username": self.config["username"], "password": self._password_md5,
                "port": str(self.config.get("report_port", 8260)), "version": "1.0.2"}
        if self.config.get("report_url"):
            body["url"] = self.config["report_url"]
        try:
            data = self._post(V0, "login", body)
        except (AuthenticationError, TokenRejected) as exc:
            # only a refusal of the credentials blocks further logins; a network failure
            # during login proved nothing about them
            self._login_failure = exc.message if isinstance(exc, TelephonyError) else str(exc)
            raise AuthenticationError(f"login failed: {self._login_failure}") from None
        token = str(data.get("token") or "")
        if not token:
            raise AuthenticationError("the PBX answered the login without a token")
        self.add_secret(token)
        self._last_traffic = self.monotonic()
        log.info("yeastar: logged in to %s", self.config.get("host"))
        return token

    def _session(self, stale: str | None = None) -> str:
        """A live token: log in if there is none or ``stale`` was just rejected (single flight:
        the threads that saw the same stale token cause one login); heartbeat when idle."""
        with self._lock:
            if self._token is None or self._token == stale:
                self._token = self._login()
            elif self.monotonic() - self._last_traffic >= float(
                    self.config.get("heartbeat_after", 1500)):
                self._heartbeat_locked()
            return self._token

    def _heartbeat_locked(self) -> None:
        try:
            self._post(V0, "heartbeat", {"port": str(self.config.get("report_port", 8260))},
                       token=self._token)
            self._last_traffic = self.monotonic()
        except TokenRejected:
            self._token = self._login()

    def heartbeat(self) -> None:
        """Extend the session by 30 minutes now (call it from a scheduler to keep event reports
        flowing while the application sends no requests)."""
        with self._lock:
            if self._token is None:
                self._token = self._login()
            else:
                self._heartbeat_locked()

    def _call(self, version: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        token = self._session()
        try:
            data = self._post(version, path, body, token)
        except TokenRejected:
            log.info("yeastar: token rejected; logging in again once")
            try:
                data = self._post(version, path, body, self._session(stale=token))
            except TokenRejected as again:
                raise AuthenticationError(f"the PBX rejected a fresh token (errno {again})") \
                    from None
        self._last_traffic = self.monotonic()
        return data

    # -- operations --------------------------------------------------------------------------

    def invoke(self, op: Operation, payload: dict[str, Any]) -> Any:
        if op.name == "list_calls":
            return self._list_calls(payload)
        if op.name == "send_sms":
            index = first_emoji(payload["text"])
            if index is not None:
                raise PayloadError([PayloadProblem(
                    "$.text", f"contains an emoji at position {index}: the PBX sends none; "
                              "expected plain text")])
        data = self._call(*request_for(op.name, payload))
        if op.name == "send_sms":
            return SmsReceipt(self.name, data.get("smsid"), "sent", raw=data)
        if op.result is CallRef:
            call_id = data.get("callid")
            return CallRef(self.name, str(call_id) if call_id is not None else None, raw=data)
        return Ack(self.name, raw=data)

    def _list_calls(self, payload: dict[str, Any]) -> list[CallInfo]:
        directions = [payload["direction"]] if "direction" in payload else ["inbound", "outbound"]
        calls: list[CallInfo] = []
        for direction in directions:
            data = self._call(*query_for(direction, payload.get("ids")))
            for row in data.get(direction) or []:
                calls.append(CallInfo(**call_info_fields(direction, row), raw=row))
        return calls

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        return events_from_report(body)

    def close(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            try:
                self._post(V0, "logout", {}, token=token)
            except (TelephonyError, TokenRejected, ValueError) as exc:
                log.info("yeastar: logout failed: %s", type(exc).__name__)
        super().close()

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
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from telephony_core.catalogue import Operation
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    PayloadError,
    PayloadProblem,
    ProviderError,
    TelephonyError,
)
from telephony_core.http import HttpProvider, WireReply, WireRequest
from telephony_core.redaction import get_logger
from telephony_core.results import Ack, CallInfo, CallRef, Event, SmsReceipt

from .calls import CallMemory, match_outbound
from .errors import TOKEN_ERRNOS, error_for
from .events import events_from_report
from .extras import ExtensionInfo, check_recording_name, extension_info
from .translate import V0, V1, call_info_fields, first_emoji, query_for, request_for, version_key

__all__ = ["YeastarProvider"]

log = get_logger("telephony_yeastar")


class TokenRejected(Exception):
    """errno 20004-20006: the token is gone; handled here by one re-login."""


def _check_report_url(url: Any) -> None:
    """``report_url`` must be a full http(s) URL: a bare host would make the PBX post reports
    nowhere the application listens, silently."""
    if url in (None, ""):
        return
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "yeastar: report_url must be a full URL such as http://203.0.113.5:8260/reports "
            "(scheme, host, optional port and path); got a value without "
            + ("a scheme" if parts.scheme not in ("http", "https") else "a host"))
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigurationError("yeastar: report_url has an invalid port; expected 1-65535") \
            from None


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
        #: what this client learnt about calls from its dials and the reports it parsed
        self._calls = CallMemory()
        _check_report_url(config.get("report_url"))
        if config.get("report_url"):  # a token in the report URL is a secret like any other
            parts = urlsplit(str(config["report_url"]))
            for secret in (parts.query, parts.password):
                if secret:
                    self.add_secret(secret)

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
        if data.get("action") == "sms-send":
            # send-text-messages-through-a-gsm-trunk.md shows this body as the reply; the help
            # site (vendor-fidelity.md Y25) as a later report. As a reply: Succeed = sent.
            if data["status"] in ("Succeed", "Success"):
                return data
            raise ProviderError("the PBX reports the message failed to send", code="sms_failed",
                                category="unknown", vendor_code=str(data.get("smsid")))
        if data["status"] == "Success":
            return data
        errno = str(data.get("errno", ""))
        if errno in TOKEN_ERRNOS:
            raise TokenRejected(errno)
        raise error_for(errno)

    def _login(self) -> str:
        if self._login_failure:
            raise AuthenticationError(
                f"not logging in again after a failed login ({self._login_failure}); five "
                "failures lock this address out for ten minutes. Fix the credentials and create "
                "a new client")
        body = {"username": self.config["username"], "password": self._password_md5,
                "port": self._report_port(), "version": "1.0.2", **self._report_target()}
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

    def _report_port(self) -> str:
        """The port the PBX reports to: the report URL's when one is set, else ``report_port``."""
        url = self.config.get("report_url")
        if url:
            parts = urlsplit(str(url))
            return str(parts.port or (443 if parts.scheme == "https" else 80))
        return str(self.config.get("report_port", 8260))

    def _report_target(self) -> dict[str, str]:
        """``url`` and ``urltag`` for a full report URL.

        api_authentication.md gives ``url`` as "the sending path"; the vendor's v1 help site
        (api/api_login.html, vendor-fidelity.md Y6) says it is a path appended to the
        application server's IP:port unless ``urltag`` is "1", when it is an absolute address
        written without a scheme. ``report_url`` is a full URL, so it goes out with urltag 1.
        """
        url = self.config.get("report_url")
        if not url:
            return {}
        parts = urlsplit(str(url))
        return {"url": f"{parts.netloc}{parts.path or '/'}"
                       + (f"?{parts.query}" if parts.query else ""), "urltag": "1"}

    def _report_ip(self) -> str:
        """The heartbeat's ``ipaddr`` (required by api_authentication.md): the ``report_ip``
        option, else the local address this host uses to reach the PBX (a UDP socket's
        source address: no packet is sent), else 127.0.0.1."""
        if self.config.get("report_ip"):
            return str(self.config["report_ip"])
        host = str(self.config.get("host") or "127.0.0.1")
        port = int(self.config.get("port") or self.default_port)
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                               socket.SOCK_DGRAM) as probe:
                probe.connect((host, port))
                return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"

    def _heartbeat_locked(self) -> None:
        body = {"ipaddr": self._report_ip(), "port": self._report_port(),
                **self._report_target()}
        try:
            self._post(V0, "heartbeat", body, token=self._token)
            self._last_traffic = self.monotonic()
        except TokenRejected:
            self._token = self._login()
        except ProviderError as exc:
            # 20011 (heartbeat configuration failed) or a refusal of the body: the session is
            # still good; log in again so the token (and the report target) are renewed
            log.info("yeastar: heartbeat refused (errno %s); logging in again", exc.vendor_code)
            self._token = self._login()

    def heartbeat(self) -> None:
        """Extend the session by 30 minutes now (call it from a scheduler to keep event reports
        flowing while the application sends no requests)."""
        with self._lock:
            if self._token is None:
                self._token = self._login()
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
        resolved = self._resolved(op.name, payload)
        data = self._call(*request_for(op.name, resolved))
        if op.name == "hangup" and str(payload.get("call", "")).startswith("call:"):
            self._calls.forget(payload["call"].split(":", 1)[1])
        if op.name == "send_sms":
            # {"status": "Success", "smsid"} only says the PBX accepted the message; the
            # result follows as an sms-send report (sms.status event). A synchronous
            # {"action": "sms-send", "status": "Succeed"} says it was sent.
            status = "sent" if data.get("action") == "sms-send" else "queued"
            return SmsReceipt(self.name, data.get("smsid"), status, raw=data)
        if op.result is CallRef:
            call_id = data.get("callid")
            if op.name in ("dial", "play_prompt") and call_id is not None:
                self._calls.learn_dial(str(call_id), payload)
            return CallRef(self.name, str(call_id) if call_id is not None else None, raw=data)
        return Ack(self.name, raw=data)

    # -- one call id for everything ------------------------------------------------------------

    def _outbound_row(self, call_id: str,
                      rows: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """The outbound leg of ``call_id`` from outbound/query (every outbound call).

        The outbound leg has an id of its own (calls.py); :func:`match_outbound` says how the
        row is chosen."""
        if rows is None:
            rows = self._outbound_rows()
        row = match_outbound(call_id, rows, self._calls.facts(call_id))
        if row is not None and str(row["outboundid"]) != call_id:
            # found once, known from now on (a transfer may change the row's parties)
            self._calls.remember(call_id, outbound_id=str(row["outboundid"]))
        return row

    def _outbound_rows(self) -> list[dict[str, Any]]:
        """Every outbound call (outbound/query without an id)."""
        return [r for r in self._call(*query_for("outbound", None)).get("outbound") or []
                if isinstance(r, dict) and r.get("outboundid") is not None]

    def _inbound_row(self, call_id: str) -> dict[str, Any] | None:
        """inbound/query for ``call_id`` (an inbound call's callid is its inboundid:
        inbound-call-request.md); None when the PBX knows no such inbound call."""
        try:
            data = self._call(*query_for("inbound", [f"call:{call_id}"]))
        except ProviderError as exc:
            if exc.category == "not_found":
                return None
            raise
        rows = [r for r in data.get("inbound") or [] if isinstance(r, dict)]
        return next((r for r in rows if str(r.get("inboundid")) == call_id), None)

    def _not_found(self, call_id: str, what: str) -> ProviderError:
        return ProviderError(
            f"Yeastar: call {call_id} is not {what} (neither outbound/query nor inbound/query "
            "lists it; an internal call is known only from this client's dial or a report it "
            "parsed: pass ext:N)", code="call_not_found", category="not_found")

    def _extension_of(self, call_id: str, leg: str | None) -> str:
        """The extension to act on in call ``call_id``: the caller of an internal call this
        client dialled; an outbound call's extension (its query row's ``from``); an inbound
        call's answering extension (its query row's ``callee``)."""
        known = self._calls.facts(call_id)
        if leg != "inbound" and known.get("internal") and known.get("ext"):
            return known["ext"]
        if leg != "inbound":
            row = self._outbound_row(call_id)
            if row is not None:
                return f"ext:{row.get('from')}"
        if leg != "outbound":
            row = self._inbound_row(call_id)
            callees = row.get("callee") if row else None
            if isinstance(callees, list):
                ext = next((c.get("extid") for c in callees
                            if isinstance(c, dict) and c.get("extid")), None)
                if ext:
                    return f"ext:{ext}"
            if row is not None:
                raise ProviderError(f"Yeastar: inbound call {call_id} has no extension yet "
                                    "(its callee is not an extension)", code="call_not_found",
                                    category="not_found")
        raise self._not_found(call_id, "a live call with an extension")

    def _leg_of(self, call_id: str, leg: str | None) -> tuple[str, str]:
        """(inbound|outbound, the leg's own id) for hangup and transfer by call id."""
        if leg == "inbound":
            return "inbound", call_id
        row = self._outbound_row(call_id)
        if row is not None:
            return "outbound", str(row["outboundid"])
        if leg == "outbound":
            raise self._not_found(call_id, "a live outbound call")
        return "inbound", call_id

    def _resolved(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with a ``call:ID`` turned into what the endpoint takes."""
        call = payload.get("call")
        if not isinstance(call, str) or not call.startswith("call:") or operation in (
                "accept_call", "reject_call"):
            return payload
        call_id, leg = call.split(":", 1)[1], payload.get("leg")
        out = {k: v for k, v in payload.items() if k != "leg"}
        if operation in ("hold", "unhold", "mute", "unmute", "monitor"):
            out["call"] = self._extension_of(call_id, leg)
        elif operation == "hangup":
            known = self._calls.facts(call_id)
            if leg != "inbound" and known.get("internal") and known.get("ext"):
                out["call"] = known["ext"]
            else:
                out["leg"], leg_id = self._leg_of(call_id, leg)
                out["call"] = f"call:{leg_id}"
        elif operation == "transfer":
            out["leg"], leg_id = self._leg_of(call_id, leg)
            out["call"] = f"call:{leg_id}"
        return out

    def _list_calls(self, payload: dict[str, Any]) -> list[CallInfo]:
        """inbound/query and outbound/query. ``ids`` are the PBX's leg ids, as list_calls gives
        them; an outbound call's callid (from dial or an event) that the query does not know is
        looked up among every outbound call, as the other operations do."""
        directions = [payload["direction"]] if "direction" in payload else ["inbound", "outbound"]
        ids = payload.get("ids")
        calls: list[CallInfo] = []
        found: set[str] = set()
        for direction in directions:
            try:
                data = self._call(*query_for(direction, ids))
            except ProviderError as exc:
                if not ids or exc.category != "not_found":
                    raise
                data = {}  # a PBX may refuse an id it does not know instead of listing none
            for row in data.get(direction) or []:
                if isinstance(row, dict) and row.get(f"{direction}id") is not None:
                    calls.append(CallInfo(**call_info_fields(direction, row), raw=row))
                    found.add(str(row[f"{direction}id"]))
        missing = [i.split(":", 1)[1] for i in ids or () if i.split(":", 1)[1] not in found]
        if missing and "outbound" in directions:
            rows = self._outbound_rows()
            for call_id in missing:
                row = self._outbound_row(call_id, rows)
                if row is not None and str(row["outboundid"]) not in found:
                    calls.append(CallInfo(**call_info_fields("outbound", row), raw=row))
                    found.add(str(row["outboundid"]))
        return calls

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> list[Event]:
        events = events_from_report(body)
        for event in events:
            self._calls.learn_event(event)
        return events

    # -- provider extras (documented in the provider page; not catalogue operations) ---------

    def list_extensions(self) -> list[ExtensionInfo]:
        """Every extension with its status (``extensionlist/query``, query-extension-list.md).

        ``extension/query`` is not used: its reply carries registration and voicemail
        passwords in plain text (query-one-or-more-extensions.md)."""
        data = self._call(V0, "extensionlist/query", {})
        return [extension_info(row) for row in data.get("extlist") or []
                if isinstance(row, dict) and row.get("extnumber") is not None]

    def download_recording(self, recording: str) -> bytes:
        """A call recording named by a NewCdr report's ``recording`` (cdr.md), fetched as the
        guide says (download-a-call-recording-file.md): ``recording/get_random``, then
        ``recording/download?recording=..&random=..&token=..``. The random string is valid for
        30 seconds and once: neither step is retried. The reply size cap
        (``max_reply_bytes``) applies to the file."""
        name = check_recording_name(recording)
        data = self._call(V1, "recording/get_random", {"recording": name})
        random = str(data.get("random") or "")
        if not random:
            raise ProviderError("Yeastar answered recording/get_random without a random "
                                "string", code="malformed_reply", category="transient")
        self.add_secret(random)
        reply = self.transport.send(WireRequest(
            "GET", f"/api/{self._version(V1)}/recording/download",
            params={"recording": name, "random": random, "token": self._token}))
        self._last_traffic = self.monotonic()
        ctype = {k.lower(): v for k, v in reply.headers.items()}.get("content-type", "")
        if reply.status >= 400 or "json" in ctype.lower():
            try:
                self._decode(reply)  # a {"status": "Failed", "errno"} refusal raises its error
            except TokenRejected as exc:
                raise AuthenticationError(f"the PBX rejected the token (errno {exc})") from None
            except ValueError:
                pass
            raise ProviderError(f"Yeastar did not send the recording (HTTP {reply.status})",
                                code="recording_not_sent", category="transient",
                                vendor_code=str(reply.status))
        return reply.body

    def close(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            try:
                self._post(V0, "logout", {}, token=token)
            except (TelephonyError, TokenRejected, ValueError) as exc:
                log.info("yeastar: logout failed: %s", type(exc).__name__)
        super().close()

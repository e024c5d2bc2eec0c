"""The Yeastar provider (plugin API 2): sans-IO operations and a session the core runs.

Session rules (api_authentication.md, vendors.md): log in with the lowercase MD5 of the API
password; the token travels in the query string; it dies after 30 idle minutes, so the core sends
a heartbeat every ``heartbeat_after`` seconds (default 1500) while it holds a token; errno
20004-20006 prove a request was refused, so the core logs in again once (single flight across
threads and tasks) and re-sends it; a refused login is not retried (the core waits 60 s; five
refusals lock the client's address out for ten minutes); the core logs out on close.

Nothing here sends or imports an HTTP library: the client's driver does the I/O.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import urlsplit

from telephony_core.catalogue import Operation, operation
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    PayloadError,
    PayloadProblem,
    ProviderError,
)
from telephony_core.redaction import get_logger
from telephony_core.results import Ack, CallInfo, CallRef, Event, SmsReceipt
from telephony_core.wire import HttpProvider, OneRequest, Token, WireReply, WireRequest

from .calls import CallMemory, match_outbound
from .errors import TOKEN_ERRNOS, error_for
from .events import events_from_report
from .extras import ExtensionInfo, check_recording_name, extension_info
from .spec import SPEC
from .translate import V0, V1, call_info_fields, first_emoji, query_for, request_for, version_key

__all__ = ["YeastarProvider"]

log = get_logger("telephony_yeastar")


#: replies that prove the request was refused and the session is gone (token_is_dead)
DEAD_TOKEN_ERRNOS = TOKEN_ERRNOS


def _check_report_url(url: Any) -> None:
    """``report_url`` must be a full http(s) URL: a bare host would make the PBX post reports
    nowhere the application listens, silently. (``webhook_url`` is checked by the core.)"""
    if url in (None, ""):
        return
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "yeastar: report_url must be a full URL such as http://203.0.113.5:8260/reports "
            "(scheme, host, optional port and path); got a value without "
            + ("a scheme" if parts.scheme not in ("http", "https") else "a host"),
            key="report_url", provider="yeastar")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigurationError("yeastar: report_url has an invalid port; expected 1-65535",
                                 key="report_url", provider="yeastar") from None


def _report_url(config: Mapping[str, Any]) -> str | None:
    """Where the PBX posts reports: ``webhook_url`` (the option every provider that can say
    where its events go shares), or ``report_url``, its older name here. Both given and
    different is a ConfigurationError naming both (never their values: a URL may hold a
    token)."""
    webhook, older = config.get("webhook_url") or None, config.get("report_url") or None
    if webhook and older and str(webhook) != str(older):
        raise ConfigurationError(
            "yeastar: options 'webhook_url' and 'report_url' are both given and differ; they "
            "are one setting (where the PBX posts its reports; report_url is the older name): "
            "give webhook_url only", key="webhook_url", provider="yeastar")
    _check_report_url(older)
    url = webhook or older
    return str(url) if url else None


def _exchange(name: str) -> Any:
    """The route of catalogue operation ``name``: it declares the operation (the kit reads the
    routes); it and the client both go to :meth:`YeastarProvider.exchange`."""
    definition = operation(name)

    def run(provider: YeastarProvider, payload: dict[str, Any]
            ) -> Generator[WireRequest, WireReply, Any] | OneRequest:
        return provider.exchange(definition, payload)
    run.__name__ = f"yeastar_{name}"
    return run


def _calls_in(direction: str, data: dict[str, Any]) -> list[CallInfo]:
    """The calls of an inbound/query or outbound/query reply (rows without an id skipped)."""
    return [CallInfo(**call_info_fields(direction, row), raw=row)
            for row in data.get(direction) or []
            if isinstance(row, dict) and row.get(f"{direction}id") is not None]


class YeastarProvider(HttpProvider):
    routes = {name: _exchange(name) for name in SPEC.operations}
    default_port = 8088
    keepalive_every = 1500.0

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self.keepalive_every = float(config.get("heartbeat_after", 1500))
        self._password_md5 = hashlib.md5(
            (config.secret("password") or "").encode()).hexdigest()
        self.add_secret(self._password_md5)
        #: what this client learnt about calls from its dials and the reports it parsed
        self._calls = CallMemory()
        #: the version each endpoint is sent with, by the version that introduced it
        self._versions: dict[str, str] = {}
        #: where the PBX posts reports (webhook_url, or its older name report_url)
        self.report_url = _report_url(config)
        if self.report_url:  # a token in the report URL is a secret like any other
            parts = urlsplit(self.report_url)
            for secret in (parts.query, parts.password):
                if secret:
                    self.add_secret(secret)

    # -- the session (declared here, run by the core: telephony_core.session) ----------------

    def _version(self, introduced: str) -> str:
        """The API version to send: the configured one, unless the endpoint came later."""
        found = self._versions.get(introduced)
        if found is None:  # once per endpoint version: this runs for every request
            configured = str(self.config.get("api_version") or V0)
            found = self._versions[introduced] = max(configured, introduced, key=version_key)
        return found

    def _request(self, version: str, path: str, body: Mapping[str, Any]) -> WireRequest:
        sent_as = self._versions.get(version) or self._version(version)
        return WireRequest("POST", f"/api/{sent_as}/{path}", json=dict(body))

    def _call(self, version: str, path: str,
              body: Mapping[str, Any]) -> Generator[WireRequest, WireReply, dict[str, Any]]:
        """One request of an exchange (the core attaches the token), decoded."""
        reply = yield self._request(version, path, body)
        return self._decode(reply)

    def decode(self, reply: WireReply, op: Operation | None) -> dict[str, Any]:
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
        # 20004-20006 reach here only when a fresh token was refused too (the core re-logs in
        # once per operation): error_for makes them an AuthenticationError
        raise error_for(str(data.get("errno", "")))

    def login(self) -> Generator[WireRequest, WireReply, Token]:
        """api_authentication.md: the lowercase MD5 of the password, and where reports go. A
        refusal (20002 locked out, 20003 bad credentials) is an AuthenticationError, which the
        core never retries on its own: five refusals lock this address out for ten minutes."""
        body = {"username": self.config["username"], "password": self._password_md5,
                "port": self._report_port(), **self._report_version(),
                **self._report_target()}
        reply = yield self._request(V0, "login", body)
        try:
            data = self._decode(reply)
        except AuthenticationError as exc:
            raise AuthenticationError(f"login failed: {exc.message}") from None
        token = str(data.get("token") or "")
        if not token:
            raise AuthenticationError("the PBX answered the login without a token")
        log.info("yeastar: logged in to %s", self.config.get("host"))
        return Token(token)

    def _report_version(self) -> dict[str, str]:
        """The login's ``version``: "1.0.2" asks for the parties of each report in a ``"call"``
        list (the vendor's v1 help site, vendor-fidelity.md Y31); without it (``report_format``
        legacy) the PBX sends the guide's older shape. parse_event reads both."""
        return {} if self.config.get("report_format") == "legacy" else {"version": "1.0.2"}

    def attach(self, request: WireRequest, token: Token) -> WireRequest:
        """The token travels in the query string (api_authentication.md)."""
        return request.with_params(token=token.value)

    def token_is_dead(self, reply: WireReply) -> bool:
        """errno 20004 (no such token), 20005 (blank) or 20006 (timed out) prove the request
        was refused, not acted on. A heartbeat refused otherwise (20011, heartbeat
        configuration failed) also drops the token: the core drops it for any keepalive reply
        ``decode`` refuses, so the next operation logs in (Y8)."""
        if reply.status != 200 or not reply.body.lstrip().startswith(b"{"):
            return False  # a recording's audio, or an HTTP failure: not about the token
        if b"Failed" not in reply.body:
            return False  # every reply is read here first: most succeed, so no JSON parse
        try:
            data = json.loads(reply.body)
        except ValueError:
            return False
        return (isinstance(data, dict) and data.get("status") == "Failed"
                and str(data.get("errno")) in DEAD_TOKEN_ERRNOS)

    def keepalive(self, token: Token) -> WireRequest:
        """The heartbeat (api_authentication.md): a token dies after 30 idle minutes, so the
        core sends this every ``heartbeat_after`` seconds (default 1500) while it holds one."""
        return self._heartbeat_request()

    def _heartbeat_request(self) -> WireRequest:
        return self._request(V0, "heartbeat", {"ipaddr": self._report_ip(),
                                               "port": self._report_port(),
                                               **self._report_target()})

    def logout(self, token: Token) -> WireRequest:
        return self._request(V0, "logout", {})

    def _report_port(self) -> str:
        """The port the PBX reports to: the report URL's when one is set, else ``report_port``."""
        url = self.report_url
        if url:
            parts = urlsplit(url)
            return str(parts.port or (443 if parts.scheme == "https" else 80))
        return str(self.config.get("report_port", 8260))

    def _report_target(self) -> dict[str, str]:
        """``url`` and ``urltag`` for a full report URL.

        api_authentication.md gives ``url`` as "the sending path"; the vendor's v1 help site
        (api/api_login.html, vendor-fidelity.md Y6) says it is a path appended to the
        application server's IP:port unless ``urltag`` is "1", when it is an absolute address
        written without a scheme. ``webhook_url`` (or ``report_url``) is a full URL, so it goes
        out with urltag 1.
        """
        url = self.report_url
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

    def _run(self, exchange: Generator[WireRequest, WireReply, Any]) -> Any:
        """Drive an extra's exchange through the client that made this provider (its driver
        and session): the result on the sync client, an awaitable on the async one."""
        if self.runner is None:
            raise ConfigurationError("yeastar: this provider was not made by a client; use "
                                     "telephony_core.connect(...).provider")
        return self.runner(exchange)

    def heartbeat(self) -> Any:
        """Extend the session by 30 minutes now (the core already sends one every
        ``heartbeat_after`` seconds while it holds a token)."""
        return self._run(self._heartbeat())

    def _heartbeat(self) -> Generator[WireRequest, WireReply, None]:
        reply = yield self._heartbeat_request()
        self._decode(reply)

    # -- operations --------------------------------------------------------------------------

    def exchange(self, op: Operation, payload: dict[str, Any]
                 ) -> Generator[WireRequest, WireReply, Any] | OneRequest:
        """Every operation is one request, or (by call id) the query that finds the extension
        or leg, then the command; the one-request case is a :class:`OneRequest`, which the
        core sends without stepping a generator."""
        if op.name == "list_calls":
            return self._list_calls(payload)
        if op.name == "send_sms":
            index = first_emoji(payload["text"])
            if index is not None:
                raise PayloadError([PayloadProblem(
                    "$.text", f"contains an emoji at position {index}: the PBX sends none; "
                              "expected plain text")])
        # a call named by ``call:ID``, which the endpoint does not take (it takes an extension
        # or a leg's own id), is looked up first; accepting or refusing an offered call takes
        # the call id itself
        call = payload.get("call")
        if (isinstance(call, str) and call.startswith("call:")
                and op.name not in ("accept_call", "reject_call")):
            return self._looked_up(op, payload)

        def read(reply: WireReply) -> Any:
            return self._result(op, payload, self._decode(reply))

        return OneRequest(self._request(*request_for(op.name, payload)), read)

    def _looked_up(self, op: Operation, payload: dict[str, Any]
                   ) -> Generator[WireRequest, WireReply, Any]:
        """An operation on a ``call:ID``: find what the endpoint takes, then the command."""
        resolved = yield from self._resolved(op.name, payload)
        data = yield from self._call(*request_for(op.name, resolved))
        return self._result(op, payload, data)

    def _result(self, op: Operation, payload: dict[str, Any], data: dict[str, Any]) -> Any:
        """The canonical result of the command's decoded reply."""
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
                      rows: list[dict[str, Any]] | None = None
                      ) -> Generator[WireRequest, WireReply, dict[str, Any] | None]:
        """The outbound leg of ``call_id`` from outbound/query (every outbound call).

        The outbound leg has an id of its own (calls.py); :func:`match_outbound` says how the
        row is chosen."""
        if rows is None:
            rows = yield from self._outbound_rows()
        row = match_outbound(call_id, rows, self._calls.facts(call_id))
        if row is not None and str(row["outboundid"]) != call_id:
            # found once, known from now on (a transfer may change the row's parties)
            self._calls.remember(call_id, outbound_id=str(row["outboundid"]))
        return row

    def _outbound_rows(self) -> Generator[WireRequest, WireReply, list[dict[str, Any]]]:
        """Every outbound call (outbound/query without an id)."""
        data = yield from self._call(*query_for("outbound", None))
        return [r for r in data.get("outbound") or []
                if isinstance(r, dict) and r.get("outboundid") is not None]

    def _inbound_row(self, call_id: str
                     ) -> Generator[WireRequest, WireReply, dict[str, Any] | None]:
        """inbound/query for ``call_id`` (an inbound call's callid is its inboundid:
        inbound-call-request.md); None when the PBX knows no such inbound call."""
        try:
            data = yield from self._call(*query_for("inbound", [f"call:{call_id}"]))
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

    def _extension_of(self, call_id: str,
                      leg: str | None) -> Generator[WireRequest, WireReply, str]:
        """The extension to act on in call ``call_id``: the caller of an internal call this
        client dialled; an outbound call's extension (its query row's ``from``); an inbound
        call's answering extension (its query row's ``callee``)."""
        known = self._calls.facts(call_id)
        if leg != "inbound" and known.get("internal") and known.get("ext"):
            return known["ext"]
        if leg != "inbound":
            row = yield from self._outbound_row(call_id)
            if row is not None:
                return f"ext:{row.get('from')}"
        if leg != "outbound":
            row = yield from self._inbound_row(call_id)
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

    def _leg_of(self, call_id: str,
                leg: str | None) -> Generator[WireRequest, WireReply, tuple[str, str]]:
        """(inbound|outbound, the leg's own id) for hangup and transfer by call id."""
        if leg == "inbound":
            return "inbound", call_id
        row = yield from self._outbound_row(call_id)
        if row is not None:
            return "outbound", str(row["outboundid"])
        if leg == "outbound":
            raise self._not_found(call_id, "a live outbound call")
        return "inbound", call_id

    def _resolved(self, operation: str, payload: dict[str, Any]
                  ) -> Generator[WireRequest, WireReply, dict[str, Any]]:
        """``payload`` with its ``call:ID`` turned into what the endpoint takes."""
        call = payload["call"]
        call_id, leg = call.split(":", 1)[1], payload.get("leg")
        out = {k: v for k, v in payload.items() if k != "leg"}
        if operation in ("hold", "unhold", "mute", "unmute", "monitor"):
            out["call"] = yield from self._extension_of(call_id, leg)
        elif operation == "hangup":
            known = self._calls.facts(call_id)
            if leg != "inbound" and known.get("internal") and known.get("ext"):
                out["call"] = known["ext"]
            else:
                out["leg"], leg_id = yield from self._leg_of(call_id, leg)
                out["call"] = f"call:{leg_id}"
        elif operation == "transfer":
            out["leg"], leg_id = yield from self._leg_of(call_id, leg)
            out["call"] = f"call:{leg_id}"
        return out

    def _list_calls(self, payload: dict[str, Any]
                    ) -> Generator[WireRequest, WireReply, list[CallInfo]] | OneRequest:
        """One direction and no ids is one query; otherwise :meth:`_list_calls_queried`."""
        direction = payload.get("direction")
        if direction is None or payload.get("ids"):
            return self._list_calls_queried(payload)

        def read(reply: WireReply) -> list[CallInfo]:
            return _calls_in(direction, self._decode(reply))

        return OneRequest(self._request(*query_for(direction, None)), read)

    def _list_calls_queried(self, payload: dict[str, Any]
                            ) -> Generator[WireRequest, WireReply, list[CallInfo]]:
        """inbound/query and outbound/query. ``ids`` are the PBX's leg ids, as list_calls gives
        them; an outbound call's callid (from dial or an event) that the query does not know is
        looked up among every outbound call, as the other operations do."""
        directions = [payload["direction"]] if "direction" in payload else ["inbound", "outbound"]
        ids = payload.get("ids")
        calls: list[CallInfo] = []
        found: set[str] = set()
        for direction in directions:
            try:
                data = yield from self._call(*query_for(direction, ids))
            except ProviderError as exc:
                if not ids or exc.category != "not_found":
                    raise
                data = {}  # a PBX may refuse an id it does not know instead of listing none
            for info in _calls_in(direction, data):
                calls.append(info)
                found.add(info.call_id)
        missing = [i.split(":", 1)[1] for i in ids or () if i.split(":", 1)[1] not in found]
        if missing and "outbound" in directions:
            rows = yield from self._outbound_rows()
            for call_id in missing:
                row = yield from self._outbound_row(call_id, rows)
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

    def list_extensions(self) -> Any:
        """Every extension with its status (``extensionlist/query``, query-extension-list.md).

        ``extension/query`` is not used: its reply carries registration and voicemail
        passwords in plain text (query-one-or-more-extensions.md). On the async client, await
        the result."""
        return self._run(self._list_extensions())

    def _list_extensions(self) -> Generator[WireRequest, WireReply, list[ExtensionInfo]]:
        data = yield from self._call(V0, "extensionlist/query", {})
        return [extension_info(row) for row in data.get("extlist") or []
                if isinstance(row, dict) and row.get("extnumber") is not None]

    def download_recording(self, recording: str) -> Any:
        """A call recording named by a NewCdr report's ``recording`` (cdr.md), fetched as the
        guide says (download-a-call-recording-file.md): ``recording/get_random``, then
        ``recording/download?recording=..&random=..&token=..``. The random string is valid for
        30 seconds and once: neither step is retried. The reply size cap
        (``max_reply_bytes``) applies to the file. On the async client, await the result."""
        name = check_recording_name(recording)
        return self._run(self._download_recording(name))

    def _download_recording(self, name: str) -> Generator[WireRequest, WireReply, bytes]:
        data = yield from self._call(V1, "recording/get_random", {"recording": name})
        random = str(data.get("random") or "")
        if not random:
            raise ProviderError("Yeastar answered recording/get_random without a random "
                                "string", code="malformed_reply", category="transient")
        self.add_secret(random)
        reply = yield WireRequest("GET", f"/api/{self._version(V1)}/recording/download",
                                  params={"recording": name, "random": random})
        ctype = reply.header("content-type", "") or ""
        if reply.status >= 400 or "json" in ctype.lower():
            with contextlib.suppress(ValueError):
                self._decode(reply)  # a {"status": "Failed", "errno"} refusal raises its error
            raise ProviderError(f"Yeastar did not send the recording (HTTP {reply.status})",
                                code="recording_not_sent", category="transient",
                                vendor_code=str(reply.status))
        return reply.body

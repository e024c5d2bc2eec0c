"""The Twilio provider: REST API 2010-04-01 with inline TwiML, conference mode, signed callbacks.

Every request is form-encoded and authenticated with HTTP Basic (Account SID + Auth Token, or
API key SID + secret); the encoded header is registered as a secret so it is masked everywhere.
Creating a Call, a Participant or a Message has no idempotency key at Twilio, so those
operations are sent once and a lost answer ends in OutcomeUnknown (the core's retry policy, by
operation kind); this module never re-sends anything.

Plugin API 2 (sans-IO, docs/provider-contract.md): the provider builds requests and reads
replies; the client's driver sends them, so the same provider serves ``connect`` (requests) and
``connect_async`` (httpx). One-request operations are Routes; the dial, list_calls (pages) and
the conference operations (find the conference, then act on the participant) are Exchanges.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Generator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from telephony_core.catalogue import Operation
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    EventError,
    PayloadError,
    PayloadProblem,
    ProviderError,
    RateLimited,
    SignatureError,
    TelephonyError,
    TransportError,
)
from telephony_core.redaction import SECRETS, get_logger, redact
from telephony_core.results import Ack, CallRef, Event, SmsReceipt
from telephony_core.webhook_url import check_webhook_url, url_secrets
from telephony_core.wire import (
    HttpProvider,
    MalformedReply,
    Route,
    WireReply,
    WireRequest,
    rate_limited,
)

from .signature import body_hash_ok, signature_ok
from .translate import (
    call_id,
    call_info,
    conference_twiml,
    dial_twiml,
    event_from_callback,
    play_twiml,
    split_call_id,
    wire_address,
)

__all__ = ["URL_HEADER", "TwilioProvider"]

log = get_logger("telephony_twilio")

#: The key an application adds to the headers it passes to parse_event: the full public URL
#: Twilio requested (query string included). Without it the webhook_url option is used.
#: The space is deliberate: no HTTP request can carry a header of that name, so a forged
#: request forwarded with its headers cannot choose the URL its signature is checked against
#: (which would let a callback signed for another of your URLs be replayed here).
URL_HEADER = "Telephony URL"

#: Twilio error code -> (canonical code, category); https://www.twilio.com/docs/api/errors
VENDOR_CODES: dict[int, tuple[str, str]] = {
    20404: ("not_found", "not_found"),
    21205: ("invalid_url", "invalid"),
    21210: ("caller_id_not_verified", "forbidden"),
    21211: ("invalid_to_number", "invalid"),
    21212: ("invalid_from_number", "invalid"),
    21213: ("caller_id_required", "invalid"),
    21214: ("to_number_unreachable", "invalid"),
    21215: ("no_outbound_permission", "forbidden"),
    21216: ("no_outbound_permission", "forbidden"),
    21217: ("invalid_to_number", "invalid"),
    21220: ("call_not_connected", "invalid"),
    21401: ("invalid_to_number", "invalid"),
    21408: ("no_outbound_permission", "forbidden"),
    21602: ("sms_empty", "invalid"),
    21606: ("sender_not_sms_capable", "invalid"),
    21610: ("recipient_opted_out", "forbidden"),
    21611: ("sms_queue_full", "busy"),
    21612: ("recipient_unreachable", "invalid"),
    21614: ("recipient_not_mobile", "invalid"),
    21617: ("sms_too_long", "invalid"),
}
_BY_STATUS = {400: "invalid", 403: "forbidden", 404: "not_found", 405: "invalid",
              409: "busy", 422: "invalid"}
_LIVE = ("queued", "ringing", "in-progress")
_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"]

#: what an operation of several requests is: yields requests, receives replies, returns
Exchange = Generator[WireRequest, WireReply, Any]


def _dial(provider: TwilioProvider, payload: dict[str, Any]) -> Exchange:
    """One ``POST Calls.json`` (the caller's leg, whose TwiML dials the callee); with
    ``conference=true`` two (the caller's leg, then the callee's, both joining one conference).

    When the callee's leg is refused, or its request never left (the driver throws that
    TransportError in at the ``yield``), the caller's leg is hung up so it does not ring alone,
    and the error goes on: the core makes a never-sent failure after a sent request
    OutcomeUnknown (the operation as a whole was partly acted on) and never re-runs the dial,
    which would ring the caller again. A callee request that may have left is not cleaned up:
    the callee's leg may exist and join the caller."""
    caller_id = provider.sender_number(payload)
    if not provider.config.get("conference"):
        reply = yield provider.form("/Calls.json", {
            "To": wire_address(payload["caller"]), "From": caller_id,
            "Twiml": dial_twiml(payload["callee"], caller_id), **provider.callbacks("call")})
        data = provider.decode(reply, None)
        return CallRef(provider.name, call_id(_sid(data)), raw=data)
    name = "tc" + secrets.token_hex(12)
    reply = yield provider.form("/Calls.json", {
        "To": wire_address(payload["caller"]), "From": caller_id,
        "Twiml": conference_twiml(name), **provider.callbacks("call")})
    first = provider.decode(reply, None)
    sid = _sid(first)
    try:
        reply = yield provider.form("/Calls.json", {
            "To": wire_address(payload["callee"]), "From": caller_id,
            "Twiml": conference_twiml(name)})
        second = provider.decode(reply, None)
    except TransportError as exc:
        if not exc.request_sent:
            yield from _end_alone(provider, sid)
        raise
    except (ProviderError, RateLimited, AuthenticationError):
        yield from _end_alone(provider, sid)  # refused for sure: do not leave the caller alone
        raise
    return CallRef(provider.name, call_id(sid, name), raw={"caller": first, "callee": second})


def _end_alone(provider: TwilioProvider, sid: str) -> Exchange:
    """Hang up the caller's leg of a conference dial whose callee was not placed; a failure
    here is logged, not raised: the callee's failure is the one the caller needs to see."""
    try:
        reply = yield provider.form(f"/Calls/{sid}.json", {"Status": "completed"})
        provider.decode(reply, None)
    except TelephonyError as exc:
        log.warning("twilio: could not end call %s after the callee was not placed: %s",
                    sid, exc)


def _play_prompt(provider: TwilioProvider, payload: dict[str, Any]) -> WireRequest:
    return provider.form("/Calls.json", {
        "To": wire_address(payload["to"]), "From": provider.sender_number(payload),
        "Twiml": play_twiml(payload["prompts"]), **provider.callbacks("call")})


def _call_ref(provider: TwilioProvider, data: Any, payload: dict[str, Any]) -> CallRef:
    return CallRef(provider.name, call_id(_sid(data)), raw=data)


def _send_sms(provider: TwilioProvider, payload: dict[str, Any]) -> WireRequest:
    form: dict[str, Any] = {"To": wire_address(payload["to"]), "Body": payload["text"]}
    sender = payload.get("sender") or provider.config.get("sms_from") or provider.config.get(
        "messaging_service_sid")
    if not sender:
        raise PayloadError([PayloadProblem("sender", "Twilio needs a From number or a "
                                           "Messaging Service: give sender or set the "
                                           "sms_from or messaging_service_sid option")])
    form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
    return provider.form("/Messages.json", {**form, **provider.callbacks("message")})


def _sms_receipt(provider: TwilioProvider, data: Any, payload: dict[str, Any]) -> SmsReceipt:
    if not isinstance(data.get("sid"), str):
        raise MalformedReply("the Message resource has no sid")
    return SmsReceipt(provider.name, data["sid"], str(data.get("status") or "queued"), raw=data)


def _hangup(provider: TwilioProvider, payload: dict[str, Any]) -> WireRequest:
    sid, _ = split_call_id(payload["call"])
    return provider.form(f"/Calls/{sid}.json", {"Status": "completed"})


def _ack(provider: TwilioProvider, data: Any, payload: dict[str, Any]) -> Ack:
    return Ack(provider.name, raw=data)


def _transfer(provider: TwilioProvider, payload: dict[str, Any]) -> WireRequest:
    sid, _ = split_call_id(payload["call"])
    twiml = dial_twiml(payload["to"], provider.config.get("caller_id"))
    return provider.form(f"/Calls/{sid}.json", {"Twiml": twiml})


def _transferred(provider: TwilioProvider, data: Any, payload: dict[str, Any]) -> CallRef:
    sid, _ = split_call_id(payload["call"])
    return CallRef(provider.name, call_id(sid), raw=data)


def _list_calls(provider: TwilioProvider, payload: dict[str, Any]) -> Exchange:
    """``GET Calls.json`` per live status, every page (``next_page_uri``, only within this
    account's Calls list: a reply cannot send the client elsewhere)."""
    rows: list[dict[str, Any]] = []
    path = provider.base + "/Calls.json"
    for status in _LIVE:
        params: dict[str, Any] = {"Status": status, "PageSize": provider.PAGE_SIZE}
        for _ in range(provider.MAX_PAGES):
            page = provider.decode((yield WireRequest("GET", path, params=params)), None)
            calls = page.get("calls")
            if not isinstance(calls, list):
                raise MalformedReply("the Calls page has no list 'calls'")
            rows += [row for row in calls if isinstance(row, dict)]
            following = page.get("next_page_uri")
            if not following:
                break
            next_path, _, query = str(following).partition("?")
            if next_path != path:
                raise MalformedReply("Twilio's next_page_uri leaves the Calls list")
            params = dict(parse_qsl(query, keep_blank_values=True))
        else:
            limit = provider.MAX_PAGES * provider.PAGE_SIZE
            raise ProviderError(f"more than {limit} calls of one status: list_calls stops "
                                "there", code="too_many_calls", category="invalid")
    found = [call_info(row) for row in rows]
    wanted = {split_call_id(i)[0] for i in payload.get("ids") or ()}
    direction = payload.get("direction")
    return [c for c in found if (not wanted or c.call_id in wanted)
            and (direction is None or c.direction == direction)]


def _conference(provider: TwilioProvider, operation: str, ref: str) -> Exchange:
    """(Call SID, Conference SID) of a conference-backed call, or a clear refusal (before any
    request when the call id names no conference)."""
    sid, name = split_call_id(ref)
    if name is None:
        raise ProviderError(
            f"{operation} needs a conference participant: Twilio can hold, mute and monitor "
            f"only calls in a conference, and {ref} is not one (connect with "
            "conference=true, so that dial places conference-backed calls)",
            code="not_in_conference", category="invalid")
    page = provider.decode((yield WireRequest(
        "GET", provider.base + "/Conferences.json",
        params={"FriendlyName": name, "Status": "in-progress"})), None)
    rows = page.get("conferences")
    if not isinstance(rows, list):
        raise MalformedReply("the Conferences page has no list 'conferences'")
    if not rows:
        raise ProviderError(f"the conference of {ref} is not in progress (it has not started "
                            "or has ended)", code="call_not_found", category="not_found")
    if not isinstance(rows[0], dict) or not isinstance(rows[0].get("sid"), str):
        raise MalformedReply("the Conference resource has no sid")
    return sid, rows[0]["sid"]


def _participant(operation: str, form: Callable[[TwilioProvider], dict[str, Any]]) -> Any:
    """An Exchange: find the call's conference, then update its participant with ``form``."""

    def exchange(provider: TwilioProvider, payload: dict[str, Any]) -> Exchange:
        sid, conference = yield from _conference(provider, operation, payload["call"])
        reply = yield provider.form(f"/Conferences/{conference}/Participants/{sid}.json",
                                    form(provider))
        return Ack(provider.name, raw=provider.decode(reply, None))

    exchange.__name__ = f"_{operation}"
    return exchange


def _hold_form(provider: TwilioProvider) -> dict[str, Any]:
    form: dict[str, Any] = {"Hold": "true"}
    if provider.config.get("hold_url"):
        form.update(HoldUrl=provider.config["hold_url"], HoldMethod="GET")
    return form


def _monitor(provider: TwilioProvider, payload: dict[str, Any]) -> Exchange:
    """Add the supervisor to the call's conference: listen muted, whisper as a coach, or
    barge in as a full participant."""
    caller_id = provider.config.get("caller_id")
    if not caller_id:
        raise ConfigurationError("monitor needs the caller_id option: the From number of "
                                 "the call that brings the supervisor in", key="caller_id")
    sid, conference = yield from _conference(provider, "monitor", payload["call"])
    form: dict[str, Any] = {"From": caller_id, "To": wire_address(payload["supervisor"])}
    mode = payload["mode"]
    if mode == "listen":
        form["Muted"] = "true"
    elif mode == "whisper":
        form.update(Coaching="true", CallSidToCoach=sid)
    reply = yield provider.form(f"/Conferences/{conference}/Participants.json", form)
    return Ack(provider.name, raw=provider.decode(reply, None))


class TwilioProvider(HttpProvider):
    """Twilio over its REST API; see the module docstring and docs/providers/twilio.md."""

    routes: ClassVar[Mapping[str, Any]] = {
        "dial": _dial,
        "play_prompt": Route(_play_prompt, _call_ref),
        "send_sms": Route(_send_sms, _sms_receipt),
        "hangup": Route(_hangup, _ack),
        "transfer": Route(_transfer, _transferred),
        "list_calls": _list_calls,
        "hold": _participant("hold", _hold_form),
        "unhold": _participant("unhold", lambda provider: {"Hold": "false"}),
        "mute": _participant("mute", lambda provider: {"Muted": "true"}),
        "unmute": _participant("unmute", lambda provider: {"Muted": "false"}),
        "monitor": _monitor,
    }

    #: rows per page of GET Calls.json (Twilio's maximum) and how many pages are followed
    PAGE_SIZE = 1000
    MAX_PAGES = 20

    def __init__(self, spec, config):
        super().__init__(spec, config)
        try:
            self._setup(config)
        except ConfigurationError:
            self.forget_secrets()  # nothing is kept of a client that is refused
            raise

    def _setup(self, config) -> None:
        self.account_sid, user, secret = self._credentials(config)
        self._authorization = self.basic_auth(user, secret)
        self._signing_token = config.secret("webhook_auth_token") or (
            secret if user.startswith("AC") else None)
        self.webhook_url = self._webhook_url(config)
        if self.webhook_url and not self._signing_token:
            raise ConfigurationError(
                "option 'webhook_auth_token' is required with API-key credentials when "
                "webhook_url is set: Twilio signs callbacks with the account's Auth Token, "
                "which an API key secret cannot check", key="webhook_auth_token",
                provider=self.spec.name)
        self.base = f"/2010-04-01/Accounts/{self.account_sid}"

    def _webhook_url(self, config) -> str | None:
        """``webhook_url``, or its older name ``status_callback``: the URL every call and
        message this client creates names as its StatusCallback. Both given and different is
        an error (which one was meant cannot be guessed). A token in the older name's URL is
        a secret as well (the core registers ``webhook_url``'s)."""
        new, old = config.get("webhook_url"), config.get("status_callback")
        if new and old and new != old:
            raise ConfigurationError(
                "options 'webhook_url' and 'status_callback' name different URLs; "
                "status_callback is the older name of webhook_url: give only webhook_url",
                key="webhook_url", provider=self.spec.name)
        if old and not new:
            check_webhook_url(old, provider=self.spec.name, key="status_callback")
            found = url_secrets(str(old))
            self._secrets += found
            SECRETS.add(*found)
        return str(new or old) if (new or old) else None

    @staticmethod
    def _credentials(config) -> tuple[str, str, str]:
        """(account SID, Basic user, Basic password) from the URL's user:password or keywords."""
        user, password = config.get("username"), config.secret("password")
        account = config.get("account_sid")
        key, key_secret = config.secret("api_key"), config.secret("api_secret")
        token = config.secret("auth_token")
        if (user and password is None) or (password and not user):
            raise ConfigurationError("the URL needs both a user (Account SID or API key SID) "
                                     "and a password (Auth Token or API key secret)",
                                     key="username", provider="twilio")
        if user and user.startswith("SK"):
            key, key_secret = user, password
        elif user:
            if account and account != user:
                raise ConfigurationError("option 'account_sid' differs from the Account SID in "
                                         "the URL", key="account_sid", provider="twilio")
            account, token = user, password
        if key or key_secret:
            if not (key and key_secret):
                raise ConfigurationError("API-key credentials need both 'api_key' (SK...) and "
                                         "'api_secret'", key="api_key" if not key
                                         else "api_secret", provider="twilio")
            if not account:
                raise ConfigurationError("option 'account_sid' is required with API-key "
                                         "credentials: requests go to /Accounts/{AccountSid}",
                                         key="account_sid", provider="twilio")
            return account, key, key_secret
        if account and token:
            return account, account, token
        raise ConfigurationError(
            "Twilio needs credentials: twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com, or "
            "account_sid= and auth_token=, or api_key=, api_secret= and account_sid=",
            key="auth_token" if account else "account_sid", provider="twilio")

    # -- the wire ----------------------------------------------------------------------------

    def authorize(self, request: WireRequest) -> WireRequest:
        """HTTP Basic on every request (the header made once by ``basic_auth``, which
        registers the secret and its encoded form as secrets)."""
        return request.with_headers(self._authorization)

    def decode(self, reply: WireReply, op: Operation | None) -> Any:
        """Twilio's error body ``{code, message, more_info, status}`` to the hierarchy, the
        code kept as ``vendor_code`` (https://www.twilio.com/docs/usage/twilios-response)."""
        if reply.status < 400:
            data = reply.json() if reply.body else None
            if reply.body and not isinstance(data, dict):
                raise MalformedReply(f"Twilio's reply (HTTP {reply.status}) is not a JSON "
                                     "object")
            return data
        body: Any = None
        try:
            body = json.loads(reply.body) if reply.body else None
        except ValueError:
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        text = redact(str(message))[:300] if message else f"HTTP {reply.status}"
        vendor = str(code) if code is not None else str(reply.status)
        if reply.status == 429:  # Twilio's 20429: too many requests, with Retry-After
            raise rate_limited(reply)
        if reply.status == 401 or code == 20003:
            raise AuthenticationError(f"Twilio refused the credentials (HTTP {reply.status}, "
                                      f"code {vendor}): {text}")
        if reply.status >= 500:
            raise ProviderError(f"Twilio failed (HTTP {reply.status}): {text}",
                                code="server_error", category="transient", vendor_code=vendor)
        canonical, category = VENDOR_CODES.get(code if isinstance(code, int) else -1, (
            "rejected", _BY_STATUS.get(reply.status, "invalid")))
        more = body.get("more_info") if isinstance(body, dict) else None
        raise ProviderError(f"Twilio refused the request (HTTP {reply.status}, code {vendor}): "
                            f"{text}" + (f" (see {more})" if isinstance(more, str) else ""),
                            code=canonical, category=category, vendor_code=vendor)

    def form(self, path: str, form: Mapping[str, Any]) -> WireRequest:
        """A form-encoded POST under this account (every Twilio write is one)."""
        return WireRequest("POST", self.base + path, data=dict(form))

    def callbacks(self, kind: str) -> dict[str, Any]:
        """The status-callback fields of a Call or Message creation (none without the
        webhook_url option). CreateCall: ``StatusCallback``, ``StatusCallbackMethod`` and one
        ``StatusCallbackEvent`` per event wanted (Twilio sends only ``completed`` when none is
        named); CreateMessage: ``StatusCallback`` (../shared/specs/twilio/twilio_api_v2010.json,
        operations CreateCall and CreateMessage)."""
        url = self.webhook_url
        if not url:
            return {}
        if kind == "message":
            return {"StatusCallback": url}
        return {"StatusCallback": url, "StatusCallbackMethod": "POST",
                "StatusCallbackEvent": list(_CALLBACK_EVENTS)}

    def sender_number(self, payload: Mapping[str, Any]) -> str:
        """The From of a call: the payload's caller_id, else the option; refused before any
        traffic when neither is given."""
        value = payload.get("caller_id") or self.config.get("caller_id")
        if not value:
            raise PayloadError([PayloadProblem("caller_id", "Twilio needs a From number: give "
                                               "caller_id (E.164, +14155550100) or set the "
                                               "caller_id option")])
        return str(value)

    # -- webhooks ----------------------------------------------------------------------------

    def parse_event(self, body: bytes, headers: Mapping[str, str], *,
                    url: str | None = None) -> list[Event]:
        """Verify X-Twilio-Signature, then turn a status callback into an event.

        The URL Twilio requested is ``url`` (``client.parse_event(body, headers, url=...)``),
        else the ``Telephony URL`` key of ``headers`` (set by the application), else the
        webhook_url option (or its older name status_callback)."""
        lower = {str(k).lower(): str(v) for k, v in headers.items()}
        is_json = "json" in lower.get("content-type", "")
        # read the body first (nothing is made of it before the signature holds): an
        # unreadable body is an EventError whatever the configuration
        pairs: list[tuple[str, str]] = []
        data: dict[str, Any] | None = None
        if is_json:
            try:
                loaded = json.loads(body)
            except ValueError:
                loaded = None
            if not isinstance(loaded, dict):
                raise EventError("the JSON webhook body is not a JSON object")
            data = loaded
        else:
            try:
                text = body.decode("utf-8")
                pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
            except (UnicodeDecodeError, ValueError):
                raise EventError("a Twilio callback body is form-encoded UTF-8 "
                                 "(name=value&...); this one is not") from None
        if not self._signing_token:
            raise ConfigurationError("checking X-Twilio-Signature needs the account's Auth "
                                     "Token: with API-key credentials set webhook_auth_token",
                                     key="webhook_auth_token")
        url = url or lower.get(URL_HEADER.lower()) or self.webhook_url
        if not url:
            raise ConfigurationError(
                "parse_event needs the URL Twilio requested: pass url= (the public URL, query "
                f"string included), or the {URL_HEADER!r} key in headers, or set "
                "webhook_url", key="webhook_url")
        given = lower.get("x-twilio-signature")
        if not given:
            raise SignatureError("the webhook has no X-Twilio-Signature header: it is not "
                                 "from Twilio")
        if data is not None:
            matches = body_hash_ok(url, body)
            if matches is None:
                raise SignatureError("a JSON webhook is signed through bodySHA256 in its URL, "
                                     "and this URL has none")
            if not matches or not signature_ok(self._signing_token, url, (), given):
                raise SignatureError("X-Twilio-Signature or bodySHA256 does not match this "
                                     "JSON body and URL")
            return [event_from_callback({str(k): "" if v is None else str(v)
                                         for k, v in data.items()})]
        if not signature_ok(self._signing_token, url, pairs, given):
            raise SignatureError("X-Twilio-Signature does not match this body and URL: the "
                                 "webhook is not from Twilio, or the URL is not the one Twilio "
                                 "requested (behind a proxy, pass the public URL)")
        return [event_from_callback(dict(pairs))]


def _sid(data: Mapping[str, Any]) -> str:
    sid = data.get("sid")
    if not isinstance(sid, str) or not sid.startswith("CA"):
        raise MalformedReply("the Call resource has no Call SID")
    return sid

"""The Telnyx provider: Call Control v2 commands, Messaging, signed webhooks, flows on events.

Every command that accepts ``command_id`` (dial included) carries the logical operation's
idempotency key (:func:`telephony_core.context.current`), the same on every attempt, so Telnyx
ignores a repeat; those operations are declared in :attr:`retry_safe` and the retry policy may
re-send them. ``send_sms`` has no such key and stays at most once.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any, ClassVar

from telephony_core.context import current
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    PayloadError,
    PayloadProblem,
    ProviderError,
    RateLimited,
)
from telephony_core.events import parse_body
from telephony_core.provider import FollowUp
from telephony_core.redaction import get_logger, redact
from telephony_core.results import Ack, CallRef, Event, SmsReceipt
from telephony_core.wire import (
    Exchange,
    HttpProvider,
    MalformedReply,
    Route,
    WireReply,
    WireRequest,
)

from . import signature, translate

__all__ = ["TelnyxProvider", "rate_limit_reset"]

log = get_logger("telephony_telnyx")

#: Telnyx error code -> (our code, category). Codes and titles: the error examples of
#: spec3.json (components.responses.UnprocessableEntityResponse, BadRequestResponse).
ERRORS: dict[str, tuple[str, str]] = {
    "90018": ("call_not_found", "not_found"),        # Call has already ended
    "90015": ("call_not_found", "not_found"),        # Invalid Call Control ID
    "90034": ("call_not_connected", "invalid"),      # Call not answered yet
    "10015": ("invalid_connection", "invalid"),      # Invalid value for connection_id
    "10016": ("invalid_number", "invalid"),          # Phone number must be in +E164 format
    "10004": ("missing_parameter", "invalid"),       # Missing required parameter
    "10032": ("invalid_value", "invalid"),           # Invalid enumerated value
    "10033": ("invalid_value", "invalid"),           # Value outside of range
    "90040": ("prompt_not_found", "not_found"),      # Downloading audio file failed
    "90032": ("conference_full", "busy"),            # Maximum number of participants reached
}

#: hangup causes after which the caller leg of a dial flow is left alone: the callee leg ended
#: normally (Telnyx hangs up the bridged caller leg itself) or the caller leg is already gone
_NORMAL_END = frozenset({"normal_clearing", "originator_cancel"})


class TelnyxProvider(HttpProvider):
    """Sans-IO (plugin API 2): each operation is a :class:`Route` or an Exchange, the Bearer
    key is added in :meth:`authorize`; the client's driver (sync or async) sends."""

    base_path = "/v2"
    retry_safe = frozenset({"dial", "play_prompt", "transfer", "hangup", "monitor"})
    routes: ClassVar[Mapping[str, Route | Exchange]] = {
        "dial": Route(lambda self, p: self._placing(translate.dial_caller(
            self.connection_id, p, _key(), timeout_secs=self.ring_timeout)),
            lambda self, data, p: self._placed(data)),
        "play_prompt": Route(lambda self, p: self._placing(translate.play_call(
            self.connection_id, p, _key(), timeout_secs=self.ring_timeout)),
            lambda self, data, p: self._placed(data)),
        "transfer": Route(lambda self, p: _action(p["call"], "transfer",
                                                  translate.transfer_body(p, _key())),
                          lambda self, data, p: CallRef(
                              self.name, translate.call_control_id(p["call"]), raw=data)),
        "hangup": Route(lambda self, p: _action(p["call"], "hangup",
                                                translate.hangup_body(p, _key())),
                        lambda self, data, p: Ack(self.name, raw=data)),
        "monitor": Route(lambda self, p: self._monitor_request(p),
                         lambda self, data, p: Ack(self.name, raw=_data(data))),
        "send_sms": Route(lambda self, p: self._sms_request(p),
                          lambda self, data, p: _receipt(self.name, _data(data))),
        "list_calls": lambda self, p: self._list_calls(p),
    }

    def __init__(self, spec, config):
        super().__init__(spec, config)
        self._auth = {"Authorization": f"Bearer {config.secret('api_key')}"}
        self.connection_id = str(config["connection_id"])
        self.ring_timeout = int(config.get("ring_timeout", 30))
        key = config.secret("public_key") if config.get("public_key") else None
        self._public_key = signature.load_public_key(key) if key else None
        self.tolerance = float(config.get("signature_tolerance", 300))

    # -- requests ------------------------------------------------------------------------

    def authorize(self, request: WireRequest) -> WireRequest:
        return request.with_headers(self._auth)

    def _placing(self, body: dict[str, Any]) -> WireRequest:
        return WireRequest("POST", "/calls", json=self._hooked(body))

    def _hooked(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the webhook_url option as its ``webhook_url`` when set. DialCall's
        field: "override the URL for which Telnyx will send subsequent webhooks to for this
        call"; SendMessage's: "the URL where webhooks related to this message will be sent"
        (../shared/specs/telnyx/spec3.json, CallRequest and CreateMessageRequest). Without it
        Telnyx uses the Call Control App's (connection's) or the messaging profile's URL,
        set in the portal. ``webhook_url_method`` is left at its default, POST."""
        url = self.config.get("webhook_url")
        return {**body, "webhook_url": str(url)} if url else body

    def _placed(self, reply: Any) -> CallRef:
        data = _data(reply)
        ccid = data.get("call_control_id")
        if not isinstance(ccid, str) or not ccid:
            raise MalformedReply("the DialCall reply has no data.call_control_id",
                                 provider=self.name)
        return CallRef(self.name, ccid, raw=data)  # as it is (docs/conformance.md, "Ids")

    def _monitor_request(self, payload: dict[str, Any]) -> WireRequest:
        caller_id = self.config.get("caller_id")
        if not caller_id:
            raise ConfigurationError(
                "monitor dials the supervisor, and Telnyx requires a 'from' number: set the "
                "caller_id option (+E.164, a number of your Telnyx account)", key="caller_id",
                provider=self.name)
        body = translate.monitor_body(self.connection_id, payload, str(caller_id), _key())
        return WireRequest("POST", "/calls", json=self._hooked(body))

    def _sms_request(self, payload: dict[str, Any]) -> WireRequest:
        sender = payload.get("sender") or self.config.get("sms_from")
        profile = self.config.get("messaging_profile_id")
        if not sender and not profile:
            raise PayloadError([PayloadProblem(
                "sender", "Telnyx needs a sender: give sender (+E.164 number, short code or "
                          "alphanumeric id), or set the sms_from or messaging_profile_id option")],
                provider=self.name, operation="send_sms")
        return WireRequest("POST", "/messages",
                           json=self._hooked(translate.sms_body(payload, sender, profile)))

    def _list_calls(self, payload: dict[str, Any]) -> Generator[WireRequest, WireReply, list]:
        """ListConnectionActiveCalls, page after page (``meta.cursors.after``), at most 50
        pages of 20 (the spec's default page size)."""
        found = []
        after: str | None = None
        for _ in range(50):
            params = {"page[after]": after} if after else None
            reply = self._decode((yield WireRequest(
                "GET", f"/connections/{_segment(self.connection_id)}/active_calls",
                params=params)), None)
            items = reply.get("data") if isinstance(reply, Mapping) else None
            if not isinstance(items, list):
                raise MalformedReply("the ListConnectionActiveCalls reply has no data list",
                                     provider=self.name)
            found += [translate.active_call_info(item) for item in items]
            meta = reply.get("meta")
            cursors = meta.get("cursors") if isinstance(meta, Mapping) else None
            after = cursors.get("after") if isinstance(cursors, Mapping) else None
            if not items or not isinstance(after, str) or not after:
                break
        wanted = {i.removeprefix("call:") for i in payload.get("ids") or ()}
        unique = {c.call_id: c for c in reversed(found)}  # one per call: its first leg
        return [c for c in reversed(unique.values()) if not wanted or c.call_id in wanted]

    # -- replies -------------------------------------------------------------------------

    def decode(self, reply: WireReply, op) -> Any:
        """Telnyx's error table. ``op`` is None for a flow's follow-up step (sent by
        ``handle_event``): a step aimed at a leg that has already ended (90018) has nothing
        left to do (the flow's clean-up hangup: ending the leg was the point; a next prompt or
        a menu transfer: the caller is gone), so it succeeds rather than failing the webhook
        handler, which would make Telnyx deliver the webhook again."""
        try:
            return self._decode(reply, op)
        except ProviderError as exc:
            if op is None and exc.vendor_code == "90018":
                log.info("telnyx: a flow step found its leg already ended (90018)")
                return None
            raise

    def _decode(self, reply: WireReply, op) -> Any:
        if reply.status < 400:
            return super().decode(reply, op)
        code, title, detail = _first_error(reply)
        text = redact(": ".join(p for p in (title, detail) if p) or f"HTTP {reply.status}")
        if reply.status == 429:
            # https://developers.telnyx.com/development/api-fundamentals/reliability/rate-limiting
            # "x-ratelimit-reset: Shows the time in seconds until the rate limit resets"; the
            # body is {"errors": [{"code": "10011", "title": "Too many requests", ...}]}
            raise RateLimited(f"Telnyx is rate-limiting requests (HTTP 429, code "
                              f"{code or 'none'}): {text}",
                              retry_after=rate_limit_reset(reply), provider=self.name)
        if reply.status in (401, 403):
            raise AuthenticationError(
                f"Telnyx refused the API key (HTTP {reply.status}: {text}); check the api_key "
                "option" + (" and the key's permissions" if reply.status == 403 else ""),
                provider=self.name)
        ours, category = ERRORS.get(code or "", (None, None))
        if ours is None:
            ours, category = (("server_error", "transient") if reply.status >= 500 else
                              ("not_found", "not_found") if reply.status == 404 else
                              ("rejected", "invalid"))
        raise ProviderError(f"Telnyx refused the request (HTTP {reply.status}, code "
                            f"{code or 'none'}): {text}", code=ours, category=category,
                            vendor_code=code or str(reply.status), provider=self.name)

    # -- webhooks and flows --------------------------------------------------------------

    def parse_event(self, body: bytes, headers: Mapping[str, str],
                    url: str | None = None) -> list[Event]:
        if self._public_key is None:
            if self.config.get("verify_signatures", True) is not False:
                raise ConfigurationError(
                    "set the public_key option (your account's Ed25519 public key, base64) so "
                    "webhooks can be verified", key="public_key", provider=self.name)
        else:
            signature.verify(self._public_key, body, headers, tolerance=self.tolerance)
        return [translate.event_from_webhook(parse_body(body, headers))]

    def follow_up(self, event: Event) -> Sequence[FollowUp]:
        """A flow's next step, from the state the call carries (any process can do it). dial:
        the caller answered -> dial the callee linked to it, bridged on answer; the callee's leg
        ended without being bridged (no answer, busy, rejected) -> hang up the caller's leg.
        play_prompt: see :meth:`_play_follow_up`. Every step carries a command_id derived from
        the leg and the step, the same in every process."""
        if event.provider != self.name or not isinstance(event.raw, Mapping):
            return ()
        data = event.raw.get("data")
        payload = data.get("payload") if isinstance(data, Mapping) else None
        if not isinstance(payload, Mapping):
            return ()
        state = translate.decode_state(payload.get("client_state"))
        ccid = payload.get("call_control_id")
        event_type = data.get("event_type")
        if event_type == "call.answered" and state.get("f") == "dial" and state.get("callee") \
                and state.get("from"):
            body = translate.bridge_leg(self.connection_id, state, str(ccid),
                                        timeout_secs=self.ring_timeout)
            return (FollowUp(WireRequest("POST", "/calls", json=self._hooked(body)),
                             retry_safe=True,
                             reason="the caller answered: ring the callee, bridged on answer"),)
        if event_type == "call.hangup" and state.get("f") == "dial-callee" and \
                isinstance(state.get("root"), str) and \
                payload.get("hangup_cause") not in _NORMAL_END:
            return (self._hangup_step(state["root"], "the callee did not answer: end the "
                                                     "caller's leg"),)
        if state.get("f") == "play" and isinstance(ccid, str):
            return self._play_follow_up(str(event_type), state, ccid, payload)
        return ()

    def _hangup_step(self, leg: str, reason: str) -> FollowUp:
        body = {"command_id": translate.follow_up_command_id(leg, "hangup")}
        return FollowUp(WireRequest("POST", f"/calls/{_segment(leg)}/actions/hangup", json=body),
                        retry_safe=True, reason=reason)

    def _play_follow_up(self, event_type: str, state: Mapping[str, Any], ccid: str,
                        payload: Mapping[str, Any]) -> Sequence[FollowUp]:
        """play_prompt's flow: answered -> the first prompt; a prompt ended -> the next one
        (the last with a menu as a one-key gather); a key of the menu -> transfer there; every
        prompt played, or no key -> hang up (the canonical play_prompt ends the call)."""
        status = payload.get("status")
        if event_type == "call.answered":
            return self._play_next(state, ccid) if "p" in state else ()  # else: the dial plays
        if event_type == "call.playback.ended":
            if status == "call_hangup":
                return ()
            if status != "completed":
                return (self._hangup_step(ccid, f"the prompt could not be played ({status})"),)
            return self._play_next(state, ccid)
        if event_type == "call.gather.ended" and status != "call_hangup":
            menu = state.get("m") if isinstance(state.get("m"), Mapping) else {}
            digits = payload.get("digits")
            if status == "valid" and isinstance(digits, str) and digits in menu:
                body = {"to": translate.number(str(menu[digits])),
                        "command_id": translate.follow_up_command_id(ccid, "menu")}
                return (FollowUp(WireRequest(
                    "POST", f"/calls/{_segment(ccid)}/actions/transfer", json=body),
                    retry_safe=True, reason=f"key {digits} of the menu: transfer"),)
            return (self._hangup_step(ccid, "no key of the menu was pressed"),)
        return ()

    def _play_next(self, state: Mapping[str, Any], ccid: str) -> Sequence[FollowUp]:
        step = translate.play_step(state, ccid) if "p" in state else None
        if step is None:
            return (self._hangup_step(ccid, "every prompt has played"),)
        action, body = step
        return (FollowUp(WireRequest("POST", f"/calls/{_segment(ccid)}/actions/{action}",
                                     json=body), retry_safe=True,
                         reason=f"the next prompt ({action})"),)


def _segment(value: str) -> str:
    """A path segment: call control ids hold ':' (allowed) but never '/'; quote the rest."""
    from urllib.parse import quote

    return quote(value, safe=":")


def _key() -> str | None:
    """The logical operation's idempotency key (the same on every attempt): the command_id."""
    ctx = current()
    return ctx.idempotency_key if ctx is not None else None


def _action(call: str, action: str, body: dict[str, Any]) -> WireRequest:
    ccid = translate.call_control_id(call)
    return WireRequest("POST", f"/calls/{_segment(ccid)}/actions/{action}", json=body)


def _data(reply: Any) -> Mapping[str, Any]:
    if not isinstance(reply, Mapping) or not isinstance(reply.get("data"), Mapping):
        raise MalformedReply("the Telnyx reply has no 'data' object")
    return reply["data"]


def _receipt(provider: str, data: Mapping[str, Any]) -> SmsReceipt:
    to = data.get("to")
    first = to[0] if isinstance(to, list) and to and isinstance(to[0], Mapping) else {}
    status = first.get("status") if isinstance(first.get("status"), str) else "queued"
    message_id = data.get("id") if isinstance(data.get("id"), str) else None
    return SmsReceipt(provider, message_id, status, raw=data)


def rate_limit_reset(reply: WireReply) -> float | None:
    """Seconds to wait from ``x-ratelimit-reset`` (seconds until the window resets, per
    Telnyx's rate-limiting page), else a standard ``Retry-After`` in seconds; None when neither
    is a usable number (the retry policy's own backoff applies)."""
    for name in ("x-ratelimit-reset", "retry-after"):
        value = reply.header(name)
        if value is None:
            continue
        try:
            seconds = float(value.strip())
        except ValueError:
            continue
        if seconds == seconds and seconds not in (float("inf"), float("-inf")):
            return max(0.0, seconds)
    return None


def _first_error(reply: WireReply) -> tuple[str | None, str, str]:
    """(code, title, detail) of ``errors[0]`` (``call-control_Errors`` in spec3.json)."""
    try:
        body = reply.json()
    except Exception:
        return None, "", reply.text[:200]
    errors = body.get("errors") if isinstance(body, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) \
        else {}
    code = first.get("code")
    return (str(code) if isinstance(code, str | int) else None, str(first.get("title") or ""),
            str(first.get("detail") or ""))

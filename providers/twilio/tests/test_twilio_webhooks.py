"""Status callbacks: signed by the emulator as Twilio signs them, verified by parse_event, and
turned into canonical events; a bad signature gets SignatureError and no event."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telephony_twilio import SignatureError
from telephony_twilio.conformance import CALLEE, CALLER, OTHER
from telephony_twilio.emulator import DEMO
from telephony_twilio.signature import compute_signature

from telephony_core import connect
from telephony_core.emulation import EmulatorApp, EmulatorServer, Request, emulated, route
from telephony_core.errors import EventError, TelephonyError
from telephony_core.results import Event

FAST = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2}
PUBLIC = "https://app.example.com/twilio/status?tenant=7"
SID = "CA" + "5" * 32


class Receiver(EmulatorApp):
    """The application's webhook: keeps each body with its headers."""

    def __init__(self):
        super().__init__()
        self.received: list[tuple[bytes, dict[str, str]]] = []

    @route("POST", "/{path:path}")
    def receive(self, request: Request, path: str):
        with self.lock:
            self.received.append((request.get_data(), dict(request.headers)))
        return {"ok": True}


@pytest.fixture
def hook():
    receiver = Receiver()
    with EmulatorServer(receiver) as server:
        yield server.url + "/twilio/status", receiver


def _wait(emu):
    """Until the emulator delivered every callback it queued."""
    for sender in emu.app.senders.values():
        assert sender.wait(5)


def _client(**options):
    return connect("twilio", username=DEMO["account_sid"], password=DEMO["auth_token"],
                   **options)


def _signed(params, url=PUBLIC, token=DEMO["auth_token"]):
    body = urlencode(params).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded",
                  "X-Twilio-Signature": compute_signature(token, url, params.items())}


def test_call_progress_callbacks_become_events(hook):
    url, receiver = hook
    with emulated("twilio", client_options={**FAST, "webhook_url": url}) as emu:
        ref = emu.client.dial(caller=CALLER, callee=CALLEE)
        sent = emu.server.requests[-1].form()
        emu.app.pbx.answer(CALLER)
        emu.app.pbx.answer(CALLEE)
        emu.client.hangup(call=f"call:{ref.call_id}")
        _wait(emu)
        events = [e for body, headers in receiver.received
                  for e in emu.client.parse_event(body, headers)]
    raw = emu.server.requests[0].body.decode()
    assert raw.count("StatusCallbackEvent=") == 4  # initiated, ringing, answered, completed
    assert sent["StatusCallback"] == url
    assert [e.kind for e in events] == ["call.ringing", "call.answered", "call.hangup"]
    assert {e.call_id for e in events} == {ref.call_id}
    assert all(e.at is not None and e.parties == (CALLER,) for e in events)
    assert all("X-Twilio-Signature" in headers for _, headers in receiver.received)


@pytest.mark.parametrize("option", ["webhook_url", "status_callback"])
def test_message_status_callbacks_become_sms_events(hook, option):
    """status_callback is the older name of webhook_url: both still work."""
    url, receiver = hook
    with emulated("twilio", client_options={**FAST, option: url}) as emu:
        receipt = emu.client.send_sms(to=OTHER, text="hi")
        _wait(emu)
        (body, headers), = receiver.received
        (event,) = emu.client.parse_event(body, headers)
    assert (event.kind, event.data["message_id"], event.data["status"]) == (
        "sms.status", receipt.message_id, "sent")
    assert emu.server.requests[-1].form()["StatusCallback"] == url


def test_a_tampered_body_or_wrong_token_is_refused_with_no_event():
    params = {"CallSid": SID, "CallStatus": "completed", "To": "+14155550100"}
    body, headers = _signed(params)
    with _client(webhook_url=PUBLIC) as client:
        assert client.parse_event(body, headers)[0].kind == "call.hangup"
        with pytest.raises(SignatureError):
            client.parse_event(body.replace(b"completed", b"ringing"), headers)
        with pytest.raises(SignatureError, match="no X-Twilio-Signature"):
            client.parse_event(body, {"Content-Type": headers["Content-Type"]})
        forged = _signed(params, token="someone-else")[1]
        with pytest.raises(SignatureError):
            client.parse_event(body, forged)


def test_the_url_is_an_argument_of_parse_event():
    params = {"CallSid": SID, "CallStatus": "ringing", "To": "+14155550100"}
    body, headers = _signed(params)
    with _client(webhook_url="http://10.0.0.5:8080/twilio/status?tenant=7") as client:
        with pytest.raises(SignatureError):
            client.parse_event(body, headers)  # checked against webhook_url: not signed
        (event,) = client.parse_event(body, headers, url=PUBLIC)
    assert event.kind == "call.ringing"


def test_behind_a_proxy_the_public_url_can_also_travel_with_the_headers():
    params = {"CallSid": SID, "CallStatus": "ringing", "To": "+14155550100"}
    body, headers = _signed(params)
    with _client(webhook_url="http://10.0.0.5:8080/twilio/status?tenant=7") as client:
        with pytest.raises(SignatureError, match="public URL"):
            client.parse_event(body, headers)  # the URL the app sees is not the one signed
        (event,) = client.parse_event(body, {**headers, "Telephony URL": PUBLIC})
    assert event.kind == "call.ringing"
    with _client() as client, pytest.raises(TelephonyError, match="Telephony URL"):
        client.parse_event(body, headers)  # no URL at all: said, not guessed


def test_the_json_body_variant_is_checked_through_body_sha256():
    body = json.dumps({"CallSid": SID, "CallStatus": "in-progress", "To": "+14155550100"}
                      ).encode()
    url = "https://app.example.com/hook?bodySHA256=" + hashlib.sha256(body).hexdigest()
    headers = {"Content-Type": "application/json", "Telephony URL": url,
               "X-Twilio-Signature": compute_signature(DEMO["auth_token"], url)}
    with _client() as client:
        assert client.parse_event(body, headers)[0].kind == "call.answered"
        with pytest.raises(SignatureError):
            client.parse_event(body.replace(b"in-progress", b"completed"), headers)
        with pytest.raises(SignatureError, match="bodySHA256"):
            client.parse_event(body, {**headers, "Telephony URL": "https://app.example.com/h"})


@pytest.mark.parametrize("body", [b"\xff\xfe", b"a=1&&b", b"CallSid=CA1", b""])
def test_malformed_bodies_are_event_errors(body):
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Telephony URL": PUBLIC,
               "X-Twilio-Signature": compute_signature(DEMO["auth_token"], PUBLIC)}
    with _client() as client, pytest.raises(EventError):
        client.parse_event(body, headers)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200), signature=st.text(max_size=40),
       ctype=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]))
def test_parse_event_raises_only_typed_errors(body, signature, ctype):
    with _client() as client:
        try:
            result = client.parse_event(body, {"X-Twilio-Signature": signature,
                                               "Content-Type": ctype, "Telephony URL": PUBLIC})
        except TelephonyError:
            return  # anything else escaping fails the test
    assert all(isinstance(event, Event) for event in result)


def test_signature_error_is_the_cores():
    from telephony_core import errors

    assert SignatureError is errors.SignatureError
    assert issubclass(SignatureError, errors.EventError)


def test_a_request_cannot_choose_the_url_it_is_checked_against():
    """A callback Twilio signed for another of your URLs, replayed here with a sendable header
    naming that URL, is refused: only the application's own 'Telephony URL' key counts."""
    signed_elsewhere = "https://app.example.com/other-tenant/status"
    body, headers = _signed({"CallSid": SID, "CallStatus": "completed"}, url=signed_elsewhere)
    with _client(status_callback=PUBLIC) as client:
        for name in ("X-Telephony-Url", "Telephony-Url", "X-Forwarded-Url"):
            with pytest.raises(SignatureError):
                client.parse_event(body, {**headers, name: signed_elsewhere})


@pytest.mark.parametrize("option", ["webhook_url", "status_callback"])
def test_without_url_argument_the_signature_is_checked_against_the_configured_url(option):
    """The URL Twilio posted to is the StatusCallback the client sent: the configured
    webhook_url (or its older name), query string included."""
    body, headers = _signed({"CallSid": SID, "CallStatus": "completed"})
    with _client(**{option: PUBLIC}) as client:
        (event,) = client.parse_event(body, headers)
    assert event.call_id == SID
    with _client(**{option: PUBLIC.replace("tenant=7", "tenant=8")}) as client, \
            pytest.raises(SignatureError):
        client.parse_event(body, headers)

"""Pure translation: addresses, TwiML, call ids, callbacks to events, signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from telephony_twilio.signature import body_hash_ok, compute_signature, signature_ok, url_variants
from telephony_twilio.translate import (
    call_id,
    call_info,
    conference_twiml,
    dial_twiml,
    event_from_callback,
    play_twiml,
    split_call_id,
    wire_address,
)

from telephony_core.errors import EventError, PayloadError

SID = "CA" + "0123456789abcdef" * 2

# Twilio's own example (https://www.twilio.com/docs/usage/webhooks/webhooks-security; the same
# vector appears in Twilio's helper libraries' tests): Auth Token 12345.
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
                  "From": "+12349013030", "To": "+18005551212"}
EXAMPLE_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_addresses_go_out_as_twilio_dials_them():
    assert wire_address("tel:+14155550100") == "+14155550100"
    assert wire_address("sip:alice@example.com") == "sip:alice@example.com"


def test_dial_twiml_dials_the_callee_with_the_caller_id_and_escapes():
    assert dial_twiml("tel:+14155550101", "+15005550006") == (
        '<Response><Dial callerId="+15005550006"><Number>+14155550101</Number></Dial>'
        "</Response>")
    assert dial_twiml("sip:a&b@example.com", None) == (
        "<Response><Dial><Sip>sip:a&amp;b@example.com</Sip></Dial></Response>")


def test_play_twiml_plays_each_url_in_order():
    assert play_twiml(["https://a.example/1.mp3?x=1&y=2", "http://b.example/2.wav"]) == (
        "<Response><Play>https://a.example/1.mp3?x=1&amp;y=2</Play>"
        "<Play>http://b.example/2.wav</Play></Response>")


def test_conference_twiml_ends_the_conference_when_a_party_leaves():
    assert conference_twiml("tc" + "0" * 24) == (
        '<Response><Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true">'
        "tc000000000000000000000000</Conference></Dial></Response>")


def test_call_ids_carry_the_conference_when_there_is_one():
    assert call_id(SID) == SID  # the Call SID as it is: no call: prefix in results
    assert split_call_id(f"call:{call_id(SID)}") == (SID, None)
    name = "tc" + "ab" * 12
    assert call_id(SID, name) == f"{SID}:{name}"
    assert split_call_id(f"call:{call_id(SID, name)}") == (SID, name)
    with pytest.raises(PayloadError, match="call"):
        split_call_id("call:1495700000.101")


def test_call_rows_become_call_info():
    info = call_info({"sid": SID, "direction": "outbound-api", "from": "+15005550006",
                      "to": "+14155550100", "status": "in-progress"})
    assert (info.call_id, info.direction, info.caller, info.callee, info.state) == (
        SID, "outbound", "tel:+15005550006", "tel:+14155550100", "talking")
    assert call_info({"sid": SID, "direction": "inbound", "status": "queued"}).state == "ringing"


@pytest.mark.parametrize(("status", "kind"), [
    ("ringing", "call.ringing"), ("in-progress", "call.answered"),
    ("completed", "call.hangup"), ("busy", "call.failed"), ("no-answer", "call.failed"),
    ("initiated", "system")])
def test_call_status_callbacks_become_events_with_their_timestamp(status, kind):
    event = event_from_callback({"CallSid": SID, "CallStatus": status, "To": "+14155550100",
                                 "From": "+15005550006",
                                 "Timestamp": "Mon, 16 Aug 2010 03:45:01 +0000"})
    assert event.kind == kind
    assert event.call_id == SID
    assert event.parties == ("tel:+14155550100",)
    assert event.at == datetime(2010, 8, 16, 3, 45, 1, tzinfo=UTC)


def test_message_status_callbacks_become_sms_status_events():
    event = event_from_callback({"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered",
                                 "To": "+14155550100"})
    assert (event.kind, event.data["status"], event.data["to"]) == (
        "sms.status", "delivered", "tel:+14155550100")


def test_a_body_that_is_no_status_callback_is_an_event_error():
    with pytest.raises(EventError, match="CallSid"):
        event_from_callback({"foo": "bar"})


def test_twilio_documented_signature_example():
    assert compute_signature("12345", EXAMPLE_URL, EXAMPLE_PARAMS.items()) == EXAMPLE_SIGNATURE
    assert signature_ok("12345", EXAMPLE_URL, EXAMPLE_PARAMS.items(), EXAMPLE_SIGNATURE)
    assert not signature_ok("12346", EXAMPLE_URL, EXAMPLE_PARAMS.items(), EXAMPLE_SIGNATURE)
    changed = {**EXAMPLE_PARAMS, "Digits": "1235"}
    assert not signature_ok("12345", EXAMPLE_URL, changed.items(), EXAMPLE_SIGNATURE)


def test_signature_is_hmac_sha1_over_url_and_sorted_params():
    data = EXAMPLE_URL + "".join(k + v for k, v in sorted(EXAMPLE_PARAMS.items()))
    digest = hmac.new(b"12345", data.encode(), hashlib.sha1).digest()
    assert base64.b64encode(digest).decode() == EXAMPLE_SIGNATURE


def test_a_default_port_added_or_removed_by_a_proxy_still_matches():
    assert url_variants("https://a.example/x?y=1") == [
        "https://a.example/x?y=1", "https://a.example:443/x?y=1"]
    assert url_variants("https://a.example:443/x") == [
        "https://a.example:443/x", "https://a.example/x"]
    signed = compute_signature("t", "https://a.example:443/x", [("A", "1")])
    assert signature_ok("t", "https://a.example/x", [("A", "1")], signed)


def test_json_bodies_are_checked_through_body_sha256():
    body = b'{"CallSid": "CA1", "CallStatus": "ringing"}'
    url = "https://a.example/hook?bodySHA256=" + hashlib.sha256(body).hexdigest()
    assert body_hash_ok(url, body) is True
    assert body_hash_ok(url, body + b" ") is False
    assert body_hash_ok("https://a.example/hook", body) is None

"""Webhook verification (Ed25519 over ``timestamp|body``), stale timestamps, unreadable bodies,
and the error replies of the API (401/403/429, errors[].code)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from telephony_telnyx.emulator import TEST_PUBLIC_KEY

from telephony_core import connect
from telephony_core.emulation import Fault
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    EventError,
    RateLimited,
    SignatureError,
)

DIAL = {"caller": "tel:+41000", "callee": "tel:+41001", "caller_id": "+15550100"}


def _answered(world):
    world.client.dial(**DIAL)
    world.pbx.answer("tel:+41000")
    return next(w for w in world.app.webhooks if b'"call.answered"' in w[0])


def test_a_signed_webhook_parses(world):
    body, headers = _answered(world)
    [event] = world.client.parse_event(body, headers)
    assert event.kind == "call.answered" and event.parties == ("tel:+15550100", "tel:+41000")


@pytest.mark.parametrize("change", ["body", "timestamp", "signature", "missing", "other_key"])
def test_a_bad_signature_is_refused_and_nothing_follows(world, change):
    body, headers = _answered(world)
    headers = dict(headers)
    if change == "body":
        body = body.replace(b"+41000", b"+41009")
    elif change == "timestamp":
        headers["telnyx-timestamp"] = str(int(headers["telnyx-timestamp"]) - 1)
    elif change == "signature":
        headers["telnyx-signature-ed25519"] = base64.b64encode(b"\0" * 64).decode()
    elif change == "missing":
        del headers["telnyx-signature-ed25519"]
    else:
        stranger = Ed25519PrivateKey.generate()
        stamp = headers["telnyx-timestamp"]
        headers["telnyx-signature-ed25519"] = base64.b64encode(
            stranger.sign(f"{stamp}|".encode() + body)).decode()
    before = len(world.server.requests)
    with pytest.raises(SignatureError):
        world.client.handle_event(body, headers)
    assert len(world.server.requests) == before  # no follow-up step was sent


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_stale_or_future_timestamp_is_refused(world, age):
    body, _ = _answered(world)
    headers = world.app.signed_headers(body, int(time.time()) - age)
    with pytest.raises(SignatureError, match="signature_tolerance"):
        world.client.parse_event(body, headers)


def test_the_tolerance_is_an_option(world_with):
    with world_with(signature_tolerance=900) as w:
        body, _ = _answered(w)
        headers = w.app.signed_headers(body, int(time.time()) - 600)
        assert w.client.parse_event(body, headers)[0].kind == "call.answered"


@pytest.mark.parametrize("body", [
    b"{}", b'{"data": 1}', b'{"data": {"event_type": "call.answered"}}',
    b'{"data": {"event_type": "call.answered", "payload": {}}}', b"[1, 2]", b"not json",
    b'{"data": {"payload": {"call_control_id": "v3:x"}}}',
])
def test_unreadable_but_signed_bodies_are_event_errors(world, body):
    with pytest.raises(EventError) as caught:
        world.client.parse_event(body, world.app.signed_headers(body))
    assert not isinstance(caught.value, SignatureError)


def test_without_a_public_key_webhooks_are_refused_unless_verification_is_off(world):
    body, headers = _answered(world)
    url = world.app.connect_url(world.server.url).split("&public_key=")[0]
    with connect(url) as unverified, pytest.raises(ConfigurationError, match="public_key"):
        unverified.parse_event(body, headers)
    with connect(url, verify_signatures=False) as trusting:
        assert trusting.parse_event(body, {})[0].kind == "call.answered"


def test_a_malformed_public_key_is_a_configuration_error(world):
    url = world.app.connect_url(world.server.url).split("&public_key=")[0]
    for wrong in ("A" * 40, "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!="):
        with pytest.raises(ConfigurationError, match="public_key"):
            connect(url, public_key=wrong)
    key = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)).decode()
    with connect(url, public_key=key) as other, pytest.raises(SignatureError):
        other.parse_event(*_answered(world))
    assert key != TEST_PUBLIC_KEY


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_authentication_errors(world, status):
    body = json.dumps({"errors": [{"code": "10009", "title": "Authentication failed",
                                   "detail": "Could not understand the provided credentials."}]})
    world.server.inject(Fault.http_error(status, body), path="/v2/calls")
    with pytest.raises(AuthenticationError, match=str(status)):
        world.client.dial(**DIAL)
    assert len(world.sent("/v2/calls")) == 1


def test_a_wrong_api_key_is_refused_by_the_emulator(world):
    url = world.app.connect_url(world.server.url).replace("telnyx-demo-key", "wrong-key")
    with connect(url) as wrong, pytest.raises(AuthenticationError) as caught:
        wrong.list_calls()
    assert "wrong-key" not in str(caught.value)


def test_429_is_honoured_for_keyed_commands_and_sms(world):
    """A 429 is a complete refusal: a keyed command is re-sent with its command_id, and an SMS
    (no key) may be re-sent too, since Telnyx did not act on the refused one."""
    limited = Fault.http_error(429, json.dumps({"errors": [{"code": "10011", "title":
                                                            "Too many requests"}]}),
                               headers={"Retry-After": "0"})
    world.server.inject(limited, path="/v2/calls", times=1)
    world.client.dial(**DIAL, idempotency_key="rl-1")
    assert [b["command_id"] for b in world.sent("/v2/calls")] == ["rl-1", "rl-1"]
    world.server.inject(limited, path="/v2/messages", times=1)
    world.client.send_sms("tel:+41000", "hi", sender="+15550100")
    assert len(world.sent("/v2/messages")) == 2
    world.server.inject(limited, path="/v2/messages", times=None)
    with pytest.raises(RateLimited):
        world.client.send_sms("tel:+41000", "hi", sender="+15550100")


def test_the_api_key_never_shows(world, caplog):
    caplog.set_level("DEBUG")
    world.server.inject(Fault.http_error(500), path="/v2/calls", times=3)
    with pytest.raises(Exception) as caught:
        world.client.dial(**DIAL)
    shown = [str(caught.value), repr(world.client), repr(world.client.config),
             *(r.getMessage() for r in caplog.records)]
    assert not any("telnyx-demo-key" in text for text in shown)

"""The contract pieces every provider shares: one idempotency key per logical operation (the same
on every retry), operations a provider declares safe to re-send, flows continued on events, and
the Basic-auth helper whose encoded credential is a secret."""

from __future__ import annotations

import logging

import pytest

import telephony_core
from telephony_core import context
from telephony_core.emulation import Fault
from telephony_core.errors import OutcomeUnknown, PayloadError, ProviderError, TransportError
from telephony_core.http import WireRequest
from telephony_core.provider import FollowUp
from telephony_core.redaction import get_logger
from telephony_core.results import Event

from .conftest import LoopbackProvider, loopback_variant


class KeyedProvider(LoopbackProvider):
    """Sends the operation's idempotency key with the dial, as Telnyx sends command_id."""

    retry_safe = frozenset({"dial"})

    def authorize(self, request: WireRequest) -> WireRequest:
        ctx = context.current()
        request = super().authorize(request)
        return request.with_params(key=ctx.idempotency_key) if ctx else request

    def parse_event(self, body, headers):
        return [Event(kind="call.answered", provider=self.name, call_id="c1")]

    def follow_up(self, event):
        if event.kind == "call.answered":
            return [FollowUp(WireRequest("POST", "/hold", json={"call": event.call_id}),
                             retry_safe=True, reason="hold on answer")]
        return ()


@pytest.fixture
def keyed():
    with loopback_variant("keyed", KeyedProvider, events=True) as (_, server, url), \
            telephony_core.connect(url, timeout=0.3, deadline=5) as client:
        client.list_calls()
        server.clear()
        yield server, client


def keys(server, path):
    return [r.query.get("key") for r in server.requests_to(path)]


def test_every_retry_of_an_operation_carries_the_same_idempotency_key(keyed):
    server, client = keyed
    server.inject(Fault.reset_after_read(), path="/dial", times=1)
    ref = client.dial("ext:1000", "tel:41000", idempotency_key="order-4711")
    assert ref.call_id and keys(server, "/dial") == ["order-4711", "order-4711"]


def test_a_generated_key_is_fixed_per_logical_operation_and_new_for_the_next(keyed):
    server, client = keyed
    server.inject(Fault.reset_after_read(), path="/dial", times=1)
    client.dial("ext:1000", "tel:41000")
    client.dial("ext:1000", "tel:41000")
    first, again, second = keys(server, "/dial")
    assert first == again != second and len(first) == 32


def test_an_operation_not_declared_retry_safe_stays_at_most_once(loopback):
    server, client = loopback
    client.list_calls()
    server.inject(Fault.reset_after_read(), path="/dial", times=1)
    with pytest.raises(OutcomeUnknown):
        client.dial("ext:1000", "tel:41000", idempotency_key="order-1")
    assert len(server.requests_to("/dial")) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 65, 42, "-leading"])
def test_a_bad_idempotency_key_is_refused_before_traffic(keyed, key):
    server, client = keyed
    with pytest.raises(PayloadError) as info:
        client.dial("ext:1000", "tel:41000", idempotency_key=key)
    assert info.value.problems[0].path == "idempotency_key" and server.attempts == 0


def test_handle_event_continues_the_flow_with_the_provider_s_next_step(keyed):
    server, client = keyed
    server.inject(Fault.reset_after_read(), path="/hold", times=1)
    events = client.handle_event(b"{}")
    assert [e.kind for e in events] == ["call.answered"]
    assert len(server.requests_to("/hold")) == 2  # retry_safe: re-sent after the reset


def test_the_basic_auth_helper_registers_the_encoded_credential(keyed, caplog):
    _, client = keyed
    header = client.provider.basic_auth("bob", "s3cret-pw")
    encoded = header["Authorization"].split()[1]
    log = get_logger("telephony_core.test")
    with caplog.at_level(logging.INFO):
        log.info("sent %s and %s", header, encoded)
    assert encoded not in caplog.text and "s3cret-pw" not in caplog.text


def test_one_info_line_per_operation_with_its_outcome(loopback, caplog):
    _, client = loopback
    with caplog.at_level(logging.INFO, logger="telephony_core.client"):
        client.list_calls()
        with pytest.raises(ProviderError):
            client.mute("ext:1000")  # the app answers 409: busy
    lines = [r.getMessage() for r in caplog.records if r.name == "telephony_core.client"]
    assert lines[0].startswith("loopback.list_calls ok in ")
    assert lines[1].startswith("loopback.mute ProviderError in ") and len(lines) == 2


class TwoStepProvider(LoopbackProvider):
    """A dial in two requests (like Twilio's conference dial): the caller's leg, then the
    callee's. Its second request goes to a port where nothing listens."""

    cleaned: list[str] = []

    def two_step(self, payload):
        reply = yield WireRequest("POST", "/dial", json={"from": payload["caller"],
                                                         "to": payload["callee"]})
        first = self.decode(reply, None)
        try:
            reply = yield WireRequest("POST", "/dial", json={"from": "x", "to": "y"},
                                      base="http://127.0.0.1:9")
        except TransportError:
            self.cleaned.append(first["id"])  # the exchange sees the failure: it may clean up
            raise
        return first

    routes = {**LoopbackProvider.routes, "dial": two_step}


def test_a_request_never_sent_after_one_that_was_is_outcome_unknown(loopback_spec):
    with loopback_variant("twostep", TwoStepProvider) as (_, server, url):
        with telephony_core.connect(url, retries=2) as client:
            client.list_calls()
            with pytest.raises(OutcomeUnknown) as info:
                client.dial("ext:1000", "tel:41000")
        assert len(server.requests_to("/dial")) == 1  # the first leg: never placed twice
    assert "earlier request" in str(info.value) and TwoStepProvider.cleaned == ["c1"]

"""command_id makes Telnyx commands safe to re-send: under every fault, a retried command carries
the same command_id (the operation's idempotency key) and Telnyx (here its emulator) acts once;
send_sms has no key and is sent at most once."""

from __future__ import annotations

import pytest

from telephony_core.emulation import WIRE_FAULTS, Fault
from telephony_core.errors import OutcomeUnknown, TelephonyError
from telephony_core.results import Ack, CallRef

DIAL = {"caller": "tel:+41000", "callee": "tel:+41001", "caller_id": "+15550100"}

#: faults after which the emulator has acted but the reply is lost or unreadable
LOST_REPLY = {"reset_after_read": Fault.reset_after_read, "delay": lambda: Fault.delay(0.9),
              "truncated_body": Fault.truncated_body, "malformed_body": Fault.malformed_body,
              "http_503": lambda: Fault.http_error(503, b'{"errors": [{"code": "10007", '
                                                        b'"title": "Service unavailable"}]}')}


def test_the_provider_declares_exactly_the_keyed_commands_retry_safe(world):
    assert world.client.provider.retry_safe == {"dial", "play_prompt", "transfer", "hangup",
                                                "monitor"}
    assert "send_sms" not in world.client.provider.retry_safe


@pytest.mark.parametrize("fault", sorted(LOST_REPLY))
def test_dial_is_retried_with_the_same_command_id_and_placed_once(world, fault):
    world.server.inject(LOST_REPLY[fault](), path="/v2/calls", times=1)
    ref = world.client.dial(**DIAL, idempotency_key="crm-42")
    sent = world.sent("/v2/calls")
    assert len(sent) == 2, f"{fault}: expected one retry, saw {len(sent)} requests"
    assert {body["command_id"] for body in sent} == {"crm-42"}
    calls = world.pbx.snapshot()["calls"]
    assert len(calls) == 1 and isinstance(ref, CallRef), f"{fault}: {calls}"
    assert len(world.app.legs) == 1  # the repeat was ignored (or the first never reached it)


def test_without_a_caller_key_every_attempt_shares_a_generated_one(world):
    world.server.inject(Fault.reset_after_read(), path="/v2/calls", times=1)
    world.client.play_prompt("tel:+41000", ["hello111"], caller_id="+15550100")
    keys = [body["command_id"] for body in world.sent("/v2/calls")]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) >= 16
    world.client.play_prompt("tel:+41001", ["hello111"], caller_id="+15550100")
    assert world.sent("/v2/calls")[-1]["command_id"] != keys[0]  # a new operation, a new key


@pytest.mark.parametrize("operation", ["transfer", "hangup", "monitor"])
def test_call_commands_are_retried_with_the_same_command_id(world, operation):
    ref = world.client.play_prompt("tel:+41000", ["hello111"], caller_id="+15550100")
    world.pbx.answer("tel:+41000")
    payload = {"transfer": {"call": f"call:{ref.call_id}", "to": "tel:+41002"},
               "hangup": {"call": f"call:{ref.call_id}"},
               "monitor": {"supervisor": "sip:1005@sip.telnyx.com",
                           "call": f"call:{ref.call_id}",
                           "mode": "barge"}}[operation]
    path = "/v2/calls" if operation == "monitor" else \
        f"/v2/calls/{ref.call_id}/actions/{operation}"
    world.server.inject(Fault.reset_after_read(), path=path, times=1)
    result = world.client.invoke(operation, payload, idempotency_key=f"{operation}-9")
    assert isinstance(result, CallRef | Ack)
    bodies = world.sent(path)[-2:]
    assert [b["command_id"] for b in bodies] == [f"{operation}-9"] * 2


def test_send_sms_is_sent_at_most_once(world):
    world.server.inject(Fault.reset_after_read(), path="/v2/messages", times=1)
    with pytest.raises(OutcomeUnknown):
        world.client.send_sms("tel:+41000", "hello", sender="+15550100")
    assert len(world.sent("/v2/messages")) == 1
    assert len(world.pbx.snapshot()["sms"]) == 1


@pytest.mark.parametrize("fault", WIRE_FAULTS, ids=str)
def test_wire_faults_never_place_a_second_call(world_with, fault):
    with world_with(deadline=1.5, timeout=0.5) as w:
        w.server.inject(fault, path="/v2/calls", times=1)
        recoverable = fault.kind.name in ("GARBAGE_REPLY", "TRUNCATED_HEAD")
        try:
            w.client.dial(**DIAL, idempotency_key="wire-1")
            placed = True
        except TelephonyError:
            placed = False  # a redirect, an oversize reply, a deadline: typed, and said
        bodies = w.sent("/v2/calls")
        if recoverable:
            assert placed and len(bodies) == 2, f"{fault}: a retry should have recovered"
        assert {b["command_id"] for b in bodies} <= {"wire-1"}
        assert len(w.pbx.snapshot()["calls"]) <= 1
        assert len(w.app.legs) <= 1


def test_the_conformance_fixtures_know_the_keyed_commands(world):
    from telephony_telnyx.conformance import KEYED

    assert world.client.provider.retry_safe - {"hangup"} == KEYED  # hangup is idempotent anyway

"""The sim provider through the public API: every operation, events round-trip, set-up option."""

from __future__ import annotations

import pytest

import telephony_core
from telephony_core.errors import ConfigurationError, PayloadError, ProviderError
from telephony_core.results import Ack, CallInfo, CallRef, MusicOnHold, SmsReceipt
from telephony_core.sim.provider import event_to_json


@pytest.fixture
def client():
    with telephony_core.connect("sim://") as c:
        yield c


def test_connect_with_nothing_configured_is_the_simulator(client, monkeypatch):
    assert client.name == "sim" and set(client.operations) == set(telephony_core.OPERATIONS)
    with telephony_core.connect("sim://") as named:
        assert named.name == "sim"


def test_every_operation(client):
    pbx = client.provider.pbx
    ref = client.dial("ext:1000", "ext:1001")
    assert isinstance(ref, CallRef) and ref.call_id == "1495700000.101"
    pbx.answer("ext:1000")
    pbx.answer("ext:1001")
    assert isinstance(client.hold("ext:1000"), Ack) and client.list_calls()[0].state == "held"
    client.unhold(f"call:{ref.call_id}")
    client.mute("ext:1001")
    client.unmute("ext:1001")
    client.monitor("ext:1005", "ext:1001", "barge")
    assert client.transfer("ext:1000", "ivr:6500").call_id == ref.call_id
    [info] = client.list_calls(direction="outbound", ids=[f"call:{ref.call_id}"])
    assert isinstance(info, CallInfo) and (info.caller, info.callee) == ("ext:1001", "ivr:6500")
    client.hangup(f"call:{ref.call_id}")
    offered = pbx.incoming("5559999", "5551000")
    client.accept_call(f"call:{offered.id}")
    offered2 = pbx.incoming("5559998", "5551000")
    client.reject_call(f"call:{offered2.id}")
    moh = client.set_music_on_hold({"extension": "1000"}, use_internal_source=True,
                                   internal_source={"selection": "custom", "file": "a.wav"})
    assert isinstance(moh, MusicOnHold) and moh.internal_source.file == "a.wav"
    assert client.get_music_on_hold({"extension": "1000"}).use_internal_source is True
    sms = client.send_sms("tel:41000", "hi")
    assert isinstance(sms, SmsReceipt) and sms.status == "sent"
    prompt = client.play_prompt("ext:1002", ["hello111"], auto_answer=True, reference="x")
    assert prompt.call_id in pbx.calls


def test_refusals_are_typed_errors_that_say_why(client):
    with pytest.raises(ProviderError) as info:
        client.hold("ext:1000")
    assert (info.value.category, info.value.code) == ("not_found", "call_not_found")
    assert "extension 1000 is in no call" in str(info.value)


def test_the_sim_narrows_what_its_model_refuses(client):
    with pytest.raises(PayloadError, match=r"\$.supervisor"):
        client.monitor("sip:boss@example.com", "ext:1000", "listen")
    with pytest.raises(PayloadError, match=r"\$.to"):
        client.play_prompt("ivr:6500", ["hello111"])


def test_events_round_trip_through_parse_event(client):
    pbx = client.provider.pbx
    client.play_prompt("tel:41000", ["hello111"], reference="order-7")
    pbx.answer("tel:41000")
    pbx.clock.advance(5)
    for event in pbx.events:
        [parsed] = client.parse_event(event_to_json(event))
        assert parsed == event  # kind, call id, parties, time, reference, data
    assert pbx.events[-1].kind == "cdr" and pbx.events[-1].reference == "order-7"


def test_setup_option(tmp_path):
    setup = tmp_path / "mine.toml"
    setup.write_text('[[extensions]]\nnumber = "7"\n[[extensions]]\nnumber = "8"\n')
    with telephony_core.connect(f"sim://?setup={setup}") as c:
        c.dial("ext:7", "ext:8")
        with pytest.raises(ProviderError, match="extension 1000 does not exist"):
            c.dial("ext:1000", "ext:8")
    with pytest.raises(ConfigurationError, match="cannot read"):
        telephony_core.connect("sim", setup=str(tmp_path / "none.toml"))

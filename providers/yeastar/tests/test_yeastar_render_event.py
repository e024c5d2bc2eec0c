"""render_event (the conformance kit's hook): what the emulator renders, and what it declines."""

import json

from telephony_yeastar.emulator import YeastarEmulator

from telephony_core.results import Event


def test_canonical_ring_of_an_internal_call_has_one_ext_key_per_extension():
    body, headers = YeastarEmulator().render_event(Event(
        provider="yeastar", kind="call.ringing", call_id="1.2",
        parties=("ext:1000", "ext:1002")))
    assert headers == {"Content-Type": "application/json"}
    assert body.count(b'"ext"') == 2 and json.loads(body)["action"] == "RING"


def test_canonical_inbound_ringing_is_an_incoming_report_with_the_inbound_leg():
    body, _ = YeastarEmulator().render_event(Event(
        provider="yeastar", kind="call.ringing", call_id="7.1", parties=("tel:555", "ext:1002")))
    assert json.loads(body) == {"action": "Incoming", "callid": "7.1", "inbound": {
        "from": "555", "to": "1002", "trunk": "", "inboundid": "7.1"}}


def test_model_event_whose_report_names_a_party_it_lacks_is_not_rendered():
    emulator = YeastarEmulator()
    emulator._legs["9.1"] = {"direction": "outbound", "object": {
        "from": "1003", "to": "41000", "trunk": "", "outboundid": "9.2"}}
    event = Event(provider="yeastar", kind="call.ringing", call_id="9.1",
                  parties=("ext:1003",), data={"party": "ext:1003"})
    assert emulator.render_event(event) is None  # LEG_PARTIES_NOT_IN_MODEL


def test_a_system_event_naming_no_report_is_not_rendered():
    assert YeastarEmulator().render_event(Event(provider="yeastar", kind="system")) is None

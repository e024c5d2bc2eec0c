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


def test_the_1_0_2_samples_render_member_by_member_in_the_documented_shape():
    """The 1.0.2 ``call`` list mixes ``inbound`` and ``ext`` members; the kit compares every
    list item with the first documented one, so this compares them pairwise (the ANSWER
    sample's declared gap in conformance.py names the kit's limit)."""
    from pathlib import Path

    from telephony_core.testing.documented import load, shape_differences

    documented = load(Path(__file__).parent / "documented" / "reports_1_0_2.json")
    assert len(documented.exchanges) == 2
    for exchange in documented.exchanges:
        emulator = YeastarEmulator(report_format=documented.config["report_format"])
        [wanted] = exchange.events
        event = Event(provider="yeastar", **wanted)
        body, _ = emulator.render_event(event)
        data, sample = json.loads(body), exchange.event["json"]
        assert set(data) == set(sample), exchange.name
        assert len(data["call"]) == len(sample["call"]), exchange.name
        out: list[str] = []
        for index, (doc, got) in enumerate(zip(sample["call"], data["call"], strict=True)):
            shape_differences(doc, got, f"call[{index}]", out)
        assert out == [], (exchange.name, out)


def test_a_canonical_cdr_with_a_pin_code_renders_it_and_one_without_does_not():
    """cdr.md sample 2 carries ``pincode``; parse_event keeps it in data, render_event gives
    it back; the model's own cdr never has one."""
    event = Event(provider="yeastar", kind="cdr", call_id="1505352615.274",
                  parties=("ext:1000", "tel:91000"),
                  data={"action": "NewCdr", "type": "Outbound", "pincode": "1000"})
    body, _ = YeastarEmulator().render_event(event)
    assert json.loads(body)["pincode"] == "1000"
    body, _ = YeastarEmulator().render_event(Event(
        provider="yeastar", kind="cdr", call_id="1.2", parties=("ext:1000", "tel:91000"),
        data={"action": "NewCdr", "type": "Outbound"}))
    assert "pincode" not in json.loads(body)


def test_every_report_of_an_extensions_trunk_call_reads_back_into_the_models_event():
    """The model names the dialled number from the first event of the call, as the guide's
    RING/ANSWER do (ringing.md: the outbound object), so none of these is declined."""
    from telephony_yeastar.events import events_from_report

    emulator = YeastarEmulator()
    seen = []
    emulator.pbx.subscribe(seen.append)
    call = emulator.pbx.dial("ext:1002", "tel:41000")
    emulator.pbx.answer("ext:1002")
    emulator.pbx.answer("tel:41000")
    emulator.pbx.hangup(f"call:{call.id}")
    assert [e.kind for e in seen] == ["call.ringing", "call.answered", "call.ringing",
                                      "call.answered", "call.hangup", "cdr"]
    for event in seen:
        body, _ = emulator.render_event(event)
        [parsed] = events_from_report(body)
        assert (parsed.kind, parsed.parties) == (event.kind, ("ext:1002", "tel:41000"))
        assert parsed.call_id == call.id

"""Pure translation against seed 001's request sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from telephony_telecmi.translate import bridge_call, event_from_webhook, play_call

from telephony_core.errors import EventError
from telephony_core.results import EVENT_KINDS

FIXTURES = Path(__file__).parent / "fixtures"
CREDS = {"appid": 2222226, "secret": "xxxx-xxxx-xxxx-xxxx"}


def test_the_seed_sample_is_what_play_prompt_sends():
    seed = json.loads((FIXTURES / "seed_make_call_request.json").read_text())
    body = play_call(CREDS, {"to": "tel:19170000001", "prompts": ["welcome_11112.wav"],
                             "caller_id": "19170000000", "reference": "value"})
    # the sample's extra_params is the free-form {"key": "value"}; ours carries the reference,
    # as JSON text: the table types it string and the events echo that text back
    assert body.pop("extra_params") == '{"reference":"value"}'
    seed.pop("extra_params")
    assert list(body.items()) == list(seed.items())  # same keys, values, types and order
    assert isinstance(body["from"], int) and isinstance(body["to"], int)


def test_prompts_become_play_actions_in_order():
    body = play_call(CREDS, {"to": "tel:4915112345678", "caller_id": "4930123",
                             "prompts": ["a.wav", "https://cdn.example/b.mp3", "c.wav"]})
    assert body["pcmo"] == [{"action": "play", "file_name": "a.wav"},
                            {"action": "play", "file_url": "https://cdn.example/b.mp3"},
                            {"action": "play", "file_name": "c.wav"}]
    assert (body["to"], body["from"]) == (4915112345678, 4930123) and "extra_params" not in body


def test_dial_is_a_bridge_from_the_caller_to_the_callee():
    body = bridge_call(CREDS, {"caller": "tel:41000", "callee": "tel:41001",
                               "caller_id": "5551000"})
    assert body["to"] == 41000
    assert body["pcmo"] == [{"action": "bridge", "from": 5551000, "timeout": 30,
                             "connect": [{"type": "pstn", "number": 41001}]}]


def test_a_global_live_event_is_read_with_its_kind_time_and_reference():
    """PIOPIY-doc piopiy/docs/live-out-answered, leg a: no type field, status out_answered,
    time in milliseconds, extra_params a JSON string. It used to become a bare system event
    with no time and the whole string as its reference."""
    live = event_from_webhook({
        "appid": 2222224, "callerid": 440000000000,
        "conversation_uuid": "GQqYoKtV3Tn25SVqbWwdzPkNwMBo9hhLwWadm9N71N5",
        "direction": "outbound", "extra_params": '{"reference":"order-9"}',
        "from": 440000000000, "leg": "a",
        "request_id": "GQqYoKtV3Tn25SVqbWwdzPkNwMBo9hhLwWadm9N71N5", "status": "out_answered",
        "time": 1725942871456, "to": 19170000000,
        "cmiuuid": "ee6a7a9b-78ea-4693-9e77-5fc085567b2f", "vn": 440000000000})
    assert (live.kind, live.reference, live.data["leg"]) == ("call.answered", "order-9", "a")
    assert live.at.isoformat() == "2024-09-10T04:34:31.456000+00:00"
    bridged = event_from_webhook({"status": "out_bridged", "leg": "b", "cmiuuid": "b-1"})
    assert bridged.kind == "call.answered"


def test_a_cdr_has_no_billsec_and_talk_comes_from_its_times():
    """PIOPIY-doc piopiy/docs/inbound-webhooks-answered (the sample's extra_params is not JSON,
    so it carries no reference)."""
    cdr = event_from_webhook({
        "to": 440000000000, "appid": 2222222, "time": 1632318511000, "start_time": 1632318510,
        "end_time": 1632318528, "from": 440000000001, "direction": "inbound", "duration": 13,
        "extra_params": "{ 'Name': 'Akil', 'ID':8915726 }",
        "cmiuuid": "55348d77-c515-425d-b22c-f0c6ecd8d780", "call_rate": "0.450000",
        "balance": "878.900000", "conversation_uuid": "c62abd10-1bab-11ec-8e24-ddb7c33510ad",
        "answer_time": 1632318515, "leg": "a", "status": "answered", "type": "cdr"})
    assert (cdr.kind, cdr.reference, cdr.data["talk"]) == ("cdr", None, 13)
    assert cdr.at.isoformat() == "2021-09-22T13:48:48+00:00"  # end_time, in seconds


@pytest.mark.parametrize("body", [
    [], "x", None, 5, {"time": "soon"}, {"time": 1e300}, {"type": "cdr", "end_time": [1]},
    {"cmiuuid": {"a": 1}}, {"status": ["out_answered"]}, {"from": True, "to": 1},
    {"extra_params": {"reference": ["x"]}}, {"time": float("nan")},
])
def test_an_unreadable_webhook_is_a_typed_error_or_an_event_never_a_raw_exception(body):
    try:
        event = event_from_webhook(body)
    except EventError as exc:
        assert exc.operation == "parse_event" and exc.problem
    else:
        assert event.kind in EVENT_KINDS


def test_india_events_keep_their_type_field():
    live = event_from_webhook({"type": "event", "leg": "a", "time": 1571043651000,
                               "to": 9200000000, "from": 4471000000, "cmiuuid": "a9c8",
                               "status": "started"})
    assert (live.kind, live.at.year) == ("call.ringing", 2019)
    waiting = event_from_webhook({"type": "event", "status": "waiting", "cmiuuid": "u-1"})
    assert waiting.kind == "system" and waiting.data["status"] == "waiting"

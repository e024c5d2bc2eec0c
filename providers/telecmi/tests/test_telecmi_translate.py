"""Pure translation against seed 001's request sample."""

from __future__ import annotations

import json
from pathlib import Path

from telephony_telecmi.translate import bridge_call, event_from_webhook, play_call

FIXTURES = Path(__file__).parent / "fixtures"
CREDS = {"appid": 2222226, "secret": "xxxx-xxxx-xxxx-xxxx"}


def test_the_seed_sample_is_what_play_prompt_sends():
    seed = json.loads((FIXTURES / "seed_make_call_request.json").read_text())
    body = play_call(CREDS, {"to": "tel:19170000001", "prompts": ["welcome_11112.wav"],
                             "caller_id": "19170000000", "reference": "value"})
    # the sample's extra_params is the free-form {"key": "value"}; ours carries the reference
    assert body.pop("extra_params") == {"reference": "value"}
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


def test_webhooks_become_events_with_the_reference():
    live = event_from_webhook({"type": "event", "status": "answered", "cmiuuid": "u-1",
                               "request_id": "r-1", "extra_params": {"reference": "order-9"},
                               "from": 5551000, "to": 41000})
    assert (live.kind, live.call_id, live.reference) == ("call.answered", "u-1", "order-9")
    assert live.parties == ("tel:5551000", "tel:41000") and live.data["request_id"] == "r-1"
    cdr = event_from_webhook({"type": "cdr", "cmiuuid": "u-1", "billsec": 12,
                              "extra_params": "plain-string"})
    assert (cdr.kind, cdr.reference, cdr.data["billsec"]) == ("cdr", "plain-string", 12)
    waiting = event_from_webhook({"type": "event", "status": "waiting", "cmiuuid": "u-1"})
    assert waiting.kind == "system" and waiting.data["status"] == "waiting"

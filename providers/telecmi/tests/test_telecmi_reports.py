"""The TeleCMI emulator's own reports against the documented samples' shapes.

The conformance kit (``telephony_core.testing.documented``, run by the conformance suite) checks
every documented exchange in both directions; what it cannot see is what the emulator *sends*
(callbacks, webhooks). These tests compare those with the documented live-event and CDR
samples: same keys, same JSON types.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests

from telephony_core.emulation import start_emulator
from telephony_core.testing.documented import documented_bodies, shape_of

SAMPLES = documented_bodies(Path(__file__).parent / "documented")


def test_the_emulator_sends_live_events_and_cdrs_in_the_documented_shapes(webhook_receiver):
    """The global samples' keys and JSON types (live-out-started/answered, one CDR per leg)."""
    receiver, app = webhook_receiver
    live = SAMPLES["live event, global, leg b answered: out_bridged"]
    cdr = SAMPLES["CDR, one leg: no billsec; talk time from answer_time and end_time"]
    server = start_emulator("telecmi", appid=2222226, secret="s",
                            webhook_url=receiver.url + "/hook")
    try:
        requests.post(server.url + "/v2/global_pcmo_make_call", json={
            "appid": 2222226, "secret": "s", "from": 5551000, "to": 41000,
            "extra_params": '{"reference":"r"}',
            "pcmo": [{"action": "bridge", "connect": [{"type": "pstn", "number": 41001}]}]},
            timeout=5).raise_for_status()
        pbx = server.app.pbx
        pbx.answer("tel:41000")
        pbx.answer("tel:41001")
        pbx.clock.advance(3)
        pbx.hangup(f"call:{pbx.list_calls()[-1].id}")
        server.app.sender.wait(5)
        bodies = [json.loads(b) for b in app.bodies]
        lives = [b for b in bodies if b.get("type") != "cdr"]
        cdrs = [b for b in bodies if b.get("type") == "cdr"]
        assert [b["status"] for b in lives] == ["out_started", "out_answered", "out_started",
                                                "out_bridged"]
        for body in lives:
            assert shape_of(live, body) == [], body
        assert sorted(b["leg"] for b in cdrs) == ["a", "b"]
        for body in cdrs:  # the inbound sample has no request_id; outbound CDRs carry it
            assert shape_of({**cdr, "request_id": "x"}, body) == [], body
    finally:
        server.stop()


def test_an_india_call_reports_in_the_india_shapes(webhook_receiver):
    """piopiy-india/docs/live-out-started and outbound-webhooks-answered: type event/cdr."""
    receiver, app = webhook_receiver
    live = SAMPLES["live event, India: type event, status started"]
    cdr = SAMPLES["CDR, India outbound leg a: request_id joins it to the make-call reply"]
    server = start_emulator("telecmi", appid=2222226, secret="s",
                            webhook_url=receiver.url + "/hook")
    try:
        requests.post(server.url + "/v2/ind_pcmo_make_call", json={
            "appid": 2222226, "secret": "s", "from": 4471000000, "to": 9200000000,
            "extra_params": '{"key":"value"}',
            "pcmo": [{"action": "play", "file_name": "hello111"}]}, timeout=5).raise_for_status()
        pbx = server.app.pbx
        pbx.answer("tel:9200000000")
        pbx.clock.advance(5)
        server.app.sender.wait(5)
        bodies = [json.loads(b) for b in app.bodies]
        assert [b["status"] for b in bodies] == ["started", "answered", "answered"]
        # the live sample has no extra_params/request_id (not a make-call); its table types
        # callerid a number (the sample's 04471000000 is transcribed as text: not valid JSON)
        for body in bodies[:2]:
            assert shape_of({**live, "extra_params": "", "request_id": "", "callerid": 0},
                          body) == [], body
        assert shape_of(cdr, bodies[2]) == [], bodies[2]
    finally:
        server.stop()

"""The far-end commands of ``telephony emulate``, run on the PBX model without a terminal."""

from __future__ import annotations

import json
import threading
import time

import pytest

import telephony_core
from telephony_core.emulation.far_end import (
    COMMANDS,
    AutoAnswer,
    FarEnd,
    WallClock,
    event_record,
    start_at_wall_time,
)
from telephony_core.sim import Pbx


@pytest.fixture
def pbx():
    return Pbx.default()


@pytest.fixture
def far(pbx):
    return FarEnd(pbx, name="test")


def run(far, line):
    outcome = far.execute(line)
    assert outcome is not None
    return outcome


def test_answer_hangup_and_calls_drive_the_model(far, pbx):
    call = pbx.dial("ext:1000", "ext:1001")
    assert run(far, "answer 1000").data == {"party": "ext:1000", "call_id": call.id}
    assert run(far, "answer ext:1001").ok
    listed = run(far, "calls")
    assert listed.ok and listed.data["calls"] == [{
        "call_id": call.id, "direction": "internal", "state": "talking",
        "parties": [{"party": "ext:1000", "state": "talking", "role": "party"},
                    {"party": "ext:1001", "state": "talking", "role": "party"}]}]
    assert f"call {call.id}  internal  talking  ext:1000 (talking), ext:1001 (talking)" == \
        listed.text
    assert run(far, "HANGUP 1001").ok and pbx.calls == {}
    assert pbx.events[-2].data == {"by": "ext:1001", "reason": "hangup"}
    assert run(far, "calls").text == "no live calls"


def test_reject_press_and_an_outside_party(far, pbx):
    pbx.dial("ext:1000", "tel:41000", auto_answer=True)
    outcome = run(far, "reject 41000")  # not an extension: the outside number
    assert outcome.ok and outcome.data["party"] == "tel:41000" and pbx.calls == {}
    assert pbx.events[-3].data == {"reason": "rejected", "party": "tel:41000"}
    call = pbx.play_prompt("ext:1002", ["hello111"], menu={"1": "ext:1003"}, auto_answer=True)
    pbx.clock.advance(5)  # the prompt played: the menu waits for a key
    assert run(far, "press 1002 1").data == {"party": "ext:1002", "key": "1",
                                              "call_id": call.id}
    assert [e.kind for e in pbx.events[-3:]] == ["call.dtmf", "call.transferred",
                                                 "call.ringing"]
    for key in "#*":  # not a shell comment or a glob: the keys themselves
        assert run(far, f"press 1002 {key}").data["key"] == key


def test_incoming_offers_a_call_and_advance_moves_the_clock(far, pbx):
    outcome = run(far, "incoming tel:5559999 5551000")
    assert outcome.ok and outcome.data["from"] == "tel:5559999"
    assert pbx.events[-1].kind == "call.offered"
    before = pbx.clock.now()
    assert run(far, "advance 10.5").data["seconds"] == 10.5
    assert pbx.clock.now() == before + 10.5
    assert pbx.events[-1].kind == "call.ringing"  # the offer window passed: routed to ext:1000


@pytest.mark.parametrize("line, says", [
    ("bogus", "unknown command 'bogus'; type help"),
    ("answer", "usage: answer PARTY"),
    ("press 1000", "usage: press PARTY KEY"),
    ("calls now", "usage: calls"),
    ("answer 1001", "ext:1001 is not ringing"),
    ("answer ext:1009", "there is no extension 1009 (extensions: 1000, 1001"),
    ("answer 1009", "tel:1009 is not ringing (1009 is not an extension, so it was taken as "
                    "tel:1009"),
    ("answer bob", "'bob' is not a party"),
    ("answer ivr:6500", "is a ivr: address"),
    ("answer ext:", "not a valid ext: address"),
    ("hangup 1000", "ext:1000 is in no call"),
    ("press 1000 x", "'x' is not a key"),
    ("incoming alice 5551000", "'alice' is not a phone number"),
    ("advance soon", "'soon' is not a number of seconds"),
    ("advance -1", "above 0"),
    ("advance nan", "above 0"),
    ("advance inf", "above 0"),
    ('answer "1001', "cannot read the command"),
])
def test_bad_commands_say_what_was_wrong_and_raise_nothing(far, line, says):
    outcome = run(far, line)
    assert not outcome.ok and says in outcome.text and not outcome.quit
    record = outcome.record()
    assert record["ok"] is False and says in record["error"]
    json.dumps(record)


def test_blank_lines_help_and_quit(far):
    assert far.execute("   \n") is None
    shown = run(far, "help")
    assert all(name in shown.text for name in COMMANDS)
    assert shown.record()["commands"]["press"] == {
        "arguments": "PARTY KEY", "what": "a party in a call presses a key (0-9, *, #)"}
    assert run(far, "quit").quit


def test_without_a_pbx_model_the_controls_are_unavailable():
    far = FarEnd(None, name="acme")
    outcome = run(far, "answer 1001")
    assert not outcome.ok and "the acme emulator has no PBX model" in outcome.text
    assert run(far, "help").ok and run(far, "quit").quit


def test_a_model_bug_is_one_line_not_a_traceback(far, pbx, monkeypatch):
    def broken(*_):
        raise KeyError("leg")

    monkeypatch.setattr(pbx, "answer", broken)
    outcome = run(far, "answer 1001")
    assert not outcome.ok and outcome.text == "the model failed (KeyError: 'leg')"


def test_event_records_are_the_sims_webhook_body(pbx):
    seen = []
    pbx.subscribe(seen.append)
    pbx.dial("ext:1000", "ext:1001", reference="r-1")
    record = event_record(seen[0])
    assert record["type"] == "event" and record["kind"] == "call.ringing"
    with telephony_core.connect("sim://") as sim:  # a script can read them with the sim's parser
        [parsed] = sim.parse_event(json.dumps(record).encode())
    assert parsed == seen[0]


def test_start_at_wall_time_moves_a_fresh_clock_to_now(pbx):
    start_at_wall_time(pbx)
    assert abs(pbx.clock.now() - time.time()) < 2 and pbx.clock.now() == int(pbx.clock.now())


def test_the_wall_clock_fires_timers_in_real_time(pbx):
    pbx.dial("ext:1000", "ext:1001")
    ticker = WallClock(pbx, interval=0.02).start()
    try:
        pbx.clock.advance(29.8)  # a person's `advance`: 0.2 s of ringing left
        deadline = time.monotonic() + 3
        while pbx.calls and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        ticker.stop()
    assert pbx.calls == {}
    assert pbx.events[-3].kind == "call.failed" and pbx.events[-3].data["reason"] == "no_answer"


def test_a_failing_timer_is_reported_and_the_clock_goes_on(pbx):
    errors = []
    pbx.clock.call_later(0.01, lambda: 1 / 0)
    ticker = WallClock(pbx, interval=0.02, on_error=errors.append).start()
    try:
        deadline = time.monotonic() + 3
        while not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        moved = pbx.clock.now()
        while pbx.clock.now() == moved and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        ticker.stop()
    assert errors == ["a timer failed: division by zero"] and pbx.clock.now() > moved


def test_auto_answer_answers_every_ringing_party_after_the_delay(pbx):
    reports = []
    done = threading.Event()

    def report(outcome):
        reports.append(outcome)
        if len(reports) == 2:
            done.set()

    answering = AutoAnswer(pbx, 0.2, report=report).start()
    try:
        started = time.monotonic()
        call = pbx.dial("ext:1000", "ext:1001")
        assert done.wait(3)
        took = time.monotonic() - started
    finally:
        answering.stop()
    assert [(o.ok, o.data["party"]) for o in reports] == [(True, "ext:1000"), (True, "ext:1001")]
    assert 0.4 <= took < 5  # each party after 0.2 s, one after the other
    assert pbx.calls[call.id].state == "talking"


def test_auto_answer_reports_a_party_that_stopped_ringing(pbx):
    reports = []
    answering = AutoAnswer(pbx, 0.2, report=reports.append).start()
    try:
        pbx.dial("ext:1000", "ext:1001")
        pbx.far_hangup("ext:1000")  # gone before the answer
        deadline = time.monotonic() + 3
        while not reports and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        answering.stop()
    assert not reports[0].ok and "ext:1000 is not ringing" in reports[0].text

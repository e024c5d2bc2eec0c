"""The PBX model's rules, each allowed and refused, its events and its clock."""

from __future__ import annotations

import json

import pytest

from telephony_core.errors import ConfigurationError, ProviderError
from telephony_core.sim import Clock, Pbx
from telephony_core.sim.model import OFFER_WINDOW, PROMPT_SECONDS, RING_TIMEOUT


@pytest.fixture
def pbx() -> Pbx:
    return Pbx.default()


def refused(code: str):
    class _Catch:
        def __enter__(self):
            self.ctx = pytest.raises(ProviderError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert self.info.value.code == code, f"{self.info.value.code} != {code}"
            return handled

    return _Catch()


def kinds(pbx: Pbx) -> list[str]:
    return [e.kind for e in pbx.events]


def connected(pbx: Pbx, caller: str = "ext:1000", callee: str = "ext:1001"):
    call = pbx.dial(caller, callee)
    pbx.answer(caller)
    pbx.answer(callee)
    return call


# -- dialling -------------------------------------------------------------------------------

def test_the_caller_rings_first_then_the_callee(pbx):
    call = pbx.dial("ext:1000", "ext:1001")
    assert [leg.party for leg in call.legs] == ["ext:1000"] and call.state == "ringing"
    pbx.answer("ext:1000")
    assert [(leg.party, leg.state) for leg in call.legs] == [
        ("ext:1000", "talking"), ("ext:1001", "ringing")]
    pbx.answer("ext:1001")
    assert call.state == "talking"
    assert kinds(pbx) == ["call.ringing", "call.answered", "call.ringing", "call.answered"]
    assert pbx.events[2].parties == ("ext:1000", "ext:1001")


def test_auto_answer_skips_the_callers_ringing(pbx):
    call = pbx.dial("ext:1000", "ext:1001", auto_answer=True)
    assert [(leg.party, leg.state) for leg in call.legs] == [
        ("ext:1000", "talking"), ("ext:1001", "ringing")]


@pytest.mark.parametrize(("caller", "callee", "code"), [
    ("ext:1999", "ext:1001", "extension_not_found"),
    ("ext:1000", "ext:1999", "extension_not_found"),
    ("ext:1004", "tel:41000", "no_outbound_permission"),
    ("ext:1000", "ivr:6999", "ivr_not_found"),
    ("ext:1000", "queue:6999", "queue_not_found"),
    ("ext:1000", "ringgroup:6999", "ringgroup_not_found"),
    ("ext:1000", "group:nope", "group_not_found"),
    ("ivr:6500", "ext:1001", "unsupported_destination"),
    ("ext:1000", "sip:a@b.example", "unsupported_destination"),
])
def test_dial_refusals(pbx, caller, callee, code):
    with refused(code):
        pbx.dial(caller, callee)
    assert pbx.calls == {} and pbx.events == []


def test_a_busy_caller_is_refused_but_a_holding_one_may_dial(pbx):
    connected(pbx)
    with refused("extension_not_idle"):
        pbx.dial("ext:1000", "ext:1002")
    pbx.hold("ext:1000")
    second = pbx.dial("ext:1000", "ext:1002", auto_answer=True)
    pbx.answer("ext:1002")
    first = next(c for c in pbx.calls.values() if c is not second)
    assert first.legs[0].state == "held"
    pbx.hangup(f"call:{second.id}")
    assert first.legs[0].state == "talking"  # resumed when the new call ended
    assert pbx.events[-1].data == {"extension": "ext:1000", "status": "talking"}


def test_a_busy_or_dnd_callee_fails_the_call_when_reached(pbx):
    connected(pbx, "ext:1000", "ext:1001")
    call = pbx.dial("ext:1002", "ext:1001", auto_answer=True)
    assert call.id not in pbx.calls
    assert [e.data.get("reason") for e in pbx.events if e.kind == "call.failed"] == ["busy"]
    pbx.setup.extensions["1003"].dnd = True
    pbx.dial("ext:1002", "ext:1003", auto_answer=True)
    assert [e.data.get("reason") for e in pbx.events if e.kind == "call.failed"] == [
        "busy", "dnd"]


def test_an_unregistered_extension_cannot_dial(pbx):
    pbx.setup.extensions["1000"].registered = False
    with refused("extension_not_registered"):
        pbx.dial("ext:1000", "ext:1001")


def test_a_ring_unanswered_for_30_seconds_fails_on_the_clock_not_wall_time(pbx):
    call = pbx.dial("ext:1000", "ext:1001")
    pbx.clock.advance(RING_TIMEOUT - 0.1)
    assert call.id in pbx.calls
    pbx.clock.advance(0.2)
    assert call.id not in pbx.calls
    assert kinds(pbx)[-3:] == ["call.failed", "call.hangup", "cdr"]
    assert pbx.events[-1].data["status"] == "NO ANSWER"


def test_a_callback_needs_two_free_trunk_channels(pbx):
    for i in range(3):  # three of the four sip-142 channels in use
        pbx.dial(f"tel:4100{i}", "ext:1001")
    with refused("no_free_trunk") as info:
        pbx.dial("tel:1002", "tel:41000", permission_extension="ext:1000")
    assert "2 channel(s) needed, 1 free" in str(info.value)


def test_a_callback_applies_the_permission_extension(pbx):
    with refused("no_outbound_permission"):
        pbx.dial("tel:1002", "tel:41000", permission_extension="ext:1004")
    call = pbx.dial("tel:1002", "tel:41000", permission_extension="ext:1000")
    pbx.answer("tel:1002")
    pbx.answer("tel:41000")
    assert call.state == "talking" and [leg.trunk for leg in call.legs] == ["sip-142", "sip-142"]


def test_queue_with_no_idle_agent_makes_the_caller_wait_then_serves_it(pbx):
    connected(pbx, "ext:1001", "ext:1000")
    connected(pbx, "ext:1002", "ext:1005")
    call = pbx.dial("tel:41000", "queue:6700")
    pbx.answer("tel:41000")
    assert call.state == "waiting"
    assert pbx.list_calls(ids=[f"call:{call.id}"])[0].legs[-1].party == "queue:6700"
    pbx.far_hangup("ext:1001")  # agent 1001 becomes idle
    assert call.legs[-1].party == "ext:1001" and call.legs[-1].state == "ringing"


def test_ivr_answers_and_its_menu_routes_a_key(pbx):
    call = pbx.dial("tel:41000", "ivr:6500")
    pbx.answer("tel:41000")
    assert call.state == "talking"
    pbx.press("tel:41000", "1")
    assert call.legs[-1].party == "ext:1001"
    assert [e.kind for e in pbx.events][-3:] == ["call.dtmf", "call.transferred", "call.ringing"]


# -- live calls -----------------------------------------------------------------------------

def test_hold_unhold_need_a_connected_call(pbx):
    pbx.dial("ext:1000", "ext:1001")
    with refused("call_not_connected"):
        pbx.hold("ext:1000")
    with refused("call_not_found"):
        pbx.hold("ext:1002")
    with refused("call_not_found"):
        pbx.hold("call:1.1")
    pbx.answer("ext:1000")
    pbx.answer("ext:1001")
    pbx.hold("ext:1000")
    pbx.hold("ext:1000")  # idempotent
    assert pbx.list_calls()[0].state == "held"
    pbx.unhold("ext:1000")
    assert pbx.list_calls()[0].state == "talking"


def test_mute_ends_with_the_call(pbx):
    call = connected(pbx)
    pbx.mute("ext:1000")
    assert call.legs[0].muted
    pbx.unmute("ext:1000")
    pbx.mute("ext:1000")
    pbx.far_hangup("ext:1001")
    assert pbx.extension_state("1000") == "idle"
    again = connected(pbx)
    assert not again.legs[0].muted
    statuses = [e.data["status"] for e in pbx.events if e.kind == "extension.status"]
    assert statuses == ["muted", "unmuted", "muted"]


def test_transfer_of_ringing_and_talking_calls(pbx):
    ringing = pbx.incoming("5559999", "5551000")
    pbx.accept_call(f"call:{ringing.id}")  # rings ext:1000 (inbound route)
    pbx.transfer(f"call:{ringing.id}", "ext:1002", leg="inbound")
    assert ringing.legs[-1].party == "ext:1002"
    talking = connected(pbx, "ext:1000", "ext:1001")
    pbx.transfer("ext:1000", "queue:6700")
    assert talking.legs[0].party == "ext:1001"
    assert any(e.kind == "call.transferred" and e.data["to"] == "queue:6700" for e in pbx.events)


def test_transfer_refusals(pbx):
    call = connected(pbx)
    with refused("ivr_not_found"):
        pbx.transfer("ext:1000", "ivr:1")
    with refused("extension_not_idle"):
        pbx.transfer("ext:1000", "ext:1001")
    with refused("call_not_found"):
        pbx.transfer(f"call:{call.id}", "ext:1002", leg="inbound")  # it is an internal call
    with refused("no_outbound_permission"):
        pbx.transfer("ext:1000", "tel:41000", permission_extension="ext:1004")


def test_monitor_rules(pbx):
    connected(pbx, "ext:1000", "ext:1001")
    pbx.setup.extensions["1002"].monitor_mode = "listen"
    with refused("monitor_mode_mismatch"):
        pbx.monitor("ext:1002", "ext:1001", "barge")
    pbx.monitor("ext:1002", "ext:1001", "listen")
    with refused("already_monitored"):
        pbx.monitor("ext:1005", "ext:1001", "listen")
    with refused("extension_not_idle"):
        pbx.monitor("ext:1002", "ext:1001", "listen")  # the listener is busy listening
    pbx.monitor("ext:1005", "ext:1001", "whisper")  # extensive allows any mode
    connected(pbx, "ext:1003", "tel:41000")
    pbx.setup.extensions["1004"].monitor_mode = "extensive"
    with refused("monitor_not_allowed"):
        pbx.monitor("ext:1004", "ext:1003", "listen")
    pbx.setup.extensions["1004"].monitor_mode = "disabled"
    with refused("monitor_mode_mismatch"):
        pbx.monitor("ext:1004", "ext:1000", "listen")


def test_monitor_needs_a_talking_call(pbx):
    pbx.dial("ext:1000", "ext:1001")
    pbx.answer("ext:1000")
    with refused("call_not_connected"):
        pbx.monitor("ext:1005", "ext:1000", "listen")


def test_a_supervisor_leaving_does_not_end_the_call(pbx):
    call = connected(pbx)
    pbx.monitor("ext:1005", "ext:1000", "barge")
    pbx.far_hangup("ext:1005")
    assert call.id in pbx.calls and pbx.extension_state("1005") == "idle"


# -- inbound --------------------------------------------------------------------------------

def test_an_offered_call_is_accepted_by_default_after_ten_seconds(pbx):
    call = pbx.incoming("5559999", "5551000")
    assert kinds(pbx) == ["call.offered"] and call.offered
    pbx.clock.advance(OFFER_WINDOW)
    assert not call.offered and call.legs[-1].party == "ext:1000"
    with refused("offer_window_expired"):
        pbx.accept_call(f"call:{call.id}")


def test_reject_ends_an_offered_call_and_accept_routes_it(pbx):
    first = pbx.incoming("5559999", "5551000")
    pbx.reject_call(f"call:{first.id}")
    assert first.id not in pbx.calls
    assert pbx.events[-2].data == {"by": "pbx", "reason": "rejected"}
    second = pbx.incoming("5558888", "5550000")  # unrouted number: the default, IVR 6500
    pbx.accept_call(f"call:{second.id}")
    assert second.legs[-1].party == "ivr:6500" and second.state == "talking"
    outbound = pbx.dial("ext:1000", "ext:1001")
    with refused("not_offered"):
        pbx.accept_call(f"call:{outbound.id}")


# -- prompts --------------------------------------------------------------------------------

def test_prompts_play_then_the_call_ends(pbx):
    call = pbx.play_prompt("tel:41000", ["hello111", "queue1"], reference="r-1")
    pbx.answer("tel:41000")
    pbx.clock.advance(2 * PROMPT_SECONDS)
    assert call.id not in pbx.calls
    assert kinds(pbx)[-3:] == ["prompt.finished", "call.hangup", "cdr"]
    assert {e.reference for e in pbx.events} == {"r-1"}


def test_a_menu_key_transfers_and_unknown_prompts_are_refused(pbx):
    with refused("prompt_not_found"):
        pbx.play_prompt("tel:41000", ["nosuch"])
    with refused("group_not_found"):
        pbx.play_prompt("tel:41000", ["hello111"], menu={"1": "group:nope"})
    call = pbx.play_prompt("tel:41000", ["https://x.example/a.mp3"], menu={"1": "group:extGroup-1"})
    pbx.answer("tel:41000")
    pbx.clock.advance(PROMPT_SECONDS)
    pbx.press("tel:41000", "9")  # not in the menu: nothing happens
    assert [leg.party for leg in call.legs] == ["tel:41000"]
    pbx.press("tel:41000", "1")
    assert call.legs[-1].party == "ext:1001"


# -- music on hold and SMS ------------------------------------------------------------------

def test_music_on_hold_per_scope(pbx):
    user = {"tenant": "foo", "group": "foogroup", "user": "foouser"}
    assert pbx.get_music_on_hold(user).source.selection == "group"  # BroadWorks: the group's
    assert pbx.get_music_on_hold({"extension": "1000"}).source.selection == "default"
    pbx.set_music_on_hold(user, active=False, source={"selection": "custom", "file": "My Music",
                                                     "media_type": "WAV"})
    assert pbx.get_music_on_hold(user).source.media_type == "WAV"
    pbx.set_music_on_hold(user, source={"file": None})
    settings = pbx.get_music_on_hold(user)
    assert (settings.active, settings.source.selection, settings.source.file,
            settings.source.media_type) == (False, "custom", None, None)  # type went with file
    assert pbx.get_music_on_hold({"extension": "1000"}).active is True  # scopes are separate
    with refused("moh_not_assigned") as info:
        pbx.get_music_on_hold({"tenant": "foo", "group": "foogroup", "user": "other"})
    assert "not assigned to user other" in str(info.value)


def test_sms_goes_to_the_outbox_through_a_gsm_trunk(pbx):
    record = pbx.send_sms("tel:18396210850", "hello", sender="GSM-trunk")
    assert pbx.sms_outbox == [record] and record.message_id.startswith("18396210850-")
    for text, sender, code in (("", None, "sms_empty"), ("x" * 2001, None, "sms_too_long"),
                               ("hi", "sip-142", "gsm_trunk_not_found"),
                               ("hi", "nope", "gsm_trunk_not_found")):
        with refused(code):
            pbx.send_sms("tel:1", text, sender=sender)
    assert len(pbx.sms_outbox) == 1


# -- determinism, events, clock, set-up -----------------------------------------------------

def test_two_models_driven_alike_have_equal_snapshots_and_ids():
    def drive(p: Pbx) -> dict:
        connected(p)
        p.clock.advance(3)
        p.play_prompt("tel:41000", ["hello111"])
        p.set_music_on_hold({"extension": "1000"}, active=False)
        return p.snapshot()

    a, b = Pbx.default(), Pbx.default()
    assert drive(a) == drive(b)
    assert [c["id"] for c in a.snapshot()["calls"]] == ["1495700000.101", "1495700003.102"]


def test_subscribers_see_every_event_in_order_and_can_leave(pbx):
    seen = []
    unsubscribe = pbx.subscribe(seen.append)
    connected(pbx)
    unsubscribe()
    pbx.hangup("ext:1000")
    assert seen == pbx.events[:4] and len(pbx.events) == 6


def test_clock_timers_fire_in_order_and_can_be_cancelled():
    clock, fired = Clock(start=0), []
    clock.call_later(2, lambda: fired.append("b"))
    clock.call_later(1, lambda: fired.append("a"))
    handle = clock.call_later(1.5, lambda: fired.append("cancelled"))
    clock.cancel(handle)
    clock.advance(1.9)
    assert fired == ["a"] and clock.now() == 1.9
    clock.advance(0.1)
    assert fired == ["a", "b"]
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_setup_files_replace_the_default(tmp_path):
    toml = tmp_path / "pbx.toml"
    toml.write_text('[[extensions]]\nnumber = "200"\n[[extensions]]\nnumber = "201"\n')
    pbx = Pbx.from_file(str(toml))
    assert sorted(pbx.setup.extensions) == ["200", "201"]
    data = {"extensions": [{"number": "300"}], "trunks": [{"name": "t", "kind": "gsm"}]}
    (tmp_path / "pbx.json").write_text(json.dumps(data))
    assert Pbx.from_file(str(tmp_path / "pbx.json")).setup.trunks["t"].kind == "gsm"


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"extensions": [{"number": "1", "monitor_mode": "spy"}]}, "extensions[0].monitor_mode",
     "expected one of extensive"),
    ({"extensions": [{"number": "abc"}]}, "extensions[0].number", "expected digits"),
    ({"queues": [{"number": "1", "agents": ["9"]}]}, "queues[0].agents", "not an extension"),
    ({"trunks": [{"name": "t", "kind": "isdn"}]}, "trunks[0].kind", "'sip' or 'gsm'"),
    ({"inbound": {"default": "foo:1"}}, "inbound.default", "is not an address"),
    ({"extensions": {"number": "1"}}, "extensions", "list of tables"),
])
def test_a_bad_setup_names_the_key(data, key, words):
    with pytest.raises(ConfigurationError) as info:
        Pbx.from_setup(data)
    assert info.value.key == key and words in str(info.value)


def test_an_unreadable_setup_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read"):
        Pbx.from_file(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[[extensions]\n")
    with pytest.raises(ConfigurationError, match="not valid toml"):
        Pbx.from_file(str(bad))


def test_an_extensions_trunk_call_names_the_dialled_number_from_its_first_event(pbx):
    """A PBX names both ends of a trunk call in every report (Yeastar's RING/ANSWER carry the
    outbound leg's from and to), so the model's events do too, before the trunk leg exists;
    the call's own parties (snapshot) still list only its legs."""
    seen = []
    pbx.subscribe(seen.append)
    call = pbx.dial("ext:1002", "tel:41000")
    assert call.parties == ("ext:1002",)
    pbx.answer("ext:1002")
    pbx.answer("tel:41000")
    assert [(e.kind, e.parties) for e in seen] == [
        ("call.ringing", ("ext:1002", "tel:41000")), ("call.answered", ("ext:1002", "tel:41000")),
        ("call.ringing", ("ext:1002", "tel:41000")), ("call.answered", ("ext:1002", "tel:41000"))]
    internal = pbx.dial("ext:1000", "ext:1001")
    assert seen[-1].parties == ("ext:1000",)  # an internal callee is named once it rings
    pbx.clock.advance(RING_TIMEOUT + 1)
    failed = next(e for e in seen if e.kind == "call.failed" and e.call_id == internal.id)
    assert failed.data["party"] == "ext:1000"  # the leg that rang unanswered


def test_the_event_history_is_bounded_so_a_long_running_sim_does_not_grow():
    pbx = Pbx.default()
    pbx.KEEP_EVENTS = 10
    seen = []
    pbx.subscribe(seen.append)
    for _ in range(30):
        pbx.dial("ext:1000", "ext:1001", auto_answer=True)
        pbx.hangup("ext:1000")
    assert len(seen) > 100  # subscribers still see every event
    assert len(pbx.events) <= 20
    assert pbx.events == seen[-len(pbx.events):]  # the latest ones, in order

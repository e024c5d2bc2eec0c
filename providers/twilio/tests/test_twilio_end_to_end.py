"""Every operation over real HTTP against the emulator: what goes on the wire (form fields and
inline TwiML), what comes back, errors, refusals before traffic, and sending at most once."""

from __future__ import annotations

import json

import pytest
from telephony_twilio.conformance import CALLEE, CALLER, OTHER, SUPERVISOR

from telephony_core.emulation import Fault, emulated
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    ProviderError,
    RateLimited,
    TelephonyError,
)
from telephony_core.testing.faults import FAULTS

FAST = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2}


@pytest.fixture
def emu():
    with emulated("twilio", client_options=FAST) as emulation:
        yield emulation


@pytest.fixture
def conf():
    with emulated("twilio", client_options={**FAST, "conference": True}) as emulation:
        yield emulation


def _posts(emu, suffix):
    return [r for r in emu.server.requests if r.method == "POST" and r.path.endswith(suffix)]


def test_dial_rings_the_caller_with_twiml_that_dials_the_callee(emu):
    ref = emu.client.dial(caller=CALLER, callee=CALLEE)
    (sent,) = _posts(emu, "/Calls.json")
    assert sent.form() == {"To": "+14155550100", "From": "+15005550006", "Twiml": (
        '<Response><Dial callerId="+15005550006"><Number>+14155550101</Number></Dial>'
        "</Response>")}
    assert ref.call_id == ref.raw['sid']  # the Call SID as it is, no call: prefix
    calls = emu.app.pbx.snapshot()["calls"]
    assert [leg["party"] for leg in calls[0]["legs"]] == [CALLER]
    emu.app.pbx.answer(CALLER)
    assert [leg["party"] for leg in emu.app.pbx.snapshot()["calls"][0]["legs"]] == [
        CALLER, CALLEE]


def test_play_prompt_plays_urls_and_refuses_a_menu_before_traffic(emu):
    ref = emu.client.play_prompt(to=OTHER, prompts=["https://m.example/a.mp3",
                                                    "https://m.example/b.mp3"])
    (sent,) = _posts(emu, "/Calls.json")
    assert sent.form()["Twiml"] == ("<Response><Play>https://m.example/a.mp3</Play>"
                                    "<Play>https://m.example/b.mp3</Play></Response>")
    assert ref.call_id.startswith("CA")
    emu.server.clear()
    with pytest.raises(PayloadError, match="menu"):
        emu.client.play_prompt(to=OTHER, prompts=["https://m.example/a.mp3"],
                               menu={"1": "tel:+14155550109"})
    with pytest.raises(PayloadError, match="prompts"):
        emu.client.play_prompt(to=OTHER, prompts=["welcome"])  # a name: Twilio plays URLs
    assert emu.server.attempts == 0


def test_send_sms_uses_from_or_a_messaging_service(emu):
    receipt = emu.client.send_sms(to=OTHER, text="hello")
    assert receipt.message_id.startswith("SM") and receipt.status == "queued"
    assert _posts(emu, "/Messages.json")[-1].form() == {
        "To": "+14155550102", "Body": "hello", "From": "+15005550006"}
    emu.client.send_sms(to=OTHER, text="hi", sender="MG" + "d3" * 16)
    assert _posts(emu, "/Messages.json")[-1].form()["MessagingServiceSid"] == "MG" + "d3" * 16
    assert [m["text"] for m in emu.app.pbx.snapshot()["sms"]] == ["hello", "hi"]


def test_sms_limits_are_checked_before_traffic(emu):
    with pytest.raises(PayloadError, match="text"):
        emu.client.send_sms(to=OTHER, text="x" * 1601)
    with pytest.raises(PayloadError, match="to"):
        emu.client.send_sms(to="tel:41000", text="no E.164")
    assert emu.server.attempts == 0
    assert emu.client.send_sms(to=OTHER, text="é" * 1600).status == "queued"


def test_a_sender_the_account_does_not_own_is_twilio_error_21606(emu):
    with pytest.raises(ProviderError) as info:
        emu.client.send_sms(to=OTHER, text="hi", sender="+14155559999")
    assert (info.value.vendor_code, info.value.code) == ("21606", "sender_not_sms_capable")


def test_hangup_transfer_and_list_calls(emu):
    ref = emu.client.dial(caller=CALLER, callee=CALLEE)
    emu.app.pbx.answer(CALLER)
    emu.app.pbx.answer(CALLEE)
    (info,) = emu.client.list_calls()
    assert (info.call_id, info.state, info.direction) == (ref.call_id, "talking", "outbound")
    statuses = [r.query["Status"] for r in emu.server.requests if r.method == "GET"]
    assert statuses == ["queued", "ringing", "in-progress"]
    assert emu.client.list_calls(direction="inbound") == []
    moved = emu.client.transfer(call=f"call:{ref.call_id}", to=OTHER)
    assert moved.call_id == ref.call_id
    assert _posts(emu, ".json")[-1].form() == {"Twiml": (
        '<Response><Dial callerId="+15005550006"><Number>+14155550102</Number></Dial>'
        "</Response>")}
    assert [leg["party"] for leg in emu.app.pbx.snapshot()["calls"][0]["legs"]] == [
        CALLER, OTHER]
    emu.client.hangup(call=f"call:{ref.call_id}")
    assert _posts(emu, ".json")[-1].form() == {"Status": "completed"}
    assert emu.app.pbx.snapshot()["calls"] == []
    with pytest.raises(ProviderError) as info:
        emu.client.hangup(call=f"call:{ref.call_id}")
    assert (info.value.category, info.value.vendor_code) == ("not_found", "20404")


def test_conference_operations_need_a_conference_and_say_so_before_traffic(emu):
    ref = emu.client.dial(caller=CALLER, callee=CALLEE)
    emu.server.clear()
    for op in ("hold", "unhold", "mute", "unmute"):
        with pytest.raises(ProviderError, match="conference=true") as info:
            emu.client.invoke(op, {"call": f"call:{ref.call_id}"})
        assert info.value.code == "not_in_conference"
    with pytest.raises(ProviderError, match="conference"):
        emu.client.monitor(call=f"call:{ref.call_id}", supervisor=SUPERVISOR, mode="listen")
    assert emu.server.attempts == 0


def test_conference_dial_places_two_calls_into_one_conference(conf):
    ref = conf.client.dial(caller=CALLER, callee=CALLEE)
    first, second = _posts(conf, "/Calls.json")
    name = ref.call_id.rsplit(":", 1)[1]
    assert (first.form()["To"], second.form()["To"]) == ("+14155550100", "+14155550101")
    for sent in (first, second):
        assert f">{name}</Conference>" in sent.form()["Twiml"]
        assert 'endConferenceOnExit="true"' in sent.form()["Twiml"]


def test_hold_mute_and_monitor_act_on_the_conference_participant(conf):
    ref = conf.client.dial(caller=CALLER, callee=CALLEE)
    conf.app.pbx.answer(CALLER)
    conf.app.pbx.answer(CALLEE)
    sid = ref.call_id.split(":")[0]
    conf.client.hold(call=f"call:{ref.call_id}")
    lookup, update = conf.server.requests[-2:]
    assert lookup.query == {"FriendlyName": ref.call_id.rsplit(":", 1)[1],
                            "Status": "in-progress"}
    assert update.path.endswith(f"/Participants/{sid}.json")
    assert update.form() == {"Hold": "true"}
    assert conf.app.pbx.snapshot()["calls"][0]["legs"][0]["state"] == "held"
    conf.client.unhold(call=f"call:{ref.call_id}")
    conf.client.mute(call=f"call:{ref.call_id}")
    assert conf.app.pbx.snapshot()["calls"][0]["legs"][0]["muted"] is True
    conf.client.unmute(call=f"call:{ref.call_id}")
    conf.client.monitor(call=f"call:{ref.call_id}", supervisor=SUPERVISOR, mode="whisper")
    assert conf.server.requests[-1].form() == {
        "From": "+15005550006", "To": SUPERVISOR, "Coaching": "true", "CallSidToCoach": sid}
    legs = conf.app.pbx.snapshot()["calls"][0]["legs"]
    assert legs[-1] == {"party": "ext:1005", "state": "talking", "muted": False,
                        "trunk": None, "role": "monitor-whisper"}


@pytest.mark.parametrize(("mode", "form"), [("listen", {"Muted": "true"}), ("barge", {})])
def test_listen_is_a_muted_participant_and_barge_a_full_one(mode, form):
    with emulated("twilio", client_options={**FAST, "conference": True}) as conf:
        ref = conf.client.dial(caller=CALLER, callee=CALLEE)
        conf.app.pbx.answer(CALLER)
        conf.app.pbx.answer(CALLEE)
        conf.client.monitor(call=f"call:{ref.call_id}", supervisor=SUPERVISOR, mode=mode)
        assert conf.server.requests[-1].form() == {"From": "+15005550006", "To": SUPERVISOR,
                                                   **form}
        assert conf.app.pbx.snapshot()["calls"][0]["legs"][-1]["role"] == f"monitor-{mode}"


def test_hold_url_is_sent_when_configured():
    options = {**FAST, "conference": True, "hold_url": "https://m.example/hold.xml"}
    with emulated("twilio", client_options=options) as conf:
        ref = conf.client.dial(caller=CALLER, callee=CALLEE)
        conf.app.pbx.answer(CALLER)
        conf.app.pbx.answer(CALLEE)
        conf.client.hold(call=f"call:{ref.call_id}")
        assert conf.server.requests[-1].form() == {
            "Hold": "true", "HoldUrl": "https://m.example/hold.xml", "HoldMethod": "GET"}


def test_wrong_credentials_are_an_authentication_error():
    with emulated("twilio", password="another-token", client_options=FAST) as emu:
        bad = emu.url.replace("another-token", "wrong-token")
        from telephony_core import connect

        with connect(bad, **FAST) as client, pytest.raises(AuthenticationError, match="20003"):
            client.list_calls()


def test_a_429_is_rate_limited_with_retry_after_and_a_read_recovers(emu):
    emu.server.inject(Fault.http_error(429, b'{"code": 20429, "message": "Too Many Requests",'
                                            b' "more_info": "https://www.twilio.com/docs/errors'
                                            b'/20429", "status": 429}',
                                       headers={"Retry-After": "0.1"}), times=1)
    assert emu.client.list_calls() == []  # retried after the advertised 0.1 s
    emu.server.inject(Fault.http_error(429, headers={"Retry-After": "0"}))
    with pytest.raises(RateLimited) as info:  # a 429 is a refusal: re-sent, then given up
        emu.client.send_sms(to=OTHER, text="refused each time")
    assert info.value.retry_after == 0
    retries = emu.client.config["retries"]
    assert len(_posts(emu, "/Messages.json")) == retries + 1
    assert emu.app.pbx.sms_outbox == []  # Twilio acted on none of them


@pytest.mark.parametrize("fault_name", list(FAULTS))
@pytest.mark.parametrize("conference", [False, True])
def test_dial_is_sent_at_most_once_under_every_fault(fault_name, conference):
    case = FAULTS[fault_name]
    options = {**FAST, "conference": conference, "deadline": 1.5}  # a stalled reply ends soon
    with emulated("twilio", client_options=options) as emu:
        emu.server.inject(case.make(FAST["timeout"]), path="*/Calls.json", method="POST",
                          times=1)
        try:
            emu.client.dial(caller=CALLER, callee=CALLEE)
            outcome = None
        except TelephonyError as exc:
            outcome = exc
        first_leg = [r for r in emu.server.requests if r.method == "POST" and
                     r.form().get("To") == "+14155550100"]
        attempts = emu.server.attempts
    assert len(first_leg) <= 1 and attempts <= (2 if conference else 1), (
        f"{fault_name}: the caller was rung {len(first_leg)} times ({attempts} attempts)")
    if case.reply_lost and case.app_runs:  # the call was placed, its answer lost
        assert isinstance(outcome, OutcomeUnknown), f"{fault_name}: {outcome!r}"


@pytest.mark.parametrize("fault_name", ["delay", "reset_after_read", "truncated_body"])
def test_send_sms_is_sent_at_most_once(emu, fault_name):
    emu.server.inject(FAULTS[fault_name].make(FAST["timeout"]), path="*/Messages.json",
                      times=1)
    with pytest.raises(TelephonyError) as info:
        emu.client.send_sms(to=OTHER, text="once")
    assert len(_posts(emu, "/Messages.json")) == 1
    if FAULTS[fault_name].reply_lost:
        assert isinstance(info.value, OutcomeUnknown)
    assert len(emu.app.pbx.snapshot()["sms"]) == 1


def test_missing_caller_id_is_a_payload_error_before_traffic():
    from telephony_core import connect

    with emulated("twilio", client_options=FAST) as emu:
        url = emu.url.replace("caller_id=%2B15005550006&", "")
        with connect(url, **FAST) as client:
            with pytest.raises(PayloadError, match="caller_id"):
                client.dial(caller=CALLER, callee=CALLEE)
            assert client.dial(caller=CALLER, callee=CALLEE,
                               caller_id="+15005550006").call_id
        assert emu.server.attempts == 1


def test_list_calls_filters_by_ids_conference_ids_included(conf):
    ref = conf.client.dial(caller=CALLER, callee=CALLEE)
    (info,) = conf.client.list_calls(ids=[f"call:{ref.call_id}"])
    assert info.call_id == ref.call_id.split(":")[0]  # Twilio lists the Call SID
    assert conf.client.list_calls(ids=["call:CA" + "0" * 32]) == []


def test_list_calls_follows_next_page_uri(emu, monkeypatch):
    from telephony_twilio.provider import TwilioProvider

    monkeypatch.setattr(TwilioProvider, "PAGE_SIZE", 1)  # Twilio's is 1000: three calls, pages
    refs = [emu.client.play_prompt(to=f"tel:+1415555010{i}", prompts=["https://m.example/a"])
            for i in range(3)]
    emu.server.clear()
    assert sorted(c.call_id for c in emu.client.list_calls()) == sorted(r.call_id for r in refs)
    ringing = [r for r in emu.server.requests if r.query.get("Status") == "ringing"]
    assert [r.query.get("Page") for r in ringing] == [None, "1", "2"]
    assert all(r.query.get("PageToken") for r in ringing[1:])


def test_conference_dial_ends_the_caller_when_the_callee_is_refused(conf):
    with pytest.raises(ProviderError):
        conf.client.dial(caller=CALLER, callee="sip:nobody@unreachable.example")
    first, second, cleanup = conf.server.requests
    assert (first.form()["To"], second.form()["To"]) == ("+14155550100",
                                                         "sip:nobody@unreachable.example")
    caller_sid = json.loads(conf.app.exchanges[0]["reply"])["sid"]
    assert cleanup.path.endswith(f"/Calls/{caller_sid}.json")
    assert cleanup.form() == {"Status": "completed"}
    assert conf.app.pending == {}


def test_conference_dial_never_rings_the_caller_twice_when_the_callee_never_left(conf):
    """The callee's request fails before it leaves (a real refused connection: the requests
    driver sends that one request to a closed port). The driver throws the TransportError into
    the dial's exchange, which hangs up the caller's leg and re-raises; the core makes it
    OutcomeUnknown (a request of the operation had been sent) and never re-runs the dial, which
    would ring the caller again."""
    import socket

    from telephony_core.http import HttpTransport
    from telephony_core.wire import TransportSettings

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    nowhere = HttpTransport(TransportSettings(f"http://127.0.0.1:{closed}"))
    real = conf.client._transport.send
    sent = []

    def send(request):
        sent.append((request.data or {}).get("To"))
        return nowhere.send(request) if len(sent) == 2 else real(request)

    conf.client._transport.send = send
    try:
        with pytest.raises(OutcomeUnknown) as info:
            conf.client.dial(caller=CALLER, callee=CALLEE)
    finally:
        nowhere.close()
    assert info.value.reason == "refused"
    assert "an earlier request of this operation had been sent" in info.value.message
    assert sent == ["+14155550100", "+14155550101", None]  # caller, callee (refused), hang-up
    first, cleanup = conf.server.requests
    caller_sid = json.loads(conf.app.exchanges[0]["reply"])["sid"]
    assert first.form()["To"] == "+14155550100"
    assert cleanup.path.endswith(f"/Calls/{caller_sid}.json")
    assert cleanup.form() == {"Status": "completed"}
    assert conf.server.attempts == 2  # never re-run

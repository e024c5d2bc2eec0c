"""The Yeastar provider against its emulator over real HTTP: operations, session, reports."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import urllib.request

import pytest
from telephony_yeastar.events import ReportFilter

import telephony_core
from telephony_core.emulation import EmulatorServer, Fault, WebhookReceiver, emulated
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    ProviderError,
    TelephonyError,
)

CANARY = "canary-yeastar-2b7f"
PAIRS = "caller -> callee"
MD5 = hashlib.md5(CANARY.encode()).hexdigest()


@pytest.fixture
def emu():
    with emulated("yeastar", password=CANARY,
                  client_options={"timeout": 0.5, "deadline": 5}) as e:
        yield e


def paths(emu) -> list[str]:
    return [r.path.removeprefix("/api/") for r in emu.server.requests]


def test_login_sends_the_md5_and_the_token_travels_in_the_query(emu):
    emu.client.list_calls()
    login, query = emu.server.requests[0], emu.server.requests[1]
    assert login.path == "/api/v1.0.0/login"
    assert login.json() == {"username": "api", "password": MD5, "port": "8260", "version": "1.0.2"}
    assert query.query["token"] in emu.app.tokens


def test_every_dial_pair(emu):
    pbx, client = emu.app.pbx, emu.client
    pairs = [("ext:1000", "ext:1001", {}), ("ext:1002", "tel:41000", {}),
             ("tel:5551", "tel:5552", {"permission_extension": "ext:1000"}),
             ("ext:1003", "ivr:6500", {}),
             ("tel:5553", "ivr:6500", {"permission_extension": "ext:1000"}),
             ("tel:5554", "queue:6700", {"permission_extension": "ext:1000"}),
             ("tel:5555", "ringgroup:6200", {"permission_extension": "ext:1000"})]
    for caller, callee, extra in pairs:
        ref = client.dial(caller, callee, **extra)
        assert ref.call_id in pbx.calls and pbx.calls[ref.call_id].pending == callee
    assert paths(emu)[1:] == [
        "v1.0.0/extension/dial_extension", "v1.0.0/extension/dial_outbound",
        "v1.0.0/outbound/dial_outbound", "v1.0.0/ivr/dial_extension", "v1.0.0/ivr/dial_outbound",
        "v1.0.1/queue/dial_outbound", "v1.0.1/ringgroup/dial_outbound"]


@pytest.mark.parametrize(("payload", "words"), [
    ({"caller": "ivr:6500", "callee": "ext:1000"}, "caller"),
    ({"caller": "ext:1000", "callee": "queue:6700"}, PAIRS),
    ({"caller": "tel:1", "callee": "tel:2"}, PAIRS),  # a callback needs permission_extension
    ({"caller": "ext:1000", "callee": "ext:1001", "caller_id": "1"}, "caller_id"),
    ({"caller": "ext:1000", "callee": "ext:1001", "permission_extension": "ext:1"}, PAIRS),
])
def test_dial_admits_exactly_the_seed_pairs(emu, payload, words):
    with pytest.raises(PayloadError, match=words):
        emu.client.invoke("dial", payload)
    assert emu.server.attempts == 0


def test_call_control_by_extension_and_by_leg(emu):
    pbx, client = emu.app.pbx, emu.client
    ref = client.dial("ext:1000", "tel:41000", auto_answer=True)
    pbx.answer("tel:41000")
    client.hold("ext:1000")
    assert client.list_calls(direction="outbound")[0].state == "talking"  # Hold shows Talking
    assert pbx.calls[ref.call_id].legs[0].state == "held"
    client.unhold("ext:1000")
    client.mute("ext:1000")
    assert pbx.calls[ref.call_id].legs[0].muted
    client.unmute("ext:1000")
    client.monitor("ext:1005", "ext:1000", "barge")
    # the outbound leg has its own id (Y18): list_calls gives it, and takes it back
    [info] = client.list_calls(direction="outbound")
    assert info.call_id == pbx.calls[ref.call_id].trunk_id != ref.call_id
    [again] = client.list_calls(ids=[f"call:{info.call_id}"])
    assert (again.caller, again.callee, again.direction) == ("ext:1000", "tel:41000", "outbound")
    client.transfer(f"call:{ref.call_id}", "ext:1002", leg="outbound")
    assert pbx.calls[ref.call_id].legs[-1].party == "ext:1002"
    assert paths(emu)[-2:] == ["v1.0.0/outbound/query", "v1.0.0/outbound/transfer_extension"]
    assert emu.server.requests[-1].json()["outboundid"] == info.call_id
    client.hangup(f"call:{ref.call_id}", leg="outbound")
    assert pbx.calls == {}


def test_the_emulator_refuses_the_callid_where_the_outbound_leg_id_is_due(emu):
    """A real PBX answers 10007 to outbound/hangup with the dial's callid (Y18): so does the
    emulator, and the provider sends the leg's own id instead."""
    pbx, client = emu.app.pbx, emu.client
    ref = client.dial("ext:1000", "tel:41000", auto_answer=True)
    leg_id = pbx.calls[ref.call_id].trunk_id
    token = emu.server.requests[-1].query["token"]
    request = urllib.request.Request(
        f"{emu.server.url}/api/v1.0.0/outbound/hangup?token={token}", method="POST",
        data=json.dumps({"outboundid": ref.call_id}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert json.loads(reply.read()) == {"status": "Failed", "errno": "10007"}
    client.hangup(f"call:{ref.call_id}")
    assert pbx.calls == {}
    assert emu.server.requests[-1].json() == {"outboundid": leg_id}


@pytest.mark.parametrize("op", ["hold", "mute"])
def test_hold_and_mute_take_the_call_id_of_every_kind_of_call(emu, op):
    pbx, client = emu.app.pbx, emu.client
    internal = client.dial("ext:1003", "ext:1001", auto_answer=True)
    pbx.answer("ext:1001")
    outbound = client.dial("ext:1002", "tel:41000", auto_answer=True)
    pbx.answer("tel:41000")
    inbound = pbx.incoming("5558888", "5551000")
    client.accept_call(f"call:{inbound.id}")
    pbx.answer(inbound.parties[-1])
    for ref, ext in ((internal.call_id, "1003"), (outbound.call_id, "1002"),
                     (inbound.id, inbound.parties[-1][4:])):
        client.invoke(op, {"call": f"call:{ref}"})
        assert emu.server.requests[-1].path == f"/api/v1.0.0/extension/{op}"
        assert emu.server.requests[-1].json() == {"extid": ext}
    with pytest.raises(ProviderError) as info:
        client.invoke(op, {"call": "call:999.999"})
    assert info.value.category == "not_found"


def test_inbound_accept_refuse_transfer_and_hangup(emu):
    pbx, client = emu.app.pbx, emu.client
    first = pbx.incoming("5559999", "5551000")
    client.reject_call(f"call:{first.id}")
    assert first.id not in pbx.calls
    second = pbx.incoming("5558888", "5551000")
    client.accept_call(f"call:{second.id}")
    [info] = client.list_calls(direction="inbound")
    assert (info.call_id, info.caller) == (second.id, "tel:5558888")
    client.transfer(f"call:{second.id}", "tel:22003", leg="inbound",
                    permission_extension="ext:1000")
    assert pbx.calls[second.id].legs[-1].party == "tel:22003"
    client.hangup(f"call:{second.id}", leg="inbound")
    third = pbx.incoming("5557777", "5551000")
    pbx.clock.advance(10)  # the offer window passes: accepted by default
    with pytest.raises(ProviderError) as info:
        client.accept_call(f"call:{third.id}")
    assert info.value.vendor_code == "10016"


def test_play_prompt_to_a_number_and_to_an_extension(emu):
    pbx, client = emu.app.pbx, emu.client
    ref = client.play_prompt("tel:41000", ["hello111", "queue1"],
                             permission_extension="ext:1000")
    assert emu.server.requests[-1].json() == {"outto": "41000", "prompt": "hello111+queue1",
                                              "fromext": "1000"}
    assert pbx.calls[ref.call_id].prompts == ["hello111", "queue1"]
    client.play_prompt("ext:1002", ["queue2"], auto_answer=True)
    assert emu.server.requests[-1].json() == {"extid": "1002", "prompt": "queue2",
                                              "autoanswer": "yes"}
    with pytest.raises(ProviderError) as info:
        client.play_prompt("tel:41000", ["notuploaded"])
    assert info.value.vendor_code == "10023" and info.value.category == "not_found"


@pytest.mark.parametrize("prompts", [["123"], ["a+b"], ["https://x.example/a.wav"], [],
                                     ["1", "queue1", "queue2"]])  # seed 000's 2nd sample
def test_bad_prompt_names_are_refused_before_sending(emu, prompts):
    with pytest.raises(PayloadError):
        emu.client.play_prompt("tel:41000", prompts)
    assert emu.server.attempts == 0


def test_sms(emu):
    receipt = emu.client.send_sms("tel:18396210850", "你好", sender="GSM-trunk")
    assert receipt.message_id.startswith("18396210850-")
    assert emu.server.requests[-1].json()["message"] == "%E4%BD%A0%E5%A5%BD"
    assert emu.app.pbx.sms_outbox[0].text == "你好"  # the emulator decoded it back
    with pytest.raises(ProviderError) as info:
        emu.client.send_sms("tel:1", "hi", sender="sip-142")
    assert info.value.vendor_code == "10026"


def test_sms_too_long_or_with_emoji_is_refused_before_sending(emu):
    with pytest.raises(PayloadError, match="text"):
        emu.client.send_sms("tel:1", "x" * 2001, sender="GSM-trunk")
    with pytest.raises(PayloadError, match=r"emoji at position 6"):
        emu.client.send_sms("tel:1", "hello \U0001F600", sender="GSM-trunk")
    assert emu.server.attempts == 0


@pytest.mark.parametrize(("setup", "call", "errno", "category"), [
    (lambda p: None, lambda c: c.hold("ext:1000"), "10007", "not_found"),
    (lambda p: p.dial("ext:1000", "ext:1001"), lambda c: c.dial("ext:1000", "ext:1002"),
     "10008", "busy"),
    (lambda p: None, lambda c: c.dial("ext:1999", "ext:1000"), "10006", "not_found"),
    (lambda p: None, lambda c: c.dial("ext:1004", "tel:41000"), "10024", "forbidden"),
    (lambda p: None, lambda c: c.dial("ext:1000", "ivr:6999"), "10012", "not_found"),
])
def test_refusals_come_back_with_the_right_errno_and_category(emu, setup, call, errno, category):
    setup(emu.app.pbx)
    with pytest.raises(ProviderError) as info:
        call(emu.client)
    assert (info.value.vendor_code, info.value.category) == (errno, category)


def test_monitor_refusals(emu):
    pbx, client = emu.app.pbx, emu.client
    pbx.dial("ext:1003", "ext:1001", auto_answer=True)
    pbx.answer("ext:1001")
    for supervisor, target, mode, errno in (("ext:1005", "ext:1003", "listen", "10009"),
                                            ("ext:1002", "ext:1001", "listen", "10010")):
        with pytest.raises(ProviderError) as info:
            client.monitor(supervisor, target, mode)
        assert info.value.vendor_code == errno


def test_an_expired_token_causes_one_relogin_shared_by_all_threads(emu):
    emu.client.list_calls()
    assert emu.app.logins == 1
    emu.app.expire_tokens()
    threads = [threading.Thread(target=emu.client.list_calls) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emu.app.logins == 2


def test_the_token_dies_after_30_idle_minutes_and_a_heartbeat_keeps_it(emu):
    emu.client.provider.keepalive_every = 0.05  # the core's keepalive, sped up
    emu.client.list_calls()
    emu.app.pbx.clock.advance(1500)
    deadline = time.monotonic() + 5
    while "v1.0.0/heartbeat" not in paths(emu) and time.monotonic() < deadline:
        time.sleep(0.01)
    emu.client.list_calls()
    assert "v1.0.0/heartbeat" in paths(emu) and emu.app.logins == 1
    emu.app.pbx.clock.advance(1800)  # now idle past the token's life: errno 20006
    emu.client.list_calls()
    assert emu.app.logins == 2


def test_a_failed_login_is_never_retried(emu):
    url = emu.app.connect_url(emu.server.url).replace(CANARY, "wrong-password-1")
    with telephony_core.connect(url) as client:
        for _ in range(3):
            with pytest.raises(AuthenticationError) as info:
                client.list_calls()
        assert "not tried again" in str(info.value)
        assert "wrong-password-1" not in str(info.value)
    assert emu.app.logins == 1  # one attempt only, however often the application insists


def test_five_failed_logins_lock_the_address_out(emu):
    url = emu.app.connect_url(emu.server.url).replace(CANARY, "wrong")
    for _ in range(5):
        with telephony_core.connect(url) as client, pytest.raises(AuthenticationError):
            client.list_calls()
    good_url = emu.app.connect_url(emu.server.url)
    with telephony_core.connect(good_url) as good, pytest.raises(AuthenticationError,
                                                                 match="locked out"):
        good.list_calls()
    emu.app.pbx.clock.advance(600)
    with telephony_core.connect(emu.app.connect_url(emu.server.url)) as good:
        good.list_calls()


def test_logout_on_close(emu):
    emu.client.list_calls()
    [token] = emu.app.tokens
    emu.client.close()
    assert paths(emu)[-1] == "v1.0.0/logout" and token not in emu.app.tokens


def test_a_dial_is_sent_once_on_a_read_timeout(emu):
    emu.client.list_calls()
    emu.server.inject(Fault.delay(1.0), path="/api/v1.0.0/extension/dial_extension")
    with pytest.raises(OutcomeUnknown):
        emu.client.dial("ext:1000", "ext:1001")
    assert paths(emu).count("v1.0.0/extension/dial_extension") == 1
    assert len(emu.app.pbx.calls) == 1


def test_event_reports_reach_the_application_with_both_parties():
    receiver = WebhookReceiver()
    with EmulatorServer(receiver) as hook, emulated(
            "yeastar", client_options={"report_url": hook.url + "/reports"}) as emu:
        emu.client.dial("ext:1000", "ext:1001")
        emu.app.pbx.answer("ext:1000")
        emu.app.pbx.answer("ext:1001")
        emu.client.hangup("ext:1000")
        assert emu.app.sender.wait(5)
        reports = ReportFilter()
        events = [e for body in receiver.bodies + receiver.bodies[:2]  # two re-sent reports
                  if reports.is_new(body) for e in emu.client.parse_event(body)]
    # the caller rings and answers; then the callee's RING with the caller's ALERT, the
    # callee's ANSWER with the caller's ANSWERED (ringing.md, answer-a-call.md: they coexist)
    assert [(e.kind, e.data["action"]) for e in events] == [
        ("call.ringing", "RING"), ("call.answered", "ANSWER"), ("call.ringing", "RING"),
        ("call.ringing", "ALERT"), ("call.answered", "ANSWER"), ("call.answered", "ANSWERED"),
        ("call.hangup", "BYE"), ("cdr", "NewCdr")]
    assert events[6].parties == ("ext:1000", "ext:1001")
    assert events[3].parties == ("ext:1000",)


def test_legacy_reports_repeat_the_ext_key_and_parse_in_order():
    receiver = WebhookReceiver()
    with EmulatorServer(receiver) as hook, emulated("yeastar") as emu:
        emu.app.report_format = "legacy"
        from telephony_core.emulation import WebhookSender

        emu.app.sender = WebhookSender(hook.url + "/reports")
        emu.app.pbx.dial("ext:1000", "ext:1001", auto_answer=True)
        emu.app.pbx.answer("ext:1001")
        emu.app.pbx.hangup("ext:1000")
        emu.app.sender.wait(5)
        bye = next(b for b in receiver.bodies if b'"BYE"' in b)
        assert bye.count(b'"ext"') == 2
        [event] = emu.client.parse_event(bye)
        assert event.parties == ("ext:1000", "ext:1001")


def test_no_password_hash_or_token_in_logs_errors_or_reprs(emu, caplog):
    caplog.set_level(logging.DEBUG)
    emu.client.list_calls()
    [token] = emu.app.tokens
    emu.server.inject(Fault.truncated_body(), times=None)
    with pytest.raises(TelephonyError) as info:
        emu.client.dial("ext:1000", "ext:1001")
    emu.server.clear_faults()
    text = (caplog.text + str(info.value) + repr(info.value) + repr(emu.client)
            + repr(emu.client.config) + repr(emu.client.provider.__dict__.get("config")))
    for secret in (CANARY, MD5, token):
        assert secret not in text
    assert "token=" in caplog.text  # urllib3 did log the URL, masked


def test_the_api_version_option_sets_the_path_but_never_below_an_endpoints_own(emu):
    url = emu.app.connect_url(emu.server.url) + "&api_version=v1.0.1"
    with telephony_core.connect(url) as client:
        client.list_calls(direction="inbound")
        client.send_sms("tel:5503301", "hi", sender="GSM-trunk")
    assert paths(emu)[-4:] == ["v1.0.1/login", "v1.0.1/inbound/query", "v1.0.1/sms/send",
                               "v1.0.1/logout"]
    # the default is v1.0.0, and sms/send still goes out as v1.0.1
    emu.client.send_sms("tel:5503301", "hi", sender="GSM-trunk")
    assert paths(emu)[-1] == "v1.0.1/sms/send"


def test_the_emulator_refuses_an_endpoint_under_a_version_before_it_existed(emu):
    import requests

    emu.client.list_calls()
    token = emu.server.requests[-1].query["token"]
    reply = requests.post(f"{emu.server.url}/api/v1.0.0/sms/send", params={"token": token},
                          json={"trunk": "GSM-trunk", "phonenumber": "5503301", "message": "hi"},
                          timeout=5)
    assert reply.json() == {"status": "Failed", "errno": "10003"}


def test_a_malformed_api_version_is_refused_naming_the_option(emu):
    with pytest.raises(TelephonyError, match="api_version"):
        telephony_core.connect(emu.app.connect_url(emu.server.url) + "&api_version=2")

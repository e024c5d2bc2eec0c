"""The cross-provider ``webhook_url`` option on Yeastar: the login's ``url``/``urltag`` (as
``report_url``, its older name, always was), end to end over real HTTP: the emulated PBX posts
its reports to a loopback receiver, and they parse into events of the call the dial returned."""

from __future__ import annotations

import pytest

import telephony_core
from telephony_core.emulation import emulated
from telephony_core.errors import ConfigurationError

JSON = {"Content-Type": "application/json"}


def _events(emu, receiver):
    assert emu.app.sender.wait(5), "the PBX's reports did not all arrive"
    return [event for body in list(receiver.bodies)
            for event in emu.client.parse_event(body, JSON)]


def test_reports_of_a_dialled_trunk_call_arrive_at_webhook_url_and_carry_its_call_id(
        webhook_receiver):
    server, receiver = webhook_receiver
    url = server.url + "/telephony/events"
    with emulated("yeastar", client_options={"webhook_url": url}) as emu:
        ref = emu.client.dial("ext:1002", "tel:41000")
        login = emu.server.requests[0].json()
        assert login["urltag"] == "1" and login["url"] == url.removeprefix("http://")
        assert emu.app.sender.url == url  # where the PBX posts: the URL as given
        emu.app.pbx.answer("ext:1002")  # the far end: the extension picks up, then the number
        emu.app.pbx.answer("tel:41000")
        [leg] = emu.client.list_calls(ids=[f"call:{ref.call_id}"])  # the trunk leg's own id
        emu.client.hangup(f"call:{ref.call_id}")
        events = _events(emu, receiver)
    # the extension rings and answers, the number rings (the caller hears it: ALERT) and
    # answers (ANSWERED to the caller), the API hangs up (ringing.md, answer-a-call.md...)
    assert [e.data["action"] for e in events] == [
        "RING", "ANSWER", "RING", "ALERT", "ANSWER", "ANSWERED", "BYE", "NewCdr"]
    # every report of the call, the trunk leg's included, carries the callid dial returned;
    # a trunk leg's report also carries the leg's own id (ringing.md), which list_calls gives
    assert {e.call_id for e in events} == {ref.call_id}
    assert leg.call_id != ref.call_id
    # ALERT and ANSWERED (to the caller) name its extension only (ring-back.md,
    # call-answered.md); RING, ANSWER and BYE carry the outbound leg with its own id
    caller_side = [e for e in events if e.data["action"] in ("ALERT", "ANSWERED")]
    trunk_reports = [e for e in events if e.data["action"] in ("RING", "ANSWER", "BYE")]
    assert len(trunk_reports) == 5 and all(e.data.get("outbound_id") == leg.call_id
                                           for e in trunk_reports)
    assert all(e.parties == ("ext:1002",) for e in caller_side)
    assert all(e.parties == ("ext:1002", "tel:41000") for e in trunk_reports)
    assert events[-1].parties == ("ext:1002", "tel:41000")  # the NewCdr

def test_report_url_is_the_older_name_and_both_must_agree(webhook_receiver):
    server, receiver = webhook_receiver
    url = server.url + "/pbx"
    with emulated("yeastar", client_options={"report_url": url, "webhook_url": url}) as emu:
        emu.client.dial("ext:1000", "ext:1001")
        assert emu.app.sender.url == url and _events(emu, receiver)[0].kind == "call.ringing"
    with pytest.raises(ConfigurationError) as info:
        telephony_core.connect("yeastar", host="127.0.0.1", port=9, username="api",
                               password="x", webhook_url="https://app.example/hook?key=s3cr3t",
                               report_url="https://app.example/other")
    message = str(info.value)
    assert "webhook_url" in message and "report_url" in message
    assert "s3cr3t" not in message and info.value.key == "webhook_url"


@pytest.mark.parametrize("url", ["app.example/hook", "/hook", "ftp://app.example/hook"])
def test_a_webhook_url_that_is_not_absolute_is_refused_before_any_traffic(url):
    with pytest.raises(ConfigurationError, match="webhook_url"):
        telephony_core.connect("yeastar", host="127.0.0.1", port=9, username="api",
                               password="x", webhook_url=url)


def test_a_token_in_the_webhook_url_is_redacted_like_any_secret():
    from telephony_core.redaction import redact

    client = telephony_core.connect("yeastar", host="127.0.0.1", port=9, username="api",
                                    password="x",
                                    webhook_url="http://203.0.113.5/hook?key=s3cr3t-hook-9f")
    try:
        assert "s3cr3t-hook-9f" not in redact("posting to http://203.0.113.5/hook?key="
                                              "s3cr3t-hook-9f")
    finally:
        client.close()


def test_every_heartbeat_says_where_reports_go(webhook_receiver):
    """api_authentication.md: a heartbeat updates the PBX's report target, so it carries the
    same url/urltag as the login (a PBX that restarted learns it again)."""
    server, _receiver = webhook_receiver
    url = server.url + "/telephony/events"
    with emulated("yeastar", client_options={"webhook_url": url}) as emu:
        emu.client.list_calls()
        emu.app.sender = None  # as if the PBX had forgotten where to report
        emu.client.provider.heartbeat()
        beat = next(r for r in emu.server.requests if r.path.endswith("/heartbeat")).json()
        assert (beat["url"], beat["urltag"]) == (url.removeprefix("http://"), "1")
        assert emu.app.sender is not None and emu.app.sender.url == url

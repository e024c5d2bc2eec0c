"""Pure translation: every request sample of seeds 000/002, the errno table, event reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from telephony_yeastar.errors import ERRNO, error_for
from telephony_yeastar.events import ReportFilter, events_from_report
from telephony_yeastar.translate import call_info_fields, first_emoji, query_for, request_for

from telephony_core.errors import AuthenticationError, EventError, ProviderError

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = json.loads((FIXTURES / "seed_requests.json").read_text())
REPORTS = json.loads((FIXTURES / "reports.json").read_text())


@pytest.mark.parametrize(("operation", "payload", "version", "path", "body"), SAMPLES,
                         ids=[f"{s[0]}-{s[3]}" for s in SAMPLES])
def test_each_seed_request_sample(operation, payload, version, path, body):
    got_version, got_path, got_body = request_for(operation, payload)
    assert (got_version, got_path) == (version, path)
    assert list(got_body.items()) == list(body.items())  # names, string values and order


def test_play_prompt_joins_prompts_and_auto_answer_is_yes_or_no():
    assert request_for("play_prompt", {"to": "tel:1000000", "prompts": ["one", "queue1"],
                                       "auto_answer": False})[2] == {
        "outto": "1000000", "prompt": "one+queue1", "autoanswer": "no"}
    assert request_for("play_prompt", {"to": "ext:1002", "prompts": ["hello111"],
                                       "auto_answer": True}) == (
        "v1.0.0", "extension/playprompt", {"extid": "1002", "prompt": "hello111",
                                           "autoanswer": "yes"})


def test_queries_join_ids_with_commas():
    assert query_for("outbound", ["call:1495705009.316", "call:1.2"]) == (
        "v1.0.0", "outbound/query", {"outboundid": "1495705009.316,1.2"})
    assert query_for("inbound", None) == ("v1.0.0", "inbound/query", {})
    row = {"outboundid": "1495705009.316", "from": "1002", "to": "41000", "trunk": "SIP-142",
           "status": "Talking"}
    assert call_info_fields("outbound", row) == {
        "call_id": "1495705009.316", "direction": "outbound", "caller": "ext:1002",
        "callee": "tel:41000", "state": "talking", "trunk": "SIP-142"}


def test_sms_text_is_url_encoded_and_emoji_are_found():
    assert request_for("send_sms", {"to": "tel:1", "text": "a b&c", "sender": "G"})[2][
        "message"] == "a%20b%26c"
    assert first_emoji("plain text") is None
    assert first_emoji("hi \U0001F600") == 3 and first_emoji("sun \u2600") == 4


def test_every_errno_of_vendors_md_is_mapped():
    codes = {"10002", "10003", "10004", "10005", "10006", "10007", "10008", "10009", "10010",
             "10011", "10012", "10013", "10014", "10015", "10016", "10017", "10018", "10019",
             "10023", "10024", "10025", "10026", "10027", "10028", "10030", "10031", "20000",
             "20001", "30001", "30003", "20010"}
    assert codes <= set(ERRNO)
    busy = error_for("10008")
    assert isinstance(busy, ProviderError) and (busy.category, busy.code, busy.vendor_code) == (
        "busy", "extension_not_idle", "10008")
    assert "extension is not idle" in str(busy)
    assert error_for("10024").category == "forbidden"  # seed 002 prints it as "100024"
    assert error_for("30001").category == "transient"
    for errno in ("20002", "20003"):
        assert isinstance(error_for(errno), AuthenticationError)
    assert error_for("99999").category == "unknown"


def test_a_v1_report_keeps_both_parties_of_the_repeated_ext_key():
    [event] = events_from_report(REPORTS["bye_v1"].encode())
    assert (event.kind, event.call_id) == ("call.hangup", "1495706238.328")
    assert event.parties == ("ext:1000", "ext:1002")


def test_the_well_formed_1_0_2_report_reads_the_same():
    """vendor-fidelity.md Y31: 1.0.2 puts the members in a "call" list."""
    body = json.dumps({"action": "BYE", "callid": "1.2", "call": [
        {"ext": {"extid": "1000"}}, {"outbound": {"from": "1000", "to": "41000",
                                                  "outboundid": "1.3"}}]}).encode()
    [event] = events_from_report(body)
    assert event.parties == ("ext:1000", "tel:41000")
    assert event.data["outbound_id"] == "1.3"


@pytest.mark.parametrize("body", [
    b"", b"[]", b"not json", b'{"callid": "1.2"}', b'{"action": 5}',
    b'{"action": "BYE", "ext": "1000"}', b'{"action": "BYE", "call": {"ext": 1}}',
    b'{"action": "BYE", "call": ["x"]}', b'{"action": "RING", "outbound": [1, 2]}',
    b'{"action": "NewCdr", "callfrom": {"x": 1}, "type": []}',
    b'{"action": "PlayPromptEnd", "outbound": {"trunkname": "T"}}',
    b'{"action": "Invite", "inbound": {}}',
])
def test_no_report_body_raises_anything_but_a_typed_error(body):
    try:
        events_from_report(body)
    except EventError as exc:
        assert "report" in str(exc)


def test_an_unreadable_report_names_what_is_missing():
    with pytest.raises(EventError, match="'action'"):
        events_from_report(b'{"callid": "1.2"}')
    with pytest.raises(EventError, match="'ext' must be an object"):
        events_from_report(b'{"action": "BYE", "ext": "1000"}')


def test_new_cdr_and_invite_reports():
    [cdr] = events_from_report(REPORTS["new_cdr"].encode())
    assert (cdr.kind, cdr.call_id, cdr.parties) == ("cdr", "1505352615.274",
                                                    ("ext:1000", "tel:91000"))
    assert cdr.data["callduraction"] == "29" and cdr.at.isoformat().startswith("2017-09-14T09:30")
    [invite] = events_from_report(REPORTS["invite"].encode())
    assert (invite.kind, invite.call_id, invite.data["trunk"]) == (
        "call.offered", "1495707950.331", "sip-142")
    assert invite.parties[0] == "tel:1000"


@pytest.mark.parametrize(("action", "kind"), [
    ("Incoming", "call.ringing"), ("RING", "call.ringing"), ("ALERT", "call.ringing"),
    ("ANSWER", "call.answered"), ("ANSWERED", "call.answered"), ("CallFailed", "call.failed"),
    ("DTMF", "call.dtmf"), ("PlayPromptEnd", "prompt.finished"),
    ("ExtensionStatus", "extension.status"), ("ConfigChange", "system"), ("BootUp", "system"),
    ("Tranfer", "call.transferred"),
])
def test_every_report_kind(action, kind):
    [event] = events_from_report(json.dumps({"action": action, "callid": "1.1",
                                             "info": "5", "reason": "busy"}).encode())
    assert event.kind == kind
    if kind == "call.dtmf":
        assert event.data["key"] == "5"


def test_report_filter_drops_resent_reports():
    reports = ReportFilter(window=2)
    body = REPORTS["bye_v1"].encode()
    assert reports.is_new(body) and not reports.is_new(body)
    assert reports.is_new(REPORTS["invite"]) and reports.is_new(REPORTS["new_cdr"])
    assert reports.is_new(body)  # fell out of the window of 2


def test_an_outbound_row_is_matched_by_evidence_never_by_a_guess():
    from telephony_yeastar.calls import match_outbound

    rows = [{"outboundid": "1.316", "from": "1002", "to": "41000"},
            {"outboundid": "1.401", "from": "1003", "to": "42000"}]
    assert match_outbound("1.316", rows, {})["outboundid"] == "1.316"  # the leg id itself
    assert match_outbound("1.9", rows, {"outbound_id": "1.401"})["outboundid"] == "1.401"
    assert match_outbound("1.9", rows, {"ext": "ext:1003", "tel": "tel:42000"}
                          )["outboundid"] == "1.401"  # the parties this client dialled
    assert match_outbound("1.315", rows, {})["outboundid"] == "1.316"  # the samples' +1
    # +1 names a call to another number than the one dialled: no guess
    assert match_outbound("1.315", rows, {"tel": "tel:99999"}) is None
    assert match_outbound("1.500", rows, {}) is None


@pytest.mark.parametrize("errno", ["10029", "10032", "10033", *map(str, range(20007, 20010)),
                                   *map(str, range(20011, 20022))])
def test_the_help_sites_errnos_are_mapped_not_undocumented(errno):
    """vendor-fidelity.md Y14: codes beyond the guide's appendix A."""
    error = error_for(errno)
    assert isinstance(error, ProviderError) and error.vendor_code == errno
    assert error.category != "unknown" and "undocumented" not in error.message

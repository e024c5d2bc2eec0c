"""The documented-exchange runner catches both sides of a misreading of the vendor's document.

Broken copies of the example provider are registered in-process and run through the same
runner as ``telephony conformance`` with the example's documented exchanges
(``examples/telephony-example/tests/documented/example.json``); each test asserts that the
property fails, naming the exchange, its source and the difference.
"""

from __future__ import annotations

import json
from pathlib import Path

from telephony_example.conformance import Fixtures
from telephony_example.emulator import ExampleEmulator
from telephony_example.provider import ExampleProvider
from telephony_example.spec import SPEC as EXAMPLE

from telephony_core.emulation import route
from telephony_core.http import Route, WireRequest
from telephony_core.results import CallRef
from telephony_core.testing.documented import (
    check_provider,
    compare_json,
    discover,
    load,
    shape_differences,
)
from telephony_core.testing.runner import run_suite
from tests.broken_copies import copy_of_example, register

DOCUMENTED = str(Path(__import__("telephony_example").__file__).parent.parent / "tests"
                 / "documented" / "example.json")


FIXTURES_PATH = "telephony_example.conformance:Fixtures"


class AgainstExampleSamples(Fixtures):
    """The example's fixtures, with its documented exchanges named explicitly (a copy under
    another name would not find them by the provider name in the file)."""

    documented = (DOCUMENTED,)
    vendor_spec = None  # the documented exchanges alone (the spec check is tested below)


class MisreadingProvider(ExampleProvider):
    """Reads the dial reply's call id from a key the document does not have."""

    routes = {**ExampleProvider.routes, "dial": Route(
        ExampleProvider.routes["dial"].to_request,
        lambda p, data, payload: CallRef(p.name, data.get("call_id"), raw=data))}


class ChattyProvider(ExampleProvider):
    """Sends a key the document does not have with every dial."""

    routes = {**ExampleProvider.routes, "dial": Route(
        lambda p, payload: WireRequest("POST", "/api/calls", json={
            **ExampleProvider.routes["dial"].to_request(p, payload).json, "priority": 1}),
        ExampleProvider.routes["dial"].from_reply)}


class RenamingEmulator(ExampleEmulator):
    """Answers a dial with {"call_id": ...}, where the document says {"id": ...}."""

    @route("POST", "/api/calls")
    def dial(self, request):
        data, status = super().dial(request)
        return ({"call_id": data["id"]}, status) if "id" in data else (data, status)


def test_the_example_keeps_its_documented_exchanges(registered):
    register(registered, copy_of_example("example-documented", ExampleProvider))
    results = run_suite("example-documented", fixtures=AgainstExampleSamples,
                        select="test_documented")
    assert results.passed, json.dumps(results, indent=1)
    entry = results.result("documented.provider[dial: extension to an external number]", "dial")
    assert entry == {"outcome": "passed"}
    assert results.result("documented.emulator[hangup: a live call]", "hangup") == {
        "outcome": "passed"}
    assert results["counts"] == {"passed": 13, "failed": 0, "skipped": 0, "xfailed": 0}


def test_a_provider_misreading_a_documented_reply_fails(registered):
    register(registered, copy_of_example("example-misread", MisreadingProvider))
    results = run_suite("example-misread", fixtures=AgainstExampleSamples,
                        select="test_documented_provider")
    entry = results.result("documented.provider[dial: extension to an external number]", "dial")
    assert entry["outcome"] == "failed", entry
    message = entry["message"]
    assert "documented exchange 'dial: extension to an external number' of example.json" in message
    assert "(source: examples/telephony-example/API.md (Login; Dial))" in message
    assert "result.call_id: got null, documented '1495700000.101'" in message
    # the other samples still hold: the failure is precise
    assert results.result("documented.provider[hangup: a live call]", "hangup")["outcome"] == (
        "passed")


def test_a_provider_sending_an_undocumented_key_fails(registered):
    register(registered, copy_of_example("example-chatty", ChattyProvider))
    results = run_suite("example-chatty", fixtures=AgainstExampleSamples,
                        select="test_documented_provider and dial")
    entry = results.result("documented.provider[dial: the caller is busy]", "dial")
    assert entry["outcome"] == "failed", entry
    assert "wire[1] POST /api/calls: json.priority: sent 1, not documented" in entry["message"]


def test_an_emulator_answering_another_shape_fails(registered):
    register(registered, copy_of_example("example-renaming", ExampleProvider, RenamingEmulator))
    results = run_suite("example-renaming", fixtures=AgainstExampleSamples,
                        select="test_documented_emulator and dial")
    entry = results.result("documented.emulator[dial: extension to an external number]", "dial")
    assert entry["outcome"] == "failed", entry
    message = entry["message"]
    assert "the example-renaming emulator differs from the vendor's document" in message
    assert "wire[1] POST /api/calls: json.id: documented, missing from the emulator's reply" in (
        message)
    assert "json.call_id: in the emulator's reply" in message
    # a documented error reply keeps its shape in the broken emulator: that one passes
    assert results.result("documented.emulator[dial: the caller is busy]", "dial") == {
        "outcome": "passed"}


class ReplayingEmulator(ExampleEmulator):
    """Answers a call listing with the vendor's sample, whatever its model holds."""

    @route("GET", "/api/calls")
    def list_calls(self, request):
        return {"calls": [{"id": "1495700000.101", "from": "1000", "to": "41000",
                           "state": "ringing", "direction": "outbound"}]}


def test_an_emulator_replaying_the_sample_fails(registered):
    register(registered, copy_of_example("example-replaying", ExampleProvider, ReplayingEmulator))
    results = run_suite("example-replaying", fixtures=AgainstExampleSamples,
                        select="test_documented_emulator and list_calls")
    entry = results.result("documented.emulator[list_calls: one outbound call ringing]",
                           "list_calls")
    assert entry["outcome"] == "failed", entry
    assert "the reply carries the documented '1495700000.101' where the prepared model has" in (
        entry["message"])


class RenamedReportEmulator(ExampleEmulator):
    """POSTs call reports with "call_id" where the document says "call"."""

    def render_event(self, event):
        rendered = super().render_event(event)
        if rendered is None:
            return None
        body, headers = rendered
        data = json.loads(body)
        data["call_id"] = data.pop("call")
        return json.dumps(data).encode(), headers


def test_an_emulator_reporting_another_shape_fails(registered):
    register(registered, copy_of_example("example-reports", ExampleProvider,
                                         RenamedReportEmulator))
    results = run_suite("example-reports", fixtures=AgainstExampleSamples,
                        select="test_documented_emulator and report")
    entry = results.result("documented.emulator[report: call answered]")
    assert entry["outcome"] == "failed", entry
    assert "event[0] json.call: documented, missing from the emulator's reply" in (
        entry["message"])


def test_a_sample_the_provider_cannot_handle_fails_never_skips(registered, tmp_path):
    data = json.loads(Path(DOCUMENTED).read_text())
    data["exchanges"] = [{**data["exchanges"][0], "name": "dial to a queue",
                          "payload": {"caller": "ext:1000", "callee": "queue:6400"}}]
    path = tmp_path / "queue.json"
    path.write_text(json.dumps(data))

    class QueueSamples(Fixtures):
        documented = (str(path),)

    register(registered, copy_of_example("example-queue", ExampleProvider))
    results = run_suite("example-queue", fixtures=QueueSamples, select="test_documented_provider")
    entry = results.result("documented.provider[dial to a queue]", "dial")
    assert entry["outcome"] == "failed", entry
    assert "the operation raised PayloadError" in entry["message"]


def test_a_malformed_file_fails_with_its_reason(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"provider": "example", "exchanges": [{"name": "x", "operation": "dial"}]}')
    [exchange] = load(path).exchanges
    assert "cites no 'source'" in exchange.problem
    assert "an operation needs 'wire'" in exchange.problem
    spec = copy_of_example("example-malformed", ExampleProvider)
    assert check_provider(spec, exchange) == [f"the exchange is malformed: {exchange.problem}"]


def test_discovery_reads_the_package_tests_folder():
    found = discover(EXAMPLE)
    assert [e.name for e in found][:2] == ["dial: extension to an external number",
                                          "dial: the caller is busy"]
    assert discover(copy_of_example("example-other", ExampleProvider)) == []


def test_comparison_rules():
    out: list[str] = []
    compare_json({"a": "<any>", "b": 1, "c": "x"}, {"a": 5, "b": "1", "d": True}, "json",
                 frozenset({"json.d"}), out)
    assert out == ["json.b: sent '1' (string), documented 1 (number)",
                   "json.c: documented ('x'), not sent"]
    out = []
    compare_json({"auth": "Bearer <any>"}, {"auth": "Basic abc"}, "headers", frozenset(), out)
    assert out == ["headers.auth: sent 'Basic abc', documented 'Bearer <any>'"]
    out = []
    shape_differences({"calls": [{"id": "1", "n": 2}]}, {"calls": [{"id": "2", "n": "2"}]},
                      "json", out)
    assert out == ["json.calls[0].n: the emulator answered '2' (string), documented 2 (number)"]


def test_a_documented_list_of_members_of_different_kinds_is_compared_member_by_member():
    """Yeastar's 1.0.2 report lists an inbound member, then an extension member: each of the
    emulator's members is compared with the documented member of its kind, and a member of no
    documented shape is reported against the closest one."""
    doc = {"call": [{"inbound": {"from": "1", "to": "2"}}, {"ext": {"extid": "1000"}}]}
    out: list[str] = []
    shape_differences(doc, {"call": [{"inbound": {"from": "5", "to": "6"}},
                                     {"ext": {"extid": "1001"}}]}, "json", out)
    assert out == []
    shape_differences(doc, {"call": [{"ext": {"extid": "1001"}}]}, "json", out)
    assert out == []  # one member, of a documented kind
    shape_differences(doc, {"call": [{"inbound": {"from": "5", "to": "6"}},
                                     {"ext": {"extid": 1001}}]}, "json", out)
    assert out == ["json.call[1].ext.extid: the emulator answered 1001 (number), "
                   "documented '1000' (string)"]
    out = []
    shape_differences(doc, {"call": [{"ext": {"extid": 7}}]}, "json", out)
    assert out == ["json.call[0].ext.extid: the emulator answered 7 (number), "
                   "documented '1000' (string)"]


# -- vendor spec checks -----------------------------------------------------------------------

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"


class PstnProvider(ExampleProvider):
    """Calls an external number with to_type "pstn", which the PBX's spec does not allow."""

    routes = {**ExampleProvider.routes, "dial": Route(
        lambda p, payload: WireRequest("POST", "/api/calls", json={
            **ExampleProvider.routes["dial"].to_request(p, payload).json,
            **({"to_type": "pstn"} if payload["callee"].startswith("tel:") else {})}),
        ExampleProvider.routes["dial"].from_reply)}


def test_a_request_violating_the_declared_spec_fails(registered):
    register(registered, copy_of_example("example-pstn", PstnProvider))
    results = run_suite("example-pstn", fixtures=FIXTURES_PATH,
                        select="test_traffic_matches_vendor_spec")
    entry = results.result("spec.wire", "dial")
    assert entry["outcome"] == "failed", entry
    assert ("example-pstn's traffic breaks the vendor spec:\n  - openapi.json: operation "
            "createCall (POST /api/calls), request: json.to_type: 'pstn' is not one of "
            "['extension', 'external']") in entry["message"]
    assert results.result("spec.wire", "hangup") == {"outcome": "passed"}


def test_the_spec_check_sees_every_session_of_the_suite(registered):
    register(registered, copy_of_example("example-pstn-outcomes", PstnProvider))
    results = run_suite("example-pstn-outcomes", fixtures=FIXTURES_PATH,
                        select="test_valid_payloads and dial")
    entry = results.result("outcomes", "dial")
    assert entry["outcome"] == "failed", entry
    assert "json.to_type: 'pstn' is not one of" in entry["message"]


def _recorded(method: str, path: str, body: bytes = b"", ctype: str = "",
              query: tuple = ()) -> tuple:
    return method, path, list(query), {"Content-Type": ctype} if ctype else {}, body


def test_twilio_requests_and_replies_are_checked():
    from telephony_core.testing import spec_evidence as se

    twilio = se.load(SPECS / "twilio" / "twilio_api_v2010.json")
    assert se.load(str(SPECS / "twilio" / "twilio_api_v2010.json")) is twilio  # once per process
    calls = "/2010-04-01/Accounts/AC" + "a" * 32 + "/Calls.json"
    form = "application/x-www-form-urlencoded"
    op, found = se.request_problems(twilio, *_recorded(
        "POST", calls, b"To=%2B14155551212&From=%2B14155550000&Url=http%3A%2F%2Fx", form))
    assert op.name == "CreateCall" and found == []
    op, found = se.request_problems(twilio, *_recorded(
        "POST", calls, b"To=%2B1&From=%2B2&Timeout=soon", form))
    assert found == ["form.Timeout: 'soon' is not of type 'integer'"]
    _, found = se.request_problems(twilio, *_recorded("POST", calls, b'{"To": "+1"}',
                                                      "application/json"))
    assert found == ["content type: sent 'application/json', the spec takes "
                     "application/x-www-form-urlencoded"]
    _, found = se.request_problems(twilio, *_recorded("POST", "/2010-04-01/Accounts/ACx/Calls.json",
                                                      b"To=1", form))
    assert "path.AccountSid: 'ACx' is too short" in found
    sample = twilio.at("/paths/~12010-04-01~1Accounts~1{AccountSid}~1Calls.json/post/responses/"
                       "201/content/application~1json/examples/create/value")
    assert se.reply_problems(twilio, op, 201, "application/json", json.dumps(sample).encode()) == []
    # Twilio's spec describes no error replies: an emulator's 404 is not held against it
    assert se.reply_problems(twilio, op, 404, "application/json", b'{"code": 20404}') == []
    assert se.reply_problems(twilio, op, 200, "application/json", b"{}")[0].startswith(
        "status 200: not a response the spec declares (declared: 201)")
    assert se.reply_problems(twilio, op, 201, "application/json", json.dumps(
        {**sample, "status": "dialling"}).encode()) == [
        "json.status: 'dialling' is not one of ['queued', 'ringing', 'in-progress', 'completed', "
        "'busy', 'failed', 'no-answer', 'canceled']"]


def test_telnyx_requests_are_checked_under_its_server_path():
    import time

    from telephony_core.testing import spec_evidence as se

    started = time.monotonic()
    telnyx = se.load(SPECS / "telnyx" / "spec3.json")
    op, found = se.request_problems(telnyx, *_recorded(
        "POST", "/v2/calls", json.dumps({"connection_id": "1", "to": "+15551230000",
                                         "from": "+15551230001", "timeout_secs": "30"}).encode(),
        "application/json"))
    assert op.name == "DialCall"
    assert found == ["json.timeout_secs: '30' is not of type 'integer'"]
    op, found = se.request_problems(telnyx, *_recorded(
        "POST", "/v2/calls/v3:abc/actions/hangup", b'{"command_id": "c-1"}', "application/json"))
    assert op.name == "HangupCall" and found == []
    assert time.monotonic() - started < 5  # the 4 MB spec must stay cheap


def test_ari_swagger_operations_are_checked():
    from telephony_core.testing import spec_evidence as se

    ari = se.load(SPECS / "asterisk-ari")
    op, found = se.request_problems(ari, *_recorded(
        "POST", "/ari/channels", query=(("endpoint", "PJSIP/1000"), ("timeout", "soon"),
                                        ("colour", "red"))))
    assert op.name == "originate (channels.json)"
    assert found[0] == "query.timeout: 'soon' is not of type 'integer'"
    assert found[1].startswith("query.colour: sent, the spec declares no such parameter")
    _, found = se.request_problems(ari, *_recorded("POST", "/ari/channels"))
    assert found == ["query.endpoint: required by the spec, not sent"]
    op, found = se.request_problems(ari, *_recorded("DELETE", "/ari/channels/1.2",
                                                    query=(("reason", "normal"),)))
    assert op.name == "hangup (channels.json)" and found == []
    op, _ = se.request_problems(ari, *_recorded("GET", "/ari/channels/1.2"))
    problems = se.reply_problems(ari, op, 200, "application/json", b'{"id": "1.2"}')
    assert "json: 'accountcode' is a required property" in problems
    _, found = se.request_problems(ari, *_recorded("PATCH", "/ari/channels/1.2"))
    assert found[0].startswith("PATCH /ari/channels/1.2: the spec allows only")


def test_telnyx_webhooks_are_checked_by_their_event_type():
    from telephony_core.testing import spec_evidence as se

    telnyx = se.load(SPECS / "telnyx" / "spec3.json")
    body = {"data": {"record_type": "event", "event_type": "call.answered",
                     "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
                     "occurred_at": "2018-02-02T22:25:27.521992Z",
                     "payload": {"call_control_id": "v3:abc", "connection_id": "7267",
                                 "from": "+15551230000", "to": "+15551230001"}}}
    assert se.webhook_problems(telnyx, json.dumps(body).encode()) == []
    body["data"]["payload"]["start_time"] = 1517610327
    assert se.webhook_problems(telnyx, json.dumps(body).encode()) == [
        "webhook callAnswered: json.data.payload.start_time: 1517610327 is not of type 'string'"]
    assert se.webhook_problems(telnyx, b'{"data": {"event_type": "call.teleported"}}') == [
        "event_type 'call.teleported': no webhook of the spec describes it"]


def test_the_provider_side_does_not_retry_unless_the_file_says(tmp_path):
    """A documented 503 is one request: the facade's retries would add undocumented ones."""
    data = json.loads(Path(DOCUMENTED).read_text())
    listing = next(e for e in data["exchanges"] if e["operation"] == "list_calls")
    listing = {**listing, "name": "list_calls: PBX busy",
               "wire": [listing["wire"][0], {**listing["wire"][1], "reply": {
                   "status": 503, "json": {"error": "overloaded"}}}],
               "error": {"type": "ProviderError", "category": "transient"}}
    listing.pop("result")
    data["exchanges"] = [listing]
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(data))
    [exchange] = load(path).exchanges
    assert check_provider(EXAMPLE, exchange, Fixtures.client_options) == []
    data["config"] = {**data["config"], "retries": 1}
    path.write_text(json.dumps(data))
    [exchange] = load(path).exchanges
    found = check_provider(EXAMPLE, exchange, Fixtures.client_options)
    assert found[0].startswith("wire[2]: sent GET /api/calls, which the exchange does not document")


def test_a_sample_refused_before_any_traffic_has_an_empty_wire(tmp_path):
    path = tmp_path / "refused.json"
    path.write_text(json.dumps({"provider": "example", "config": {"username": "api",
                                                                  "password": "example-demo"},
                                "exchanges": [{
                                    "name": "dial to a queue is refused", "source": "API.md",
                                    "operation": "dial", "wire": [],
                                    "payload": {"caller": "ext:1000", "callee": "queue:6400"},
                                    "error": {"type": "PayloadError"}}]}))
    [exchange] = load(path).exchanges
    assert exchange.problem is None
    assert check_provider(EXAMPLE, exchange, Fixtures.client_options) == []


def test_an_extra_exchange_calls_the_providers_own_method(tmp_path):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"provider": "example", "config": {"username": "api",
                                                                  "password": "example-demo"},
                                "exchanges": [{
                                    "name": "login alone", "source": "API.md (Login)",
                                    "operation": "login", "extra": True, "payload": {},
                                    "wire": [{"request": {"method": "POST", "path": "/api/login",
                                                          "json": {"username": "api",
                                                                   "password": "example-demo"}},
                                              "reply": {"status": 200,
                                                        "json": {"token": "abcdef123456"}}}]}]}))
    [exchange] = load(path).exchanges
    assert exchange.extra
    assert check_provider(EXAMPLE, exchange, Fixtures.client_options) == []


class WithAKnownGap(AgainstExampleSamples):
    documented_emulator_gaps = {"dial: extension to an external number":
                                "the renamed reply is a known gap of this copy"}


def test_a_known_emulator_gap_is_reported_with_its_reason_not_as_passed(registered):
    register(registered, copy_of_example("example-gap", ExampleProvider, RenamingEmulator))
    results = run_suite("example-gap", fixtures=WithAKnownGap,
                        select="test_documented_emulator and dial")
    assert results.result("documented.emulator[dial: extension to an external number]",
                          "dial") == {"outcome": "xfailed",
                                      "reason": "the renamed reply is a known gap of this copy"}
    assert results["counts"]["xfailed"] == 1 and results.passed


def test_a_known_gap_that_no_longer_fails_fails(registered):
    register(registered, copy_of_example("example-stale-gap", ExampleProvider))
    results = run_suite("example-stale-gap", fixtures=WithAKnownGap,
                        select="test_documented_emulator and dial")
    entry = results.result("documented.emulator[dial: extension to an external number]", "dial")
    assert entry["outcome"] == "failed" and "XPASS(strict)" in entry["message"], entry

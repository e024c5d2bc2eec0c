"""The provider and emulator where the vendor's guide contradicted them (vendor-fidelity.md rows
Y6, Y8, Y18, Y21, Y25, Y31, Y32, Y34, Y38), end to end over real HTTP."""

from __future__ import annotations

import json
import time

import pytest
from telephony_yeastar.events import events_from_report

import telephony_core
from telephony_core.emulation import EmulatorApp, EmulatorServer, Request, emulated, route
from telephony_core.errors import ConfigurationError, PayloadError, ProviderError
from telephony_core.http import WireRequest


def _reports(receiver, emu) -> list[dict]:
    assert emu.app.sender.wait(5)
    return [json.loads(body) for body in receiver.bodies]


@pytest.fixture
def reported(webhook_receiver):
    """An emulator whose reports go to a receiver through a full report URL (urltag 1)."""
    server, receiver = webhook_receiver
    with emulated("yeastar", client_options={"report_url": server.url + "/pbx/reports"}) as emu:
        emu.client.list_calls()  # log in: the PBX learns where to report
        yield emu, receiver


def test_a_full_report_url_goes_out_with_urltag_and_reports_arrive_there(reported):
    """Y6: without urltag the PBX would append the URL to IP:port as a path."""
    emu, receiver = reported
    login = emu.server.requests[0].json()
    host = emu.app.sender.url.removeprefix("http://")
    assert login["urltag"] == "1" and login["url"] == host
    assert not login["url"].startswith("http")
    assert emu.app.sender.url.endswith("/pbx/reports")
    emu.client.dial("ext:1000", "ext:1001")
    assert _reports(receiver, emu)[0]["action"] == "RING"


@pytest.mark.parametrize("url", ["pbx-app.example:8260/reports", "203.0.113.5", "/reports",
                                 "ftp://203.0.113.5/reports", "http://:8260/x",
                                 "http://203.0.113.5:99999/x"])
def test_report_url_must_be_a_full_url_at_configuration_time(url):
    with pytest.raises(ConfigurationError, match="report_url"):
        telephony_core.connect("yeastar", host="127.0.0.1", port=9, username="api",
                               password="x", report_url=url)


def test_the_emulator_refuses_a_heartbeat_without_ipaddr_and_the_provider_sends_it():
    """Y8: <ipaddr> and <port> are required (api_authentication.md)."""
    with emulated("yeastar") as emu:
        emu.client.provider.heartbeat()
        body = emu.server.requests[-1].json()
        assert emu.server.requests[-1].path == "/api/v1.0.0/heartbeat"
        assert body["ipaddr"] == "127.0.0.1" and body["port"] == "8260"
        token = emu.server.requests[-1].query["token"]
        reply = emu.app.dispatch(_post(f"/api/v1.0.0/heartbeat?token={token}", {"port": "8260"}))
        assert json.loads(reply.get_data()) == {"status": "Failed", "errno": "10004"}


def _once(provider, request):
    """One request through the client's driver and session, decoded by the provider."""
    reply = yield request
    return provider._decode(reply)


def _post(path: str, body: dict):
    from werkzeug.test import EnvironBuilder

    return Request(EnvironBuilder(path=path, method="POST", json=body).get_environ())


class _HeartbeatRefused(EmulatorApp):
    """Login, then 20011 to the heartbeat, then success for everything."""

    def __init__(self):
        super().__init__(None)
        self.paths: list[str] = []

    @route("POST", "/api/{version}/{path:path}")
    def api(self, request: Request, version: str, path: str):
        self.paths.append(path)
        if path == "login":
            return {"status": "Success", "token": f"t{len(self.paths)}"}
        if path == "heartbeat":
            return {"status": "Failed", "errno": "20011"}
        return {"status": "Success"}


def test_a_refused_heartbeat_renews_the_session_instead_of_failing_the_request():
    """Y8: a refusal (20011) escaped and failed every request after 25 idle minutes."""
    app = _HeartbeatRefused()
    with EmulatorServer(app) as server:
        client = telephony_core.connect("yeastar", host="127.0.0.1", port=server.port,
                                        scheme="http", username="api", password="x",
                                        report_ip="192.0.2.7")
        try:
            client.provider.keepalive_every = 0.05  # the core's keepalive, sped up
            client.hold("ext:1000")
            deadline = time.monotonic() + 5
            while "heartbeat" not in app.paths and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.02)
            client.hold("ext:1000")  # succeeds: the refused heartbeat dropped the token
        finally:
            client.close()
    assert app.paths[:3] == ["login", "extension/hold", "heartbeat"]
    second_hold = len(app.paths) - 1 - app.paths[::-1].index("extension/hold")
    assert "login" in app.paths[3:second_hold]


def test_an_api_transfer_is_not_reported_but_the_new_destination_is(reported):
    """Y21: "Transfer controlled by API will not be reported" (call-transfer.md)."""
    emu, receiver = reported
    pbx = emu.app.pbx
    call = pbx.incoming("5558888", "5551000")
    emu.client.accept_call(f"call:{call.id}")
    emu.client.transfer(f"call:{call.id}", "ext:1002")
    assert emu.app.sender.wait(5)
    actions = [r["action"] for r in _reports(receiver, emu)]
    assert "Tranfer" not in actions and actions[-2:] == ["RING", "ALERT"]
    assert pbx.calls[call.id].parties[-1] == "ext:1002"


@pytest.mark.parametrize("version", ["1.0.2", "legacy"])
def test_reports_of_an_outbound_call_carry_both_ids_and_read_back(reported, version):
    """Y18/Y31: the outbound object carries the leg's own id; both shapes parse to the same
    parties, and the provider learns the leg id from them."""
    emu, receiver = reported
    emu.app.report_format = version
    ref = emu.client.dial("ext:1002", "tel:41000", auto_answer=True)
    emu.app.pbx.answer("tel:41000")
    assert emu.app.sender.wait(5)
    bodies = list(receiver.bodies)
    ring = next(b for b in bodies if b'"RING"' in b)
    assert (b'"call": [' in ring) == (version == "1.0.2")
    [event] = emu.client.parse_event(ring)
    leg_id = emu.app.pbx.calls[ref.call_id].trunk_id
    assert event.call_id == ref.call_id and event.data["outbound_id"] == leg_id
    assert event.parties == ("ext:1002", "tel:41000")


def test_a_played_prompt_ends_with_the_documented_report_and_parses(reported):
    """Y32: PlayPromptEnd to a number has only {"trunkname"} in its outbound object."""
    emu, receiver = reported
    emu.client.play_prompt("tel:41000", ["hello111"])
    emu.app.pbx.answer("tel:41000")
    emu.app.pbx.clock.advance(6)
    end = next(r for r in _reports(receiver, emu) if r["action"] == "PlayPromptEnd")
    assert end.get("outbound") == {"trunkname": "sip-142"} or end.get("call") == [
        {"outbound": {"trunkname": "sip-142"}}]
    [event] = events_from_report(json.dumps(end))
    assert (event.kind, event.data["prompt"], event.data["trunk"]) == (
        "prompt.finished", "hello111", "sip-142")


def test_cdr_reports_name_parties_by_call_type(reported):
    """Y34: an inbound CDR's callfrom is a number, an internal one's both are extensions."""
    emu, receiver = reported
    pbx = emu.app.pbx
    call = pbx.incoming("5558888", "5551000")
    emu.client.accept_call(f"call:{call.id}")
    pbx.answer("ext:1000")
    emu.client.hangup(f"call:{call.id}")
    emu.client.dial("ext:1001", "ext:1002", auto_answer=True)
    pbx.answer("ext:1002")
    emu.client.hangup("ext:1001")
    cdrs = [r for r in _reports(receiver, emu) if r["action"] == "NewCdr"]
    assert [c["type"] for c in cdrs] == ["Inbound", "Internal"]
    parties = [events_from_report(json.dumps(c))[0].parties for c in cdrs]
    assert parties == [("tel:5558888", "ext:1000"), ("ext:1001", "ext:1002")]


def test_an_sms_is_accepted_then_reported(reported):
    """Y25: Success+smsid only means accepted; the result is a later sms-send report."""
    emu, receiver = reported
    receipt = emu.client.send_sms(to="tel:41000", text="hello", sender="GSM-trunk")
    assert receipt.status == "queued" and receipt.message_id
    report = next(r for r in _reports(receiver, emu) if r["action"] == "sms-send")
    [event] = emu.client.parse_event(json.dumps(report))
    assert (event.kind, event.data["message_id"], event.data["status"]) == (
        "sms.status", receipt.message_id, "sent")


def test_every_event_has_a_timestamp_marked_by_its_source():
    [cdr] = events_from_report(b'{"action":"NewCdr","callid":"1.2","timestart":'
                               b'"2017-09-14 09:30:15","type":"Internal"}')
    [bye] = events_from_report(b'{"action":"BYE","callid":"1.2"}')
    assert cdr.data["at_source"] == "vendor" and cdr.at.year == 2017
    assert bye.data["at_source"] == "received" and bye.at is not None


def test_list_extensions_reads_the_extension_list(emu_plain):
    pbx, client = emu_plain.app.pbx, emu_plain.client
    client.dial("ext:1000", "ext:1001", auto_answer=True)
    extensions = {e.number: e for e in client.provider.list_extensions()}
    assert emu_plain.server.requests[-1].path == "/api/v1.0.0/extensionlist/query"
    assert set(extensions) == set(pbx.setup.extensions)
    assert (extensions["1000"].status, extensions["1000"].state) == ("Busy", "busy")
    assert (extensions["1001"].status, extensions["1001"].state) == ("Ringing", "ringing")
    assert (extensions["1002"].status, extensions["1002"].state) == ("Registered", "idle")
    assert extensions["1002"].name == "Agent Bob"


def test_a_recording_named_by_a_cdr_downloads_once(reported):
    emu, receiver = reported
    emu.client.dial("ext:1000", "ext:1001", auto_answer=True)
    emu.app.pbx.answer("ext:1001")
    emu.client.hangup("ext:1000")
    cdr = next(r for r in _reports(receiver, emu) if r["action"] == "NewCdr")
    [event] = emu.client.parse_event(json.dumps(cdr))
    name = event.data["recording"]
    audio = emu.client.provider.download_recording(name)
    assert audio.startswith(b"RIFF") and audio == emu.app.recordings[name]
    get_random, download = emu.server.requests[-2:]
    assert get_random.path == "/api/v1.0.1/recording/get_random"
    assert get_random.json() == {"recording": name}
    assert download.method == "GET" and download.query["recording"] == name
    random = download.query["random"]
    assert random and download.query["token"]
    with pytest.raises(ProviderError) as info:  # a random string serves once
        emu.client.run_exchange(_once(emu.client.provider, WireRequest(
            "GET", "/api/v1.0.1/recording/download",
            params={"recording": name, "random": random})))
    assert info.value.vendor_code == "20013"
    with pytest.raises(ProviderError) as unknown:
        emu.client.provider.download_recording("20990101000000-1.1-1-2-Internal.wav")
    assert (unknown.value.vendor_code, unknown.value.category) == ("20012", "not_found")


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/b.wav", None, 5, "x" * 300])
def test_a_recording_name_that_is_not_one_is_refused_before_any_traffic(emu_plain, name):
    before = len(emu_plain.server.requests)
    with pytest.raises(PayloadError, match="recording"):
        emu_plain.client.provider.download_recording(name)
    assert len(emu_plain.server.requests) == before


@pytest.fixture
def emu_plain():
    with emulated("yeastar") as emu:
        yield emu


def test_list_calls_finds_an_outbound_call_by_the_id_dial_gave(emu_plain):
    """The query knows only the leg id; the provider looks the callid up among every call."""
    pbx, client = emu_plain.app.pbx, emu_plain.client
    ref = client.dial("ext:1002", "tel:41000", auto_answer=True)
    pbx.answer("tel:41000")
    [info] = client.list_calls(ids=[f"call:{ref.call_id}"])
    assert info.call_id == pbx.calls[ref.call_id].trunk_id
    assert (info.caller, info.callee, info.state) == ("ext:1002", "tel:41000", "talking")
    assert client.list_calls(ids=["call:999.999"]) == []


def test_an_internal_call_named_by_an_event_is_held_through_its_extension(emu_plain):
    """A call this client did not dial: the report it parsed says it is internal, so the
    provider acts on its first extension without a query that could not find it."""
    pbx = emu_plain.app.pbx
    other = emu_plain.connect()
    try:
        ref = other.dial("ext:1003", "ext:1001", auto_answer=True)
        pbx.answer("ext:1001")
        report = json.dumps({"action": "ANSWER", "callid": ref.call_id,
                             "call": [{"ext": {"extid": "1003"}}, {"ext": {"extid": "1001"}}]})
        emu_plain.client.parse_event(report)
        emu_plain.client.hold(f"call:{ref.call_id}")
        assert emu_plain.server.requests[-1].json() == {"extid": "1003"}
        assert pbx.calls[ref.call_id].legs[0].state == "held"
    finally:
        other.close()


def test_an_ended_internal_call_id_never_reaches_the_extensions_next_call(emu_plain):
    pbx, client = emu_plain.app.pbx, emu_plain.client
    first = client.dial("ext:1000", "ext:1001", auto_answer=True)
    pbx.answer("ext:1001")
    pbx.far_hangup("ext:1001")
    client.parse_event(json.dumps({"action": "BYE", "callid": first.call_id,
                                   "ext": {"extid": "1001"}}))
    client.dial("ext:1000", "ext:1002", auto_answer=True)
    pbx.answer("ext:1002")
    with pytest.raises(ProviderError) as info:
        client.hold(f"call:{first.call_id}")
    assert info.value.category == "not_found"
    assert all(r.path != "/api/v1.0.0/extension/hold" for r in emu_plain.server.requests)


def test_a_token_in_the_report_url_is_redacted_like_any_secret():
    from telephony_core.redaction import redact

    client = telephony_core.connect("yeastar", host="127.0.0.1", port=9, username="api",
                                    password="x",
                                    report_url="http://203.0.113.5/hook?key=s3cr3t-hook-9f")
    try:
        line = "posting to http://203.0.113.5/hook?key=s3cr3t-hook-9f"
        assert "s3cr3t-hook-9f" not in redact(line)
    finally:
        client.close()


def test_what_the_pbx_cannot_do_is_refused_and_declared_to_model_equivalence(emu_plain):
    """No API endpoint transfers an internal call or holds a call without an extension: the
    provider refuses (a typed error), and the fixtures declare it to model equivalence."""
    from telephony_yeastar.conformance import equivalence_divergence

    pbx, client = emu_plain.app.pbx, emu_plain.client
    internal = client.dial("ext:1003", "ext:1001", auto_answer=True)
    pbx.answer("ext:1001")
    callback = client.dial("tel:5551", "tel:5552", permission_extension="ext:1000")
    pbx.answer("tel:5551")
    with pytest.raises(ProviderError) as info:
        client.transfer(f"call:{internal.call_id}", "ext:1002")
    assert info.value.category == "not_found"
    with pytest.raises(ProviderError):
        client.hold(f"call:{callback.call_id}")
    assert equivalence_divergence("transfer", {"call": f"call:{internal.call_id}"}, pbx)
    assert equivalence_divergence("hold", {"call": f"call:{callback.call_id}"}, pbx)
    assert not equivalence_divergence("hold", {"call": f"call:{internal.call_id}"}, pbx)
    assert not equivalence_divergence("transfer", {"call": f"call:{callback.call_id}"}, pbx)

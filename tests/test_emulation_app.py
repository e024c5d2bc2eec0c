"""EmulatorApp routing over real HTTP: params, literal-before-pattern, 404, 405, 500."""

from __future__ import annotations

import logging

import pytest
import requests

from telephony_core.emulation import Abort, EmulatorApp, EmulatorServer, Response, route


class Calls(EmulatorApp):
    """A tiny API with a literal route shadowing a pattern."""

    routes = {("PUT", "/calls/{call_id}/hold"): "hold"}

    @route("GET", "/calls/{call_id}")
    def get_call(self, request, call_id):
        return {"id": call_id, "pbx": self.pbx}

    @route("GET", "/calls/active")
    def active(self, request):
        return {"active": True}

    @route(["POST", "DELETE"], "/calls/{call_id}/legs/{leg}")
    def leg(self, request, call_id, leg):
        return {"call": call_id, "leg": leg, "method": request.method}, 202

    @route("GET", "/files/{name:path}")
    def file(self, request, name):
        return Response(name.encode(), mimetype="text/plain")

    @route("POST", "/echo")
    def echo(self, request):
        return {"body": self.read_json(request), "q": request.args.get("q")}

    @route("GET", "/refuse")
    def refuse(self, request):
        raise Abort(self.json_response({"errcode": 10004}, status=403))

    @route("GET", "/xml")
    def xml(self, request):
        return self.text_response("<ok/>", status=201, content_type="application/xml")

    @route("GET", "/broken")
    def broken(self, request):
        raise ZeroDivisionError("boom")

    def hold(self, request, call_id):
        return {"held": call_id}


@pytest.fixture
def served():
    app = Calls(pbx="the-model")
    with EmulatorServer(app) as server:
        yield app, server


def test_pbx_is_stored():
    assert Calls(pbx=object).pbx is object
    assert Calls().pbx is None


def test_params_are_passed_decoded(served):
    _, server = served
    assert requests.get(server.url + "/calls/a%2Fb", timeout=2).json() == {
        "id": "a/b", "pbx": "the-model"}


def test_literal_route_wins_over_pattern(served):
    _, server = served
    assert requests.get(server.url + "/calls/active", timeout=2).json() == {"active": True}


def test_several_methods_and_status_tuple(served):
    _, server = served
    reply = requests.delete(server.url + "/calls/7/legs/callee", timeout=2)
    assert reply.status_code == 202
    assert reply.json() == {"call": "7", "leg": "callee", "method": "DELETE"}


def test_class_route_table(served):
    _, server = served
    assert requests.put(server.url + "/calls/9/hold", timeout=2).json() == {"held": "9"}


def test_path_parameter_takes_slashes(served):
    _, server = served
    assert requests.get(server.url + "/files/moh/default.wav", timeout=2).text == \
        "moh/default.wav"


def test_read_json_and_bad_json_is_400(served):
    _, server = served
    assert requests.post(server.url + "/echo?q=1", json={"a": 1}, timeout=2).json() == {
        "body": {"a": 1}, "q": "1"}
    reply = requests.post(server.url + "/echo", data=b"{nope", timeout=2)
    assert reply.status_code == 400
    assert reply.json()["error"] == "bad_request"


def test_abort_answers_the_given_response(served):
    _, server = served
    reply = requests.get(server.url + "/refuse", timeout=2)
    assert (reply.status_code, reply.json()) == (403, {"errcode": 10004})


def test_unknown_path_is_404_json(served):
    _, server = served
    reply = requests.get(server.url + "/nowhere", timeout=2)
    assert reply.status_code == 404
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"error": "not_found", "message": "no route for GET /nowhere"}


def test_wrong_method_is_405_with_allow(served):
    _, server = served
    reply = requests.put(server.url + "/calls/7/legs/callee", timeout=2)
    assert reply.status_code == 405
    assert reply.headers["Allow"] == "POST, DELETE"
    assert reply.json()["allowed"] == ["POST", "DELETE"]


def test_handler_exception_is_500_logged_and_kept(served, caplog):
    app, server = served
    with caplog.at_level(logging.ERROR, logger="telephony_core.emulation.app"):
        reply = requests.get(server.url + "/broken", timeout=2)
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal_error",
                            "message": "the emulator raised ZeroDivisionError"}
    assert [type(e) for e in app.errors] == [ZeroDivisionError]
    (record,) = [r for r in caplog.records if "/broken" in r.getMessage()]
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError


def test_connect_url_must_be_implemented_and_expire_tokens_is_optional():
    app = Calls()
    with pytest.raises(NotImplementedError, match="Calls"):
        app.connect_url("http://127.0.0.1:1")
    assert app.expire_tokens() is None


def test_bad_pattern_is_refused():
    app = Calls()
    with pytest.raises(ValueError, match="start with '/'"):
        app.add_route("GET", "calls", lambda request: {})


def test_subclass_override_without_route_drops_the_route():
    class NoEcho(Calls):
        def echo(self, request):  # no @route: no longer served
            return {}

    app = NoEcho()
    with EmulatorServer(app) as server:
        assert requests.post(server.url + "/echo", json={}, timeout=2).status_code == 404
        assert requests.get(server.url + "/calls/active", timeout=2).status_code == 200


def test_head_is_served_where_get_is(served):
    _, server = served
    reply = requests.head(server.url + "/calls/active", timeout=2)
    assert reply.status_code == 200 and reply.content == b""
    assert int(reply.headers["Content-Length"]) == len(b'{"active": true}')


def test_server_errors_include_the_apps_and_clear_empties_them(served):
    app, server = served
    requests.get(server.url + "/broken", timeout=2)
    assert [type(e) for e in server.errors] == [ZeroDivisionError]
    server.clear()
    assert server.errors == [] and app.errors == []


def test_text_response_keeps_media_type_and_status(served):
    _, server = served
    reply = requests.get(server.url + "/xml", timeout=2)
    assert (reply.status_code, reply.headers["Content-Type"], reply.text) == (
        201, "application/xml", "<ok/>")

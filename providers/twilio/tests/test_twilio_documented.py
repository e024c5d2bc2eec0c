"""The documented exchanges (tests/documented/*.json, the shared format of HELPERS.md), checked
by this package until the conformance kit's runner (telephony_core.testing.documented) lands.

Side 1: the provider, pointed at a loopback server that answers the documented replies in
order, sends exactly the documented requests and gives the documented result, error or events.
Side 2: the emulator, sent the documented create requests (and a hangup of a call it placed),
answers replies of the documented shape (same keys, same JSON types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import attrs
import pytest
import requests
from telephony_twilio.emulator import DEMO

from telephony_core import connect
from telephony_core.emulation import EmulatorApp, EmulatorServer, Request, emulated, route

HERE = Path(__file__).parent / "documented"
FILES = sorted(HERE.glob("*.json"))
FAST = {"timeout": 2, "connect_timeout": 1, "deadline": 8, "retries": 0}


def _exchanges(kind: str) -> list[Any]:
    out = []
    for path in FILES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for exchange in doc["exchanges"]:
            if (kind == "operation") == ("operation" in exchange):
                out.append(pytest.param(doc, exchange, id=f"{path.stem}: {exchange['name']}"))
    return out


class Scripted(EmulatorApp):
    """Answers the documented replies in order and records what arrived."""

    def __init__(self, replies: list[dict[str, Any]]):
        super().__init__()
        self.replies = list(replies)
        self.seen: list[dict[str, Any]] = []

    @route(("GET", "POST"), "/{path:path}")
    def any(self, request: Request, path: str):
        self.seen.append({"method": request.method, "path": request.path,
                          "query": dict(request.args.items(multi=True)),
                          "form": dict(request.form.items(multi=True))})
        if not self.replies:
            return self.json_response({"code": 0, "message": "no documented reply left",
                                       "status": 500}, 500)
        reply = self.replies.pop(0)
        return self.json_response(reply["json"], reply["status"], {
            k: v for k, v in reply.get("headers", {}).items() if k.lower() != "content-type"})


def _matches(sent: dict[str, Any], documented: dict[str, Any]) -> list[str]:
    problems = []
    if (sent["method"], sent["path"]) != (documented["method"], documented["path"]):
        return [f"sent {sent['method']} {sent['path']}, documented {documented['method']} "
                f"{documented['path']}"]
    optional = set(documented.get("optional", []))
    for part in ("query", "form"):
        want, got = documented.get(part, {}), sent[part]
        for key, value in want.items():
            if key not in got:
                if f"{part}.{key}" not in optional:
                    problems.append(f"{part}.{key} is documented but not sent")
            elif value != "<any>" and got[key] != value:
                problems.append(f"{part}.{key}={got[key]!r}, documented {value!r}")
        problems += [f"{part}.{key} is sent but not documented" for key in got if key not in want]
    return problems


def _subset(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list | tuple) and len(actual) == len(expected) and all(
            _subset(a, e) for a, e in zip(actual, expected, strict=True))
    return actual == expected


def _connect(doc: dict[str, Any], server: EmulatorServer):
    host, port = server.url.removeprefix("http://").split(":")
    return connect("twilio", **doc["config"], host=host, port=int(port), scheme="http", **FAST)


@pytest.mark.parametrize(("doc", "exchange"), _exchanges("operation"))
def test_provider_sends_the_documented_requests(doc, exchange):
    app = Scripted([w["reply"] for w in exchange["wire"]])
    with EmulatorServer(app) as server, _connect(doc, server) as client:
        try:
            result, error = client.invoke(exchange["operation"], exchange["payload"]), None
        except Exception as exc:  # judged against the documented error below
            result, error = None, exc
    assert len(app.seen) == len(exchange["wire"]), app.seen
    for sent, wire in zip(app.seen, exchange["wire"], strict=True):
        assert not _matches(sent, wire["request"]), _matches(sent, wire["request"])
    if "error" in exchange:
        wanted = exchange["error"]
        assert error is not None, f"documented {wanted['type']}, got {result!r}"
        assert wanted["type"] in [c.__name__ for c in type(error).__mro__], repr(error)
        for key, value in wanted.items():
            if key != "type":
                assert getattr(error, key) == value, (key, error)
    else:
        assert error is None, repr(error)
        wanted = exchange["result"]
        assert type(result).__name__ == wanted["type"]
        assert _subset(attrs.asdict(result), wanted["fields"]), attrs.asdict(result)


@pytest.mark.parametrize(("doc", "exchange"), _exchanges("event"))
def test_documented_webhooks_give_the_documented_events(doc, exchange):
    event = exchange["event"]
    body = urlencode(event["form"]).encode() if "form" in event else json.dumps(
        event["json"]).encode()
    with connect("twilio", **doc["config"]) as client:
        try:
            events, error = client.parse_event(body, event["headers"]), None
        except Exception as exc:
            events, error = None, exc
    if "error" in exchange:
        assert error is not None and exchange["error"]["type"] in [
            c.__name__ for c in type(error).__mro__], (events, error)
        return
    assert error is None, repr(error)
    assert len(events) == len(exchange["events"])
    for actual, wanted in zip(events, exchange["events"], strict=True):
        fields = attrs.asdict(actual)
        fields["parties"] = list(fields["parties"])
        fields["at"] = actual.at.isoformat() if actual.at else None
        assert _subset(fields, wanted), (fields, wanted)


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def _same_shape(actual: Any, documented: Any, where: str = "$") -> list[str]:
    if documented is None or actual is None:
        return []  # nullable: either may be null
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {type(actual).__name__}, documented an object"]
        problems = [f"{where}.{k}: missing" for k in documented if k not in actual]
        problems += [f"{where}.{k}: not documented" for k in actual if k not in documented]
        for key in documented.keys() & actual.keys():
            problems += _same_shape(actual[key], documented[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{where}: {type(actual).__name__}, documented an array"]
        return [p for a in actual[:1] for d in documented[:1] for p in _same_shape(a, d, where)]
    if type(actual) is not type(documented):
        return [f"{where}: {type(actual).__name__}, documented {type(documented).__name__}"]
    return []


CREATES = [p for p in _exchanges("operation") if p.values[1]["operation"] in (
    "dial", "play_prompt", "send_sms", "hangup") and "error" not in p.values[1]]


@pytest.mark.parametrize(("doc", "exchange"), CREATES)
def test_emulator_answers_documented_requests_in_the_documented_shape(doc, exchange):
    with emulated("twilio", client_options={"timeout": 2}) as emu:
        documented_sid = "CA" + "a" * 32
        if exchange["operation"] == "hangup":  # prepare the model: a live call to hang up
            ref = emu.client.dial(caller="tel:+14155550100", callee="tel:+14155550101")
            live_sid = ref.call_id.split(":")[1]
        for wire in exchange["wire"]:
            request = wire["request"]
            path = request["path"].replace("AC" + "a" * 32, DEMO["account_sid"])
            if exchange["operation"] == "hangup":
                path = path.replace(documented_sid, live_sid)
            form = dict(request.get("form", {}))
            if "From" in form:
                form["From"] = DEMO["number"]  # a number the emulated account owns
            reply = requests.request(request["method"], emu.server.url + path, data=form,
                                     params=request.get("query"), timeout=5,
                                     auth=(DEMO["account_sid"], DEMO["auth_token"]))
            assert reply.status_code == wire["reply"]["status"], reply.text
            problems = _same_shape(reply.json(), wire["reply"]["json"])
            assert not problems, problems


@pytest.mark.parametrize(("doc", "exchange"), _exchanges("operation"))
def test_documented_requests_and_replies_are_the_specs(doc, exchange):
    """The exchanges transcribe the spec faithfully: each documented request is the spec's
    operation, each documented success reply fits its response schema."""
    from spec_check import checker

    for wire in exchange["wire"]:
        request, reply = wire["request"], wire["reply"]
        _, problems = checker().check_request(
            request["method"], request["path"], list(request.get("query", {}).items()),
            list(request.get("form", {}).items()))
        problems += checker().check_reply(request["method"], request["path"], reply["status"],
                                          json.dumps(reply["json"]).encode())
        assert not problems, problems

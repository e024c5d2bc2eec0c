"""The documented exchanges (tests/documented/*.json), checked in both directions.

A stand-in for the conformance kit's runner (``telephony_core.testing.documented``) until it is
on main; it follows the format of HELPERS.md and is to be deleted for the kit's runner then.

* provider side: a real client against a loopback server answering the documented replies in
  order must send exactly the documented requests and give the documented result, error or
  events;
* emulator side: the emulator, sent the documented requests (its model prepared so the ids
  exist), must answer replies of the documented shape (same keys, same JSON types).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests

import telephony_core
from telephony_core.emulation import EmulatorServer, start_emulator

HERE = Path(__file__).parent / "documented"
FILES = sorted(HERE.glob("*.json"))
EXCHANGES = [(json.loads(f.read_text()), x) for f in FILES
             for x in json.loads(f.read_text())["exchanges"]]
ANY = "<any>"


def _id(item: tuple[dict[str, Any], dict[str, Any]]) -> str:
    return item[1]["name"]


# -- matching ----------------------------------------------------------------------------------

def _compare(doc: Any, got: Any, where: str, optional: set[str], problems: list[str]) -> None:
    if doc == ANY:
        return
    if isinstance(doc, dict) and isinstance(got, dict):
        for key, value in doc.items():
            path = f"{where}.{key}"
            if key not in got:
                if path not in optional:
                    problems.append(f"{path} missing")
                continue
            _compare(value, got[key], path, optional, problems)
        problems += [f"{where}.{k} sent but not documented" for k in got if k not in doc]
    elif isinstance(doc, list) and isinstance(got, list) and len(doc) == len(got):
        for i, (d, g) in enumerate(zip(doc, got, strict=True)):
            _compare(d, g, f"{where}[{i}]", optional, problems)
    elif doc != got or type(doc) is not type(got):
        problems.append(f"{where}: documented {doc!r}, sent {got!r}")


def request_problems(doc: dict[str, Any], recorded: Any) -> list[str]:
    problems: list[str] = []
    if (doc["method"], doc["path"]) != (recorded.method, recorded.path):
        return [f"documented {doc['method']} {doc['path']}, sent {recorded.method} "
                f"{recorded.path}"]
    optional = set(doc.get("optional", ()))
    _compare(doc.get("query", {}), recorded.query, "query", optional, problems)
    for kind in ("json", "form", "text"):
        if kind in doc:
            got = {"json": recorded.json, "form": recorded.form,
                   "text": lambda: recorded.body.decode()}[kind]()
            _compare(doc[kind], got, kind, optional, problems)
    return problems


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is(error: BaseException, name: str) -> bool:
    return name in {cls.__name__ for cls in type(error).__mro__}


def check_error(expected: dict[str, Any], error: BaseException) -> None:
    assert _is(error, expected["type"]), f"expected {expected['type']}, got {error!r}"
    for key, value in expected.items():
        if key != "type":
            assert getattr(error, key, None) == value, f"{key}: {getattr(error, key, None)!r}"


# -- the provider against the documented replies ----------------------------------------------

class Scripted:
    """A WSGI app answering the documented replies in order."""

    def __init__(self, replies: list[dict[str, Any]]):
        self.replies = list(replies)

    def __call__(self, environ, start_response):
        if not self.replies:
            start_response("599 Undocumented", [("Content-Type", "text/plain")])
            return [b"no documented reply left"]
        reply = self.replies.pop(0)
        body = (json.dumps(reply["json"]).encode() if "json" in reply
                else reply.get("text", "").encode())
        headers = list((reply.get("headers") or {"Content-Type": "application/json"}).items())
        start_response(f"{reply['status']} Documented", headers)
        return [body]


def connect_to(server: EmulatorServer, config: dict[str, Any]) -> telephony_core.Client:
    return telephony_core.connect(config.get("provider", "infinity"), host="127.0.0.1",
                                  port=server.port, scheme="http", retries=0, timeout=2,
                                  **{k: v for k, v in config.items() if k != "provider"})


@pytest.mark.parametrize("doc,exchange", EXCHANGES, ids=[_id(e) for e in EXCHANGES])
def test_the_provider_does_what_the_vendor_documents(doc, exchange):
    wire = exchange.get("wire", [])
    with EmulatorServer(Scripted([w["reply"] for w in wire])) as server:
        with connect_to(server, doc["config"]) as client:
            outcome: Any
            try:
                if "operation" in exchange:
                    outcome = client.invoke(exchange["operation"], exchange["payload"])
                else:
                    event = exchange["event"]
                    outcome = client.parse_event(json.dumps(event["json"]).encode(),
                                                 event.get("headers", {}))
            except Exception as exc:
                outcome = exc
        # the logout on close is not part of the exchange
        sent = [r for r in server.requests if b"App.Sip_Auth.Logout" not in r.body]
    assert len(sent) == len(wire), [str(r) for r in sent]
    for i, (w, recorded) in enumerate(zip(wire, sent, strict=True)):
        assert request_problems(w["request"], recorded) == [], f"request {i + 1}"
    if "error" in exchange:
        assert isinstance(outcome, BaseException), f"expected an error, got {outcome!r}"
        check_error(exchange["error"], outcome)
        return
    assert not isinstance(outcome, BaseException), repr(outcome)
    if "result" in exchange:
        assert type(outcome).__name__ == exchange["result"]["type"]
        fields = _plain(attrs.asdict(outcome))
        for key, value in exchange["result"]["fields"].items():
            assert fields[key] == value, key
    if "events" in exchange:
        assert len(outcome) == len(exchange["events"])
        for event, expected in zip(outcome, exchange["events"], strict=True):
            fields = _plain(attrs.asdict(event))
            for key, value in expected.items():
                assert fields[key] == value, key


# -- the emulator against the documented requests ---------------------------------------------

def _shape(doc: Any, got: Any, where: str = "$") -> list[str]:
    """Same keys and JSON types, recursively (values differ: ids, times, tokens)."""
    if isinstance(doc, dict):
        if not isinstance(got, dict):
            return [f"{where}: documented an object, got {got!r}"]
        problems = [f"{where}.{k} missing" for k in doc if k not in got]
        problems += [f"{where}.{k} not documented" for k in got if k not in doc]
        for k in doc.keys() & got.keys():
            problems += _shape(doc[k], got[k], f"{where}.{k}")
        return problems
    if isinstance(doc, list):
        if not isinstance(got, list):
            return [f"{where}: documented an array, got {got!r}"]
        return [p for d, g in zip(doc, got, strict=False) for p in _shape(d, g, where + "[]")]
    kinds = (bool, int | float, str, type(None))
    for kind in kinds:
        if isinstance(doc, kind):
            return [] if isinstance(got, kind) and not (kind is not bool and
                                                        isinstance(got, bool)) \
                else [f"{where}: documented {type(doc).__name__}, got {got!r}"]
    return []


def prepare(app: Any, exchange: dict[str, Any]) -> None:
    """Put the emulator's model where the exchange starts: a call between the agent 1001 and a
    number, answered, for the monitor samples."""
    if exchange.get("operation") == "monitor":
        app.pbx.dial("ext:1001", "tel:13333333333")
        app.pbx.answer("ext:1001")
        app.pbx.answer("tel:13333333333")


#: exchanges whose replies the emulator can produce from the state ``prepare`` sets up
EMULATED = [e for e in EXCHANGES if "wire" in e[1] and "error" not in e[1]]


@pytest.mark.parametrize("doc,exchange", EMULATED, ids=[_id(e) for e in EMULATED])
def test_the_emulator_answers_the_documented_requests_in_the_documented_shape(doc, exchange):
    config = doc["config"]
    server = start_emulator("infinity", appid=config["appid"], accesskey=config["accesskey"])
    try:
        prepare(server.app, exchange)
        token = None
        replies = []
        # the error-free conversation: the login, then each operation request once
        wire = [w for w in exchange["wire"] if w["reply"]["json"].get("ret") == 200
                and w["reply"]["json"]["data"].get("status") == 0]
        seen_login = False
        for w in wire:
            form = dict(w["request"]["form"])
            if form["service"] == "App.Sip_Auth.Login":
                if seen_login:
                    continue
                seen_login = True
            if "token" in form:
                form["token"] = token
            files = {k: (None, v) for k, v in form.items()}
            reply = requests.post(server.url + "/", files=files, timeout=5)
            body = reply.json()
            replies.append(body)
            assert _shape(w["reply"]["json"], body) == [], (form["service"], body)
            if form["service"] == "App.Sip_Auth.Login":
                token = body["data"]["result"]["token"]
        assert replies
    finally:
        server.stop()


def test_the_emulator_refuses_in_the_documented_shapes():
    """Interface errors (ret 600) and command refusals (status 1 + errors) as documented."""
    [doc] = [json.loads(f.read_text()) for f in FILES]
    by_name = {x["name"]: x for x in doc["exchanges"]}
    server = start_emulator("infinity", appid="ABCDEFG", accesskey="ABCDEFG")
    try:
        stale = requests.post(server.url + "/", files={"service": (None, "App.Sip_Call.MakeCall"),
                                                       "token": (None, "nope")}, timeout=5)
        expired = by_name["ret 600 (token invalid): one new login, then the request once more"]
        assert _shape(expired["wire"][1]["reply"]["json"], stale.json()) == []
        login = requests.post(server.url + "/", files={
            "service": (None, "App.Sip_Auth.Login"), "appid": (None, "ABCDEFG"),
            "accesskey": (None, "ABCDEFG")}, timeout=5).json()
        token = login["data"]["result"]["token"]
        refused = requests.post(server.url + "/", files={
            "service": (None, "App.Sip_Call.SpyCall"), "token": (None, token),
            "monitortype": (None, "2"), "extnumber": (None, "1005"),
            "destnumber": (None, "1001")}, timeout=5).json()
        sample = by_name["errors.code 1003 (operation failed): the error page's own sample, "
                         "category unknown"]["wire"][1]["reply"]["json"]
        assert _shape(sample, refused) == []
        assert refused["data"]["errors"]["code"] == "1015"  # 1001 is in no call
    finally:
        server.stop()


def test_the_emulators_callbacks_have_the_documented_shapes(webhook_receiver):
    """Seed 003's extension-status and CDR callback samples: same keys, same JSON types."""
    receiver, app = webhook_receiver
    samples = {x["name"]: x["event"]["json"] for _, x in EXCHANGES if "event" in x}
    status = samples["extension status callback: ring (seed 003)"]
    cdr = samples["CDR callback (seed 003): reference from customuuid, the key pressed in data"]
    server = start_emulator("infinity", callback_url=receiver.url + "/cdr",
                            status_url=receiver.url + "/status")
    try:
        pbx = server.app.pbx
        pbx.dial("ext:1001", "tel:13333333333", reference="r-1")
        pbx.answer("ext:1001")
        pbx.answer("tel:13333333333")
        pbx.clock.advance(7)
        pbx.far_hangup("tel:13333333333")
        server.app.status_sender.wait(5)
        server.app.cdr_sender.wait(5)
        bodies = [json.loads(b) for b in app.bodies]
        statuses = [b for b in bodies if "status" in b]
        [record] = [b for b in bodies if "billsec" in b]
        assert [b["status"] for b in statuses] == ["ring", "answer", "ring", "answer", "hangup"]
        for body in statuses:
            assert _shape(status, body) == [], body
        assert _shape(cdr, record) == [], record
        assert record["customuuid"] == "r-1" and record["billsec"] == 7
        assert record["starttime"] and record["answertime"] and record["endtime"]
    finally:
        server.stop()

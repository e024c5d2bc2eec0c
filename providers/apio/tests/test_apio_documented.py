"""APIO's documented exchanges (tests/documented/*.json), checked in both directions.

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
    for name, value in doc.get("headers", {}).items():  # this runner's addition to the format
        if recorded.header(name) != value:
            problems.append(f"header {name}: documented {value!r}, sent "
                            f"{recorded.header(name)!r}")
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
    return telephony_core.connect("apio", host="127.0.0.1", port=server.port, scheme="http",
                                  retries=0, timeout=2, **config)


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
        sent = server.requests
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



def prepare(app: Any) -> None:
    """The model in the state seed 004's replies describe: a custom WAV, group music inside."""
    app.pbx.set_music_on_hold({"tenant": "foo", "group": "foogroup", "user": "foouser"},
                              active=False, use_internal_source=True,
                              source={"selection": "custom", "file": "My Music",
                                      "media_type": "WAV"},
                              internal_source={"selection": "group", "file": None})


#: exchanges whose documented replies the emulator can produce from the state prepare sets
EMULATED = [e for e in EXCHANGES if "wire" in e[1] and "error" not in e[1]]


@pytest.mark.parametrize("doc,exchange", EMULATED, ids=[_id(e) for e in EMULATED])
def test_the_emulator_answers_the_documented_requests_in_the_documented_shape(doc, exchange):
    config = doc["config"]
    server = start_emulator("apio", token=config["token"],
                            prefix=config.get("path_prefix", "/api/v01/p2"))
    try:
        prepare(server.app)
        for w in exchange["wire"]:
            request = w["request"]
            reply = requests.request(request["method"], server.url + request["path"],
                                     headers=request.get("headers"), json=request.get("json"),
                                     timeout=5)
            assert reply.status_code == w["reply"]["status"], reply.text
            assert _shape(w["reply"]["json"], reply.json()) == [], reply.json()
    finally:
        server.stop()


def test_the_emulator_refuses_a_bad_token_in_the_documented_shape():
    [(_doc, refused)] = [e for e in EXCHANGES if e[1].get("error", {}).get("type")
                        == "AuthenticationError"]
    server = start_emulator("apio", token="the-right-one")
    try:
        request = refused["wire"][0]["request"]
        reply = requests.get(server.url + request["path"], headers=request["headers"], timeout=5)
        assert reply.status_code == 401
        assert _shape(refused["wire"][0]["reply"]["json"], reply.json()) == []
    finally:
        server.stop()


def test_the_emulator_serves_apio_cores_login_and_refresh():
    """auth.md's login and refresh samples (the provider does not use them yet)."""
    server = start_emulator("apio")
    try:
        login = requests.post(server.url + "/api/v01/auth/login",
                              json={"username": "admin", "password": "apio-demo"}, timeout=5)
        assert set(login.json()) == {"access_token", "refresh_token", "token"}
        fresh = requests.get(server.url + "/api/v01/auth/access_token", timeout=5, headers={
            "Authorization": f"Bearer {login.json()['refresh_token']}"})
        assert set(fresh.json()) == {"access_token"}
        moh = requests.get(server.url + "/api/v01/p2/tenants/foo/groups/foogroup/users/foouser/"
                           "services/music_on_hold/", timeout=5,
                           headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
        assert moh.status_code == 200
        wrong = requests.post(server.url + "/api/v01/auth/login",
                              json={"username": "admin", "password": "nope"}, timeout=5)
        assert wrong.status_code == 401 and set(wrong.json()) == {"error"}
    finally:
        server.stop()

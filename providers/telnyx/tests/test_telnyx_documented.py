"""Telnyx's documented samples (tests/documented/telnyx.json), checked from both sides, in the
shared format of HELPERS.md, until the conformance kit's runner (telephony_core.testing.documented)
lands on main:

* provider side: a real client against a loopback server that answers the documented replies
  in order must send exactly the documented requests and give the documented result or error;
  event samples must parse into the documented events;
* emulator side: the emulator, its model prepared by Fixtures.prepare_documented, answers the
  documented requests with the documented status and shape (same keys, same JSON types).
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
import requests
from telephony_telnyx.conformance import Fixtures
from telephony_telnyx.emulator import TelnyxEmulator

from telephony_core import connect
from telephony_core.emulation import EmulatorApp, EmulatorServer, route
from telephony_core.errors import TelephonyError

FILES = sorted((Path(__file__).parent / "documented").glob("*.json"))
DOCS = [json.loads(f.read_text()) for f in FILES]
#: (exchange, its file's config)
EXCHANGES = [{**e, "config": d["config"]} for d in DOCS for e in d["exchanges"]]
ANY = "<any>"


class Scripted(EmulatorApp):
    """Answers the documented replies in order, whatever is asked."""

    def __init__(self, replies: list[dict[str, Any]]):
        super().__init__()
        self.replies = list(replies)

    @route(["GET", "POST"], "/{rest:path}")
    def any(self, request, rest):
        reply = self.replies.pop(0)
        return self.json_response(reply.get("json"), reply.get("status", 200))

    def connect_url(self, base_url: str) -> str:
        return "telnyx://" + base_url.removeprefix("http://")


def _matches(doc: Any, sent: Any, where: str, optional: set[str], out: list[str]) -> None:
    if doc == ANY:
        return
    if isinstance(doc, dict) and isinstance(sent, dict):
        for key, value in doc.items():
            if key not in sent:
                if f"{where}.{key}" not in optional:
                    out.append(f"{where}.{key}: documented, not sent")
            else:
                _matches(value, sent[key], f"{where}.{key}", optional, out)
        out += [f"{where}.{key}: sent, not documented" for key in sent if key not in doc]
    elif doc != sent:
        out.append(f"{where}: sent {sent!r}, documented {doc!r}")


def _shape(doc: Any, actual: Any, where: str, out: list[str]) -> None:
    if doc is None or doc == ANY:
        return
    if type(doc) is not type(actual) and not (isinstance(doc, int | float) and
                                              isinstance(actual, int | float)):
        out.append(f"{where}: {type(actual).__name__}, documented {type(doc).__name__}")
    elif isinstance(doc, dict):
        out += [f"{where}.{k}: documented, missing" for k in doc if k not in actual]
        out += [f"{where}.{k}: not documented" for k in actual if k not in doc]
        for k in doc:
            if k in actual:
                _shape(doc[k], actual[k], f"{where}.{k}", out)
    elif isinstance(doc, list) and doc and actual:
        for index, item in enumerate(actual):
            _shape(doc[0], item, f"{where}[{index}]", out)


def _fields(value: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else list(v) if isinstance(v, tuple)
                else v) for k, v in attrs.asdict(value, recurse=False).items()}


def _ids(exchanges: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in exchanges]


def test_every_exchange_cites_its_source():
    assert all(d["provider"] == "telnyx" for d in DOCS) and len(EXCHANGES) >= 10
    for exchange in EXCHANGES:
        assert exchange["source"].startswith("https://developers.telnyx.com/"), exchange["name"]


@pytest.mark.parametrize("exchange", EXCHANGES, ids=_ids(EXCHANGES))
def test_provider_side(exchange):
    if "event" in exchange:
        client = connect("telnyx", host="127.0.0.1", **exchange["config"])
        body = json.dumps(exchange["event"]["json"]).encode()
        try:
            if "error" in exchange:
                with pytest.raises(TelephonyError) as caught:
                    client.parse_event(body, exchange["event"]["headers"])
                assert type(caught.value).__name__ == exchange["error"]["type"]
                return
            events = client.parse_event(body, exchange["event"]["headers"])
        finally:
            client.close()
        assert len(events) == len(exchange["events"])
        for event, wanted in zip(events, exchange["events"], strict=True):
            got = _fields(event)
            assert {k: got[k] for k in wanted} == wanted
        return
    app = Scripted([step["reply"] for step in exchange["wire"]])
    with EmulatorServer(app) as server:
        client = connect("telnyx", host="127.0.0.1", port=server.port, scheme="http",
                         retries=0, **exchange["config"])
        try:
            if "error" in exchange:
                with pytest.raises(TelephonyError) as caught:
                    client.invoke(exchange["operation"], exchange["payload"])
                error = caught.value
                assert type(error).__name__ == exchange["error"]["type"]
                for key, value in exchange["error"].items():
                    if key != "type":
                        assert getattr(error, key) == value, key
            else:
                result = client.invoke(exchange["operation"], exchange["payload"])
                assert type(result).__name__ == exchange["result"]["type"]
                got = _fields(result)
                assert {k: got[k] for k in exchange["result"]["fields"]} == \
                    exchange["result"]["fields"]
        finally:
            client.close()
        sent = server.requests
    assert len(sent) == len(exchange["wire"])
    for step, request in zip(exchange["wire"], sent, strict=True):
        doc = step["request"]
        optional = set(doc.get("optional", ()))
        problems: list[str] = []
        if (request.method, request.path) != (doc["method"], doc["path"]):
            problems.append(f"{request.method} {request.path}, documented "
                            f"{doc['method']} {doc['path']}")
        for name, value in (doc.get("headers") or {}).items():
            if request.header(name) != value:
                problems.append(f"header {name}: sent {request.header(name)!r}")
        _matches(doc.get("query", {}), dict(request.query), "query", optional, problems)
        if "json" in doc:
            _matches(doc["json"], request.json(), "json", optional, problems)
        assert not problems, f"{exchange['name']} ({exchange['source']}): {problems}"


WIRE = [e for e in EXCHANGES if "wire" in e]


@pytest.mark.parametrize("exchange", WIRE, ids=_ids(WIRE))
def test_emulator_side(exchange):
    fixtures = Fixtures()
    app = TelnyxEmulator(**fixtures.documented_emulator_options)
    with EmulatorServer(app) as server:
        wire = tuple(exchange["wire"])
        fixtures.prepare_documented(SimpleNamespace(app=app, pbx=app.pbx),
                                    SimpleNamespace(wire=wire))
        for step in wire:
            doc = step["request"]
            body = {k: (uuid.uuid4().hex if v == ANY and k == "command_id" else
                        base64.b64encode(b'{"v":0}').decode() if v == ANY else v)
                    for k, v in (doc.get("json") or {}).items()}
            reply = requests.request(doc["method"], server.url + doc["path"], json=body,
                                     headers=doc.get("headers"), timeout=5)
            wanted = step["reply"]
            assert reply.status_code == wanted["status"], reply.text
            problems: list[str] = []
            _shape(wanted["json"], reply.json(), "json", problems)
            assert not problems, f"{exchange['name']} ({exchange['source']}): {problems}"

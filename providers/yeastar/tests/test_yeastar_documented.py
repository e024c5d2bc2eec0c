"""The guide's documented exchanges (tests/documented/*.json) run in both directions.

1. The provider, through a real client, against a loopback server that answers the documented
   replies in order: it must send exactly the documented requests and give the documented
   result, error or events.
2. The emulator, sent the documented requests (its model prepared so the calls exist; the
   documented ids are mapped onto the model's), must answer replies of the documented shape.

This is the provider's own runner until the conformance kit's (telephony_core.testing.documented)
lands on main; the JSON files are in the shared format that runner reads.
"""

from __future__ import annotations

import json
import pathlib
import threading
from datetime import datetime
from typing import Any

import attrs
import pytest

import telephony_core
from telephony_core import errors as core_errors
from telephony_core import results
from telephony_core.emulation import EmulatorApp, EmulatorServer, Request, emulated, route

DOCUMENTED = pathlib.Path(__file__).parent / "documented"
FILES = sorted(DOCUMENTED.glob("*.json"))


def _load() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in FILES:
        doc = json.loads(path.read_text())
        for exchange in doc["exchanges"]:
            out.append((f"{path.stem}: {exchange['name']}", doc, exchange))
    return out


EXCHANGES = _load()
OPERATIONS = [e for e in EXCHANGES if "operation" in e[2]]
REPORTS = [e for e in EXCHANGES if "event" in e[2]]


class Scripted(EmulatorApp):
    """Answers every request with the next documented reply and records what it was sent."""

    def __init__(self, wire: list[dict[str, Any]]):
        super().__init__(None)
        self.replies = [step["reply"] for step in wire]
        self.seen: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @route(["GET", "POST", "PUT", "DELETE"], "/{path:path}")
    def any(self, request: Request, path: str):
        with self.lock:
            body = request.get_data()
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            self.seen.append({"method": request.method, "path": request.path,
                              "query": dict(request.args), "json": parsed})
            if not self.replies:
                return self.json_response({"status": "Failed", "errno": "undocumented-request"},
                                          status=599)
            reply = self.replies.pop(0)
        return self.json_response(reply["json"], status=reply.get("status", 200))


def _matches(documented: Any, sent: Any) -> bool:
    return documented == "<any>" or documented == sent


def check_request(documented: dict[str, Any], sent: dict[str, Any]) -> None:
    """Method and path equal; every documented key present and equal; nothing undocumented;
    ``optional`` keys may be absent."""
    where = f"{documented['method']} {documented['path']}"
    assert (sent["method"], sent["path"]) == (documented["method"], documented["path"]), where
    optional = set(documented.get("optional", ()))
    for part in ("query", "json"):
        want = documented.get(part) or {}
        got = sent.get(part) or {}
        assert isinstance(got, dict), f"{where}: the {part} is not an object: {got!r}"
        for key, value in want.items():
            if key not in got:
                assert f"{part}.{key}" in optional, f"{where}: {part}.{key} missing"
                continue
            assert _matches(value, got[key]), f"{where}: {part}.{key}={got[key]!r}, want {value!r}"
        extra = set(got) - set(want)
        assert not extra, f"{where}: undocumented {part} keys {sorted(extra)}"


def _fields(value: Any) -> Any:
    if attrs.has(type(value)):
        return attrs.asdict(value, recurse=False)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _subset(want: dict[str, Any], got: dict[str, Any], what: str) -> None:
    for key, value in want.items():
        assert key in got, f"{what}: no field {key}"
        actual = _plain(got[key])
        if isinstance(value, dict) and isinstance(actual, dict):
            _subset(value, actual, f"{what}.{key}")
        else:
            assert actual == value, f"{what}.{key} = {actual!r}, want {value!r}"


def _error_class(name: str) -> type[BaseException]:
    return getattr(core_errors, name)


def _run_operation(client, exchange: dict[str, Any]) -> Any:
    if exchange["operation"] == "heartbeat":
        return client.provider.heartbeat()
    return client.invoke(exchange["operation"], exchange["payload"])


@pytest.mark.parametrize(("label", "doc", "exchange"), OPERATIONS, ids=[e[0] for e in OPERATIONS])
def test_the_provider_sends_the_documented_requests(label, doc, exchange):
    wire = exchange["wire"]
    app = Scripted(wire)
    config = {**doc.get("config", {}), **exchange.get("config", {})}
    with EmulatorServer(app) as server:
        client = telephony_core.connect("yeastar", host="127.0.0.1", port=server.port,
                                        scheme="http", timeout=2, retries=0, **config)
        try:
            if "error" in exchange:
                with pytest.raises(_error_class(exchange["error"]["type"])) as caught:
                    _run_operation(client, exchange)
                attributes = {k: getattr(caught.value, k, None)
                              for k in exchange["error"] if k != "type"}
                _subset({k: v for k, v in exchange["error"].items() if k != "type"},
                        attributes, label)
            else:
                result = _run_operation(client, exchange)
                want = exchange.get("result")
                if want:
                    got = result[0] if isinstance(result, list) else result
                    assert type(got) is getattr(results, want["type"]), label
                    _subset(want["fields"], _fields(got), label)
        finally:
            client.provider._token = None  # no logout: it is not part of the exchange
            client.close()
    assert len(app.seen) == len(wire), (
        f"{label}: sent {[s['path'] for s in app.seen]}, documented "
        f"{[w['request']['path'] for w in wire]}")
    for step, sent in zip(wire, app.seen, strict=True):
        check_request(step["request"], sent)


def _body(event: dict[str, Any]) -> bytes:
    if "text" in event:
        return event["text"].encode()
    return json.dumps(event["json"]).encode()


@pytest.mark.parametrize(("label", "doc", "exchange"), REPORTS, ids=[e[0] for e in REPORTS])
def test_the_provider_reads_the_documented_reports(label, doc, exchange):
    client = telephony_core.connect("yeastar", host="127.0.0.1", **doc["config"])
    try:
        body, headers = _body(exchange["event"]), exchange["event"].get("headers", {})
        if "error" in exchange:
            with pytest.raises(_error_class(exchange["error"]["type"])):
                client.parse_event(body, headers)
            return
        events = client.parse_event(body, headers)
        assert len(events) == len(exchange["events"]), label
        for want, got in zip(exchange["events"], events, strict=True):
            _subset(want, _fields(got), label)
            assert got.at is not None, f"{label}: every event carries a timestamp"
    finally:
        client.close()

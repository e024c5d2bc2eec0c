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
from telephony_yeastar import extras

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
        if "text" in reply:
            return self.text_response(reply["text"], status=reply.get("status", 200),
                                      content_type=reply["headers"]["Content-Type"])
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
    """A catalogue operation through the client; a provider extra (``"extra": true``, and the
    heartbeat) as the provider's own method."""
    if exchange.get("extra") or exchange["operation"] == "heartbeat":
        return getattr(client.provider, exchange["operation"])(**exchange["payload"])
    return client.invoke(exchange["operation"], exchange["payload"])


def _result_class(name: str) -> type:
    return getattr(results, name, None) or getattr(extras, name)


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
                    assert type(got) is _result_class(want["type"]), label
                    _subset(want["fields"], _fields(got), label)
                elif isinstance(result, bytes):
                    assert result == wire[-1]["reply"]["text"].encode(), label
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


# -- direction 2: the emulator answers the documented requests with the documented shape -----

#: exchanges whose documented reply the model cannot be brought to give, and why
EMULATOR_CANNOT = {
    "send_sms: the guide's reply is the sms-send failure":
        "a send that fails after the PBX took it: the model refuses a send before accepting "
        "it (an errno), or accepts it and reports the result later",
}
#: the documented ids of calls that the prepared model must hold (by the leg they name)
OUTBOUND_IDS = ("1495705009.316", "1495700976.276", "1495705264.322")
INBOUND_IDS = ("1495698433.203", "1495698510.206", "1495698591.209", "1495700191.223",
               "1495698843.215")
OFFERED_IDS = ("1495703883.314",)


def _prepare(emulator, exchange: dict[str, Any]) -> dict[str, str]:
    """Calls for the documented ids to name, and the documented ids mapped onto the model's:
    an answered outbound call ext 1002 -> 41000, an answered inbound call to ext 1000, an
    offered inbound call. The guide's queue/ring-group samples use fromext 1000000, an
    extension the default set-up does not have: mapped to 1000."""
    pbx = emulator.pbx
    mapping = {"1000000": "1000"}
    if exchange["operation"] == "download_recording":  # a recorded call, as a CDR names it
        pbx.dial("ext:1000", "ext:1001", auto_answer=True)
        pbx.answer("ext:1001")
        pbx.hangup("ext:1000")
        [name] = emulator.recordings
        mapping[exchange["payload"]["recording"]] = name
        return mapping
    if exchange["operation"] in ("dial", "play_prompt", "send_sms", "heartbeat",
                                 "list_extensions") or "error" in exchange:
        return mapping
    outbound = pbx.dial("ext:1002", "tel:41000", auto_answer=True)
    pbx.answer("tel:41000")
    inbound = pbx.incoming("1000", "5551000")
    pbx.accept_call(f"call:{inbound.id}")
    pbx.answer("ext:1000")
    offered = pbx.incoming("1001", "5551000")
    mapping.update({i: outbound.trunk_id for i in OUTBOUND_IDS})
    mapping.update({i: inbound.trunk_id for i in INBOUND_IDS})
    mapping.update({i: offered.trunk_id for i in OFFERED_IDS})
    return mapping


def _mapped(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _mapped(v, mapping) for k, v in value.items()}
    if isinstance(value, str):
        return ",".join(mapping.get(part, part) for part in value.split(","))
    return value


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (a list by its first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def _same_shape(documented: Any, answered: Any, where: str) -> None:
    if isinstance(documented, dict):
        assert isinstance(answered, dict), f"{where}: {answered!r} is not an object"
        assert set(documented) == set(answered), (
            f"{where}: keys {sorted(answered)}, documented {sorted(documented)}")
        for key in documented:
            _same_shape(documented[key], answered[key], f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(answered, list), f"{where}: {answered!r} is not a list"
        if documented and answered:
            _same_shape(documented[0], answered[0], f"{where}[0]")
    else:
        assert shape(documented) == shape(answered), f"{where}: {answered!r} vs {documented!r}"


EMULATED = [e for e in OPERATIONS if e[2]["wire"] and e[2]["name"] not in EMULATOR_CANNOT]


@pytest.mark.parametrize(("label", "doc", "exchange"), EMULATED, ids=[e[0] for e in EMULATED])
def test_the_emulator_answers_the_documented_requests(label, doc, exchange):
    import urllib.request

    wire = exchange["wire"]
    refused_login = wire[0]["reply"]["json"].get("status") != "Success"
    password = "not-the-documented-one" if refused_login else doc["config"]["password"]
    with emulated("yeastar", password=password) as emu:
        mapping = _prepare(emu.app, exchange)
        token = ""
        for index, step in enumerate(wire):
            request = step["request"]
            query = {k: token if v == "<any>" and k == "token" else _mapped(v, mapping)
                     for k, v in (request.get("query") or {}).items()}
            target = emu.server.url + request["path"] + (
                "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            sent = urllib.request.Request(
                target, method=request["method"],
                data=json.dumps(_mapped(request.get("json") or {}, mapping)).encode()
                if request["method"] == "POST" else None,
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(sent, timeout=5) as reply:
                raw, ctype = reply.read(), reply.headers.get("Content-Type", "")
            if "text" in step["reply"]:  # a file: its media type and magic, not a shape
                documented_type = step["reply"]["headers"]["Content-Type"]
                assert ctype.startswith(documented_type), f"{label}: {ctype}"
                assert raw[:4] == step["reply"]["text"].encode()[:4], label
                continue
            answered = json.loads(raw)
            documented = step["reply"]["json"]
            _same_shape(documented, answered, f"{label} [{index}] {request['path']}")
            if documented.get("status") == "Success":
                assert answered.get("status") == "Success", f"{label}: {answered}"
            token = answered.get("token", token)
            # a value a later request repeats (get_random's random string) maps onto the
            # emulator's
            for key in ("random",):
                if isinstance(documented.get(key), str) and isinstance(answered.get(key), str):
                    mapping[documented[key]] = answered[key]

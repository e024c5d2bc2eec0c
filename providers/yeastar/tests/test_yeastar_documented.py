"""The guide's samples for what is not a catalogue operation: the heartbeat and the provider
extras (tests/documented_extras/*.json, the shared documented-exchange format).

The catalogue operations' samples (tests/documented/*.json) are run by the conformance kit
(telephony_core.testing.documented, through test_yeastar_conformance.py). The kit calls
operations through ``client.invoke``, which these are not; so their provider side runs here,
with the kit's own request comparison, and their emulator side through the kit's
``check_emulator`` with the package's ``prepare_documented`` hook.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import attrs
import pytest
from telephony_yeastar import extras
from telephony_yeastar.conformance import Fixtures

import telephony_core
from telephony_core import registry
from telephony_core.emulation import EmulatorApp, EmulatorServer, Request, route
from telephony_core.testing.documented import (
    check_emulator,
    describe,
    load,
    request_differences,
)

FILES = sorted((pathlib.Path(__file__).parent / "documented_extras").glob("*.json"))
EXCHANGES = [e for path in FILES for e in load(path).exchanges]


class Scripted(EmulatorApp):
    """Answers every request with the next documented reply."""

    def __init__(self, replies: list[dict[str, Any]]):
        super().__init__(None)
        self.replies = list(replies)

    @route(["GET", "POST"], "/{path:path}")
    def any(self, request: Request, path: str):
        if not self.replies:
            return self.json_response({"error": "undocumented request"}, status=599)
        reply = self.replies.pop(0)
        if "text" in reply:
            return self.text_response(reply["text"], status=reply.get("status", 200),
                                      content_type=reply["headers"]["Content-Type"])
        return self.json_response(reply["json"], status=reply.get("status", 200))


def _raw_exchange(exchange) -> dict[str, Any]:
    """The exchange as written (the kit's loader keeps only the file-level config)."""
    doc = json.loads(pathlib.Path(exchange.file).read_text())
    return next(e for e in doc["exchanges"] if e["name"] == exchange.name)


@pytest.mark.parametrize("exchange", EXCHANGES, ids=[e.test_id for e in EXCHANGES])
def test_the_provider_side(exchange):
    assert not exchange.problem, exchange.problem
    config = {**exchange.config, **_raw_exchange(exchange).get("config", {})}
    app = Scripted([step["reply"] for step in exchange.wire])
    with EmulatorServer(app) as server:
        client = telephony_core.connect("yeastar", host="127.0.0.1", port=server.port,
                                        scheme="http", timeout=2, **config)
        try:
            result = getattr(client.provider, exchange.operation)(**exchange.payload)
        finally:
            client.provider._token = None  # no logout: it is not part of the exchange
            client.close()
        recorded = server.requests
    differences = [f"wire[{i}]: {d}" for i, (step, sent) in enumerate(
        zip(exchange.wire, recorded, strict=False)) for d in request_differences(
        step["request"], sent)]
    if len(recorded) != len(exchange.wire):
        differences.append(f"sent {[str(r) for r in recorded]}, documented "
                           f"{[s['request']['path'] for s in exchange.wire]}")
    assert not differences, describe(exchange, differences, "yeastar provider")
    if exchange.result:
        got = result[0] if isinstance(result, list) else result
        assert type(got) is getattr(extras, exchange.result["type"])
        fields = attrs.asdict(got)
        assert {k: fields[k] for k in exchange.result["fields"]} == exchange.result["fields"]
    if exchange.operation == "download_recording":
        assert result == exchange.wire[-1]["reply"]["text"].encode()


@pytest.mark.parametrize("exchange", EXCHANGES, ids=[e.test_id for e in EXCHANGES])
def test_the_emulator_side(exchange):
    found = check_emulator(Fixtures(), registry.get("yeastar"), exchange)
    assert not found, describe(exchange, found, "yeastar emulator")

"""Fixtures of the Telnyx tests: the spec (loaded once), and a recording emulator world whose
every request, reply and webhook is checked against the spec when the test ends."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from telephony_telnyx.emulator import TelnyxEmulator

from telephony_core import connect
from telephony_core.client import Client
from telephony_core.emulation import EmulatorServer
from telephony_core.testing import spec_evidence

sys.path.insert(0, str(Path(__file__).parent))  # pytest runs with --import-mode=importlib
from telnyx_spec_check import SPEC_PATH, TelnyxSpec


@pytest.fixture(scope="session")
def telnyx_spec() -> TelnyxSpec:
    if not SPEC_PATH.exists():
        pytest.fail(f"Telnyx's spec is missing: {SPEC_PATH} (the repository's ../shared/specs)")
    return TelnyxSpec()


class RecordingEmulator(TelnyxEmulator):
    """The emulator, keeping each reply it gives (method, path, status, JSON body)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.replies: list[tuple[str, str, int, Any]] = []

    def dispatch(self, request):
        response = super().dispatch(request)
        body = response.get_data()
        self.replies.append((request.method, request.path, response.status_code,
                             json.loads(body) if body else None))
        return response


@attrs.define
class World:
    server: EmulatorServer
    app: RecordingEmulator
    client: Client
    others: list[Client] = attrs.Factory(list)

    @property
    def pbx(self) -> Any:
        return self.app.pbx

    def connect(self, **options: Any) -> Client:
        """A second, separately created client (another process's view)."""
        client = connect(self.app.connect_url(self.server.url), **options)
        self.others.append(client)
        return client

    def sent(self, path: str | None = None, method: str = "POST") -> list[dict[str, Any]]:
        return [r.json() for r in self.server.requests
                if r.method == method and (path is None or r.path == path) and r.body]

    def deliver(self, client: Client | None = None, start: int = 0) -> list[Any]:
        """Hand the webhooks rendered since ``start`` to ``client.handle_event`` (as the
        application's webhook endpoint would), in order; returns the events."""
        events, done = [], start
        while done < len(self.app.webhooks):  # a follow-up step may cause more webhooks
            body, headers = self.app.webhooks[done]
            done += 1
            events += (client or self.client).handle_event(body, headers)
        return events


@contextlib.contextmanager
def make_world(spec: TelnyxSpec, emulator_options: dict[str, Any] | None = None,
               **client_options: Any) -> Iterator[World]:
    app = RecordingEmulator(**(emulator_options or {}))
    declaration = spec_evidence.VendorSpec(str(SPEC_PATH))
    checked = spec_evidence.SpecCheckedApp(app, spec_evidence.load(SPEC_PATH), declaration)
    server = EmulatorServer(checked).start()
    options = {"timeout": 0.5, "connect_timeout": 0.5, "deadline": 5, "retries": 2,
               "caller_id": "+15550100", **client_options}
    options = {k: v for k, v in options.items() if v is not None}
    client = connect(app.connect_url(server.url), **options)
    world = World(server, app, client)
    try:
        yield world
    finally:
        for other in [client, *world.others]:
            other.close()
        app.close()
        server.stop()
    assert not checked.violations, "\n".join(checked.violations)
    check_world(spec, world)


def check_world(spec: TelnyxSpec, world: World) -> None:
    """Beyond the kit's spec check (telephony_core.testing.spec_evidence: every request and
    reply of the world, above): no request key the operation does not document (Telnyx's
    schemas are open), the Bearer header, every reply again with this module's checker, and
    every webhook the emulator sent against the spec's ``webhooks``."""
    for request in world.server.requests:
        body = request.json() if request.body else None
        spec.check_request(request.method, request.path, body,
                           {k: v for k, v in request.query.items()})
        assert request.header("Authorization", "").startswith("Bearer ")
    for method, path, status, body in world.app.replies:
        if body is not None and status != 404:
            spec.check_reply(method, path, status, body)
    for raw, headers in world.app.webhooks:
        spec.check_webhook(json.loads(raw), headers)


@pytest.fixture
def world(telnyx_spec: TelnyxSpec) -> Iterator[World]:
    with make_world(telnyx_spec) as w:
        yield w


@pytest.fixture
def world_with(telnyx_spec: TelnyxSpec):
    """``with world_with(**client_options) as w:`` a world with other client options."""
    return lambda **options: make_world(telnyx_spec, **options)


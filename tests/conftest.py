"""Fixtures for the core's tests: a tiny HTTP provider with a login token, and real distributions.

The ``loopback`` provider is the smallest honest HttpProvider: it logs in for a token that then
travels in the query string (the Yeastar pattern, the hardest case for redaction), and it talks
to a real WSGI app served on 127.0.0.1 by the emulation kit.
"""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import telephony_core
from telephony_core import registry
from telephony_core.errors import AuthenticationError, ProviderError
from telephony_core.http import HttpProvider, Route, WireRequest
from telephony_core.provider import ProviderSpec
from telephony_core.results import Ack, CallInfo, CallRef, SmsReceipt
from telephony_core.wire import Token

CANARY_PASSWORD = "canary-pw-7f3a9c"
CANARY_TOKEN = "tok-canary-91be44d0"


class LoopbackApp:
    """The far side of the loopback provider: a plain WSGI app with a login and four routes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: dict[str, dict[str, Any]] = {}
        self.token = CANARY_TOKEN
        self.logins = 0

    def connect_url(self, base_url: str) -> str:
        return base_url.replace("http://", f"loopback://api:{CANARY_PASSWORD}@") + "?scheme=http"

    def expire_tokens(self) -> None:
        self.token = CANARY_TOKEN + "-renewed"

    def __call__(self, environ, start_response):
        from urllib.parse import parse_qs

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        path = environ["PATH_INFO"]
        status, reply = self.handle(path, query, body)
        data = json.dumps(reply).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(data)))])
        return [data]

    def handle(self, path: str, query: dict, body: dict) -> tuple[int, dict]:
        with self.lock:
            if path == "/login":
                self.logins += 1
                if body.get("password") != CANARY_PASSWORD:
                    return 401, {"error": "bad password"}
                return 200, {"token": self.token}
            if query.get("token") != self.token:
                return 401, {"error": "token expired"}
            if path == "/dial":
                call_id = f"c{len(self.calls) + 1}"
                self.calls[call_id] = {"from": body["from"], "to": body["to"], "state": "ringing"}
                return 200, {"id": call_id}
            if path == "/hold":
                return 200, {}
            if path == "/calls":
                return 200, {"calls": [{"id": k, **v} for k, v in self.calls.items()]}
            if path == "/sms":
                return 200, {"id": "m1"}
            if path == "/busy":
                return 409, {"error": "busy"}
        return 404, {"error": "no such path"}


class LoopbackProvider(HttpProvider):
    """Logs in for a token (the core re-logs in once when it expires), sent in the query: plugin
    API 2, sans-IO, so the sync and the async client both run it."""

    def login(self):
        reply = yield WireRequest("POST", "/login", json={
            "username": self.config["username"], "password": self.config.secret("password")})
        if reply.status != 200:
            raise AuthenticationError("login refused")
        return Token(reply.json()["token"])

    def attach(self, request: WireRequest, token: Token) -> WireRequest:
        return request.with_params(token=token.value)

    def decode(self, reply, op):
        if reply.status == 409:
            raise ProviderError("the extension is busy", code="extension_not_idle",
                                category="busy", vendor_code="409")
        return super().decode(reply, op)

    routes = {
        "dial": Route(lambda self, p: WireRequest("POST", "/dial", json={
            "from": p["caller"], "to": p["callee"]}),
            lambda self, data, p: CallRef(self.name, data["id"], raw=data)),
        "hold": Route(lambda self, p: WireRequest("POST", "/hold", json={"call": p["call"]}),
                      lambda self, data, p: Ack(self.name, raw=data)),
        "list_calls": Route(lambda self, p: WireRequest("POST", "/calls", json={}),
                            lambda self, data, p: [CallInfo(c["id"], "outbound", c["from"],
                                                            c["to"], c["state"])
                                                   for c in data["calls"]]),
        "send_sms": Route(lambda self, p: WireRequest("POST", "/sms", json=p),
                          lambda self, data, p: SmsReceipt(self.name, data["id"], "sent")),
        "mute": Route(lambda self, p: WireRequest("POST", "/busy", json=p),
                      lambda self, data, p: Ack(self.name)),
    }


def _create_emulator(pbx=None, **options):
    return LoopbackApp()


LOOPBACK = ProviderSpec(
    name="loopback", title="Loopback test provider", package="telephony_core",
    implementation=LoopbackProvider, emulator=_create_emulator,
    operations=dict.fromkeys(["dial", "hold", "list_calls", "send_sms", "mute"]),
    config_schema={"type": "object", "properties": {
        "host": {"type": "string"}, "port": {"type": "integer"},
        "username": {"type": "string", "minLength": 1},
        "password": {"type": "string", "minLength": 1, "writeOnly": True}},
        "required": ["host", "username", "password"]},
    plugin_api=2,
)


@pytest.fixture
def loopback_spec() -> Iterator[ProviderSpec]:
    telephony_core.register(LOOPBACK, replace=True)
    yield LOOPBACK
    telephony_core.unregister("loopback")


@pytest.fixture
def loopback(loopback_spec):
    """(server, client) for the loopback provider over real HTTP on 127.0.0.1."""
    from telephony_core.emulation import EmulatorServer

    app = LoopbackApp()
    with EmulatorServer(app) as server:
        client = telephony_core.connect(app.connect_url(server.url), timeout=0.5,
                                        connect_timeout=0.5, deadline=5)
        try:
            yield server, client
        finally:
            client.close()


def write_distribution(site: Path, dist: str, version: str, entry_points: dict[str, str],
                       modules: dict[str, str]) -> None:
    """Write an installed distribution (a .dist-info with entry points, plus its modules)."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{registry.GROUP}]\n{lines}\n")
    (info / "RECORD").write_text("")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture(name="write_distribution")
def write_distribution_fixture():
    return write_distribution


@pytest.fixture
def site_dir(tmp_path, monkeypatch) -> Path:
    """A directory on sys.path where tests install distributions; forgotten afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    registry.clear_cache()
    yield site
    registry.clear_cache()
    for name in [m for m in sys.modules if m.startswith("tpl_")]:
        del sys.modules[name]


class SyncOverAsync:
    """An AsyncClient driven from synchronous test code: its coroutines run on an event loop in
    a background thread, so one client-level test body runs against both clients."""

    def __init__(self, client):
        import asyncio

        self._client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _wait(self, coro):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __getattr__(self, name):
        import inspect

        value = getattr(self._client, name)
        if inspect.iscoroutinefunction(value):
            return lambda *a, **kw: self._wait(value(*a, **kw))
        return value

    def close(self):
        try:
            self._wait(self._client.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


CLIENT_KINDS = ("sync", "async")


def connect_kind(kind: str, *args, **options):
    """telephony_core.connect or (wrapped for sync test code) telephony_core.connect_async."""
    if kind == "sync":
        return telephony_core.connect(*args, **options)
    return SyncOverAsync(telephony_core.connect_async(*args, **options))


@contextlib.contextmanager
def loopback_variant(name: str, implementation=None, **spec_changes):
    """A variant of the loopback provider registered as ``name`` and served on 127.0.0.1:
    yields (app, server, url). Unregistered afterwards."""
    import attrs

    from telephony_core.emulation import EmulatorServer

    changes = {"implementation": implementation} if implementation is not None else {}
    telephony_core.register(attrs.evolve(LOOPBACK, name=name, **changes, **spec_changes),
                            replace=True)
    app = LoopbackApp()
    try:
        with EmulatorServer(app) as server:
            yield app, server, app.connect_url(server.url).replace("loopback://", f"{name}://")
    finally:
        telephony_core.unregister(name)


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names of providers a test registered in-process (tests/broken_copies.py: register),
    unregistered after it."""
    names: list[str] = []
    yield names
    for name in names:
        telephony_core.unregister(name)


@pytest.fixture(scope="module")
def yeastar_url() -> Iterator[str]:
    """A Yeastar emulator served on 127.0.0.1 for a module's tests; its connection URL."""
    from telephony_core.emulation import start_emulator

    server = start_emulator("yeastar")
    try:
        yield server.app.connect_url(server.url)
    finally:
        server.stop()

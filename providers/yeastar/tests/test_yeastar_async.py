"""Yeastar through the async client (telephony_core.connect_async) against its emulator over
real HTTP: the same provider as the sync client, the session run by the core's AsyncSession."""

from __future__ import annotations

import ast
import asyncio
import pathlib
import time

import pytest
import telephony_yeastar

import telephony_core
from telephony_core.emulation import start_emulator
from telephony_core.errors import AuthenticationError, ProviderError

pytest.importorskip("httpx")  # the async extra; ./dev setup installs it


@pytest.fixture
def served():
    server = start_emulator("yeastar")
    try:
        yield server.app, server, server.app.connect_url(server.url)
    finally:
        server.stop()


def paths(server) -> list[str]:
    return [r.path.removeprefix("/api/") for r in server.requests]


def test_a_dial_through_the_async_client(served):
    app, server, url = served

    async def main():
        async with telephony_core.connect_async(url, timeout=2) as client:
            return await client.dial("ext:1000", "ext:1001")

    ref = asyncio.run(main())
    assert ref.call_id in app.pbx.calls and app.pbx.calls[ref.call_id].pending == "ext:1001"
    login, dial = server.requests[:2]
    assert login.path == "/api/v1.0.0/login" and "token" not in login.query
    assert dial.path == "/api/v1.0.0/extension/dial_extension"
    assert dial.query["token"] == server.requests[-1].query["token"]  # the one logged out
    assert dial.json() == {"caller": "1000", "callee": "1001", "autoanswer": "no"}
    assert paths(server)[-1] == "v1.0.0/logout"  # the core logs out on aclose


def test_hold_by_call_id_is_a_multi_request_exchange_on_the_async_client(served):
    app, server, url = served

    async def main():
        async with telephony_core.connect_async(url, timeout=2) as client:
            ref = await client.dial("ext:1002", "tel:41000", auto_answer=True)
            app.pbx.answer("tel:41000")
            before = len(server.requests)
            await client.hold(f"call:{ref.call_id}")
            held = server.requests[before:]
            with pytest.raises(ProviderError) as info:
                await client.hold("call:999.999")
            return held, info.value

    held, missing = asyncio.run(main())
    # outbound/query finds the call's extension, then the hold acts on it
    assert [r.path for r in held] == ["/api/v1.0.0/outbound/query", "/api/v1.0.0/extension/hold"]
    assert held[1].json() == {"extid": "1002"}
    assert all(r.query.get("token") for r in held)
    assert missing.category == "not_found"


def test_the_async_session_sends_the_heartbeat(served):
    app, server, url = served

    async def main():
        async with telephony_core.connect_async(url, timeout=2) as client:
            client.provider.keepalive_every = 0.05  # the core's keepalive, sped up
            await client.list_calls()
            deadline = time.monotonic() + 5
            while "v1.0.0/heartbeat" not in paths(server) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)

    asyncio.run(main())
    beat = next(r for r in server.requests if r.path == "/api/v1.0.0/heartbeat")
    assert beat.query["token"] and beat.json()["ipaddr"] and beat.json()["port"] == "8260"
    assert app.logins == 1


def test_twenty_tasks_meeting_an_expired_token_cause_one_login(served):
    app, server, url = served

    async def main():
        async with telephony_core.connect_async(url, timeout=2, deadline=10) as client:
            await client.list_calls()
            app.expire_tokens()
            await asyncio.gather(*(client.list_calls(direction="outbound") for _ in range(20)))

    asyncio.run(main())
    assert app.logins == 2  # the first, and one for the twenty
    assert len([p for p in paths(server) if p == "v1.0.0/outbound/query"]) >= 21


def test_a_refused_login_is_not_retried_by_the_async_client(served):
    app, server, url = served
    wrong = url.replace(f":{app.password}@", ":wrong-password-2@")
    assert wrong != url

    async def main():
        async with telephony_core.connect_async(wrong, timeout=2) as client:
            errors = []
            for _ in range(3):
                with pytest.raises(AuthenticationError) as info:
                    await client.list_calls()
                errors.append(str(info.value))
            return errors

    errors = asyncio.run(main())
    assert app.logins == 1  # one attempt, however often the application insists
    assert paths(server) == ["v1.0.0/login"]
    assert "not tried again" in errors[-1] and "wrong-password-2" not in " ".join(errors)


def test_the_extras_are_awaitable_on_the_async_client(served):
    _app, server, url = served

    async def main():
        async with telephony_core.connect_async(url, timeout=2) as client:
            return await client.provider.list_extensions()

    extensions = asyncio.run(main())
    assert {e.number for e in extensions} >= {"1000", "1001"}
    assert paths(server)[:2] == ["v1.0.0/login", "v1.0.0/extensionlist/query"]


def test_no_module_of_the_provider_imports_an_http_library():
    """Plugin API 2: the provider is sans-IO; the client's driver sends."""
    package = pathlib.Path(telephony_yeastar.__file__).parent
    found = []
    for module in package.glob("*.py"):
        if module.name == "emulator.py":
            continue  # the emulator is a server (werkzeug), not the provider
        for node in ast.walk(ast.parse(module.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{module.name}: {n}" for n in names
                      if n.split(".")[0] in ("requests", "httpx", "urllib3")
                      or n == "telephony_core.http"]
    assert found == []

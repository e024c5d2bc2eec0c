"""A OneRequest is an exchange of one request without a generator: over real HTTP it must do
exactly what the generator form does, on both clients: the same requests on the wire, the
session attached, one new login and one re-send after a dead token (never two), the provider's
``authorize`` applied, and a provider extra returning one runs through ``run_exchange``."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

import telephony_core
from telephony_core.results import Ack
from telephony_core.wire import OneRequest, WireReply, WireRequest

from .conftest import LoopbackProvider, loopback_variant


def _hold_request(payload: dict[str, Any]) -> WireRequest:
    return WireRequest("POST", "/hold", json={"call": payload["call"]})


def _hold(provider: Any, payload: dict[str, Any]) -> Any:
    """``ext:`` is one request (a OneRequest); ``call:`` the same request as a generator, as an
    exchange that needed a look-up first would be."""
    def read(reply: WireReply) -> Ack:
        return Ack(provider.name, raw=provider.decode(reply, None))

    if payload["call"].startswith("ext:"):
        return OneRequest(_hold_request(payload), read)
    return _hold_steps(payload, read)


def _hold_steps(payload: dict[str, Any], read: Any) -> Generator[WireRequest, WireReply, Ack]:
    reply = yield _hold_request(payload)
    return read(reply)


class KeyedProvider(LoopbackProvider):
    """The loopback provider with a static key on every request (``authorize``), ``hold`` as
    an Exchange that answers in both forms, and an extra that is one request."""

    routes = {**LoopbackProvider.routes, "hold": _hold}

    def authorize(self, request: WireRequest) -> WireRequest:
        return request.with_headers({"X-Key": "static-key"})

    def ping(self) -> Any:
        def read(reply: WireReply) -> str:
            self.decode(reply, None)
            return "pong"

        assert self.runner is not None
        return self.runner(OneRequest(WireRequest("POST", "/hold", json={"call": "ext:1"}),
                                      read))


@pytest.fixture
def keyed():
    with loopback_variant("keyed", KeyedProvider) as served:
        yield served


def _holds(server: Any) -> list[tuple[str, str | None, str | None]]:
    return [(r.path, r.query.get("token"), r.headers.get("X-Key"))
            for r in server.requests if r.path in ("/hold", "/login")]


@pytest.mark.parametrize("call", ["ext:1000", "call:c1"])
def test_both_forms_send_the_same_request_with_session_and_key(keyed, call):
    app, server, url = keyed
    with telephony_core.connect(url) as client:
        client.list_calls()
        server.clear()
        result = client.hold(call)
    assert result == Ack("keyed")
    assert [(r.path, r.json()) for r in server.requests] == [("/hold", {"call": call})]
    assert _holds(server) == [("/hold", app.token, "static-key")]


@pytest.mark.parametrize("call", ["ext:1000", "call:c1"])
def test_a_dead_token_costs_one_login_and_one_resend_in_both_forms(keyed, call):
    app, server, url = keyed
    with telephony_core.connect(url) as client:
        client.list_calls()
        server.clear()
        app.expire_tokens()
        client.hold(call)
    assert [r.path for r in server.requests] == ["/hold", "/login", "/hold"]
    assert _holds(server)[-1] == ("/hold", app.token, "static-key")


@pytest.mark.parametrize("call", ["ext:1000", "call:c1"])
def test_the_async_client_runs_both_forms_alike(keyed, call):
    app, server, url = keyed

    async def main() -> Ack:
        async with telephony_core.connect_async(url) as client:
            await client.list_calls()
            server.clear()
            app.expire_tokens()
            return await client.hold(call)

    assert asyncio.run(main()) == Ack("keyed")
    assert [r.path for r in server.requests] == ["/hold", "/login", "/hold"]
    assert _holds(server)[-1] == ("/hold", app.token, "static-key")


@pytest.mark.parametrize("call", ["ext:1000", "call:c1"])
def test_a_second_dead_token_goes_to_the_provider_not_to_a_second_login(keyed, call):
    app, server, url = keyed
    handle = app.handle

    def every_token_dead_for_hold(path: str, query: dict, body: dict) -> tuple[int, dict]:
        return (401, {"error": "token expired"}) if path == "/hold" else handle(path, query, body)

    app.handle = every_token_dead_for_hold
    with telephony_core.connect(url) as client:
        client.list_calls()
        server.clear()
        with pytest.raises(telephony_core.errors.AuthenticationError):
            client.hold(call)
    assert [r.path for r in server.requests] == ["/hold", "/login", "/hold"]


def test_an_extra_of_one_request_runs_through_the_client_with_session_and_key(keyed):
    app, server, url = keyed
    with telephony_core.connect(url) as client:
        assert client.provider.ping() == "pong"
    assert _holds(server)[-1] == ("/hold", app.token, "static-key")

    async def main() -> str:
        async with telephony_core.connect_async(url) as client:
            return await client.provider.ping()

    server.clear()
    assert asyncio.run(main()) == "pong"
    assert _holds(server)[-1] == ("/hold", app.token, "static-key")

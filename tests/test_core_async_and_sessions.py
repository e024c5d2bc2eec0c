"""One provider, two clients: the async client, and sessions run by the core for both.

The loopback provider (tests/conftest.py) is sans-IO (plugin API 2): it declares its login and
how the token travels; the core runs the session single flight across threads and tasks.
"""

from __future__ import annotations

import asyncio
import threading

import attrs
import pytest

import telephony_core
from telephony_core.emulation import EmulatorServer, Fault
from telephony_core.errors import AuthenticationError, ConfigurationError, OutcomeUnknown
from telephony_core.wire import WireRequest

from .conftest import LOOPBACK, LoopbackApp, LoopbackProvider, loopback_variant


@pytest.fixture
def served(loopback_spec):
    app = LoopbackApp()
    with EmulatorServer(app) as server:
        yield app, server, app.connect_url(server.url)


def test_the_simulator_works_in_the_async_client():
    async def main():
        async with telephony_core.connect_async("sim://") as client:
            ref = await client.dial("ext:1000", "ext:1001", idempotency_key="order-1")
            calls = await client.list_calls()
            return ref, calls

    ref, calls = asyncio.run(main())
    assert ref.call_id in {c.call_id for c in calls}


def test_the_async_client_runs_a_sans_io_provider_over_real_http(served):
    app, server, url = served

    async def main():
        async with telephony_core.connect_async(url) as client:
            ref = await client.dial("ext:1000", "tel:41000")
            return ref, await client.list_calls()

    ref, calls = asyncio.run(main())
    assert ref.call_id == "c1" and [c.call_id for c in calls] == ["c1"]
    assert app.logins == 1 and len(server.requests_to("/dial")) == 1


def test_a_hundred_tasks_meeting_an_expired_token_cause_one_login(served):
    app, _server, url = served

    async def main():
        async with telephony_core.connect_async(url, deadline=10) as client:
            await client.list_calls()
            app.expire_tokens()
            await asyncio.gather(*(client.hold("ext:1000") for _ in range(100)))

    asyncio.run(main())
    assert app.logins == 2  # the first, and one for the hundred


def test_thirty_two_threads_meeting_an_expired_token_cause_one_login(served):
    app, _server, url = served
    with telephony_core.connect(url, deadline=10) as client:
        client.list_calls()
        app.expire_tokens()
        barrier = threading.Barrier(32)
        failures = []

        def work():
            barrier.wait()
            try:
                client.hold("ext:1000")
            except Exception as exc:  # collected and asserted below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == [] and app.logins == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_refused_login_is_not_tried_again(served, kind):
    app, _server, url = served
    bad = url.replace("canary-pw-7f3a9c", "wrong-password")

    async def run_async():
        async with telephony_core.connect_async(bad, retries=2) as client:
            for _ in range(3):
                with pytest.raises(AuthenticationError):
                    await client.hold("ext:1000")

    if kind == "async":
        asyncio.run(run_async())
    else:
        with telephony_core.connect(bad, retries=2) as client:
            for _ in range(3):
                with pytest.raises(AuthenticationError):
                    client.hold("ext:1000")
    assert app.logins == 1  # three operations, one login: the address is not locked out


class KeptAlive(LoopbackProvider):
    keepalive_every = 0.05

    def keepalive(self, token):
        return WireRequest("POST", "/calls", json={})

    def logout(self, token):
        return WireRequest("POST", "/logout", json={})


@pytest.fixture
def kept_alive():
    with loopback_variant("kept", KeptAlive) as (_, server, url):
        yield server, url


def test_the_core_keeps_the_session_alive_and_logs_out_on_close(kept_alive):
    server, url = kept_alive
    with telephony_core.connect(url) as client:
        client.hold("ext:1000")
        assert server.wait_for_requests(5, timeout=5)
    assert len(server.requests_to("/calls")) >= 3
    assert len(server.requests_to("/logout")) == 1
    assert all(r.query.get("token") for r in server.requests_to("/calls"))


def test_the_async_client_keeps_the_session_alive_and_logs_out(kept_alive):
    server, url = kept_alive

    async def main():
        async with telephony_core.connect_async(url) as client:
            await client.hold("ext:1000")
            await asyncio.sleep(0.3)

    asyncio.run(main())
    assert len(server.requests_to("/calls")) >= 3 and len(server.requests_to("/logout")) == 1


def test_a_dead_token_costs_one_new_login_and_one_resend(served):
    app, server, url = served
    with telephony_core.connect(url) as client:
        client.list_calls()
        server.clear()
        app.expire_tokens()
        client.dial("ext:1000", "tel:41000")  # a dial, re-sent: the 401 proves it was refused
    assert [r.path for r in server.requests] == ["/dial", "/login", "/dial"]


def test_the_async_client_never_sends_a_dial_twice(served):
    _app, server, url = served

    async def main():
        async with telephony_core.connect_async(url, timeout=0.3) as client:
            await client.list_calls()
            server.inject(Fault.reset_after_read(), path="/dial", times=None)
            with pytest.raises(OutcomeUnknown):
                await client.dial("ext:1000", "tel:41000")

    asyncio.run(main())
    assert len(server.requests_to("/dial")) == 1


def test_the_async_client_refuses_a_plugin_api_1_provider_clearly():
    spec = attrs.evolve(LOOPBACK, name="legacy", plugin_api=1)
    telephony_core.register(spec, replace=True)
    try:
        with pytest.raises(ConfigurationError) as info:
            telephony_core.connect_async("legacy://u:pw@127.0.0.1:9")
    finally:
        telephony_core.unregister("legacy")
    assert "plugin API 1" in str(info.value) and "connect()" in str(info.value)


def test_a_plugin_for_an_unknown_api_is_refused_at_registration():
    from telephony_core.errors import ProviderLoadError

    with pytest.raises(ProviderLoadError) as info:
        telephony_core.register(attrs.evolve(LOOPBACK, name="future", plugin_api=9))
    assert "plugin API 9" in str(info.value) and "upgrade telephony-core" in str(info.value)


def test_a_token_is_registered_as_a_secret(served):
    app, _server, url = served
    from telephony_core.redaction import redact

    with telephony_core.connect(url) as client:
        client.list_calls()
        assert app.token not in redact(f"the session is {app.token}")

"""429: Telnyx says how long to wait in ``x-ratelimit-reset`` (seconds until the window resets),
not ``Retry-After``; the body carries code 10011. Source:
https://developers.telnyx.com/development/api-fundamentals/reliability/rate-limiting (not in
spec3.json, which documents no 429 for these operations)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from telephony_telnyx.provider import rate_limit_reset

import telephony_core
from telephony_core.emulation import Fault
from telephony_core.errors import RateLimited
from telephony_core.wire import WireReply

#: the documented 429 body (the rate-limiting page above)
BODY = json.dumps({"errors": [{"code": "10011", "title": "Too many requests",
                               "detail": "You have exceeded the maximum number of allowed "
                                         "requests."}]}).encode()


def _reply(headers):
    return WireReply(429, {"Content-Type": "application/json", **headers}, BODY)


@pytest.mark.parametrize(("headers", "wait"), [
    ({"x-ratelimit-reset": "7"}, 7.0),
    ({"X-RateLimit-Reset": "0.5", "Retry-After": "9"}, 0.5),   # Telnyx's own header first
    ({"Retry-After": "3"}, 3.0),                                # a standard one, if sent
    ({"x-ratelimit-reset": "soon", "Retry-After": "2"}, 2.0),  # unreadable: the next one
    ({"x-ratelimit-reset": "-4"}, 0.0),
    ({"x-ratelimit-reset": "nan"}, None),
    ({}, None),
])
def test_the_wait_is_read_from_x_ratelimit_reset(headers, wait):
    assert rate_limit_reset(_reply(headers)) == wait


def test_decode_turns_a_429_into_rate_limited_with_the_wait(world):
    with pytest.raises(RateLimited) as caught:
        world.client.provider.decode(_reply({"x-ratelimit-reset": "7"}), None)
    assert caught.value.retry_after == 7.0 and "10011" in str(caught.value)



def _inject_429(world, wait):
    world.server.inject(Fault.http_error(429, BODY, {"x-ratelimit-reset": str(wait)}),
                        path=f"/v2/connections/{world.app.connection_id}/active_calls", times=1)


def test_a_read_waits_as_long_as_telnyx_asks(world):
    _inject_429(world, 0.6)
    began = time.monotonic()
    assert world.client.list_calls() == []
    assert time.monotonic() - began >= 0.6
    assert len([r for r in world.server.requests if r.method == "GET"]) == 2


def test_the_async_client_waits_as_long_as_telnyx_asks(world):
    _inject_429(world, 0.6)

    async def scenario():
        url = world.app.connect_url(world.server.url)
        async with telephony_core.connect_async(url, deadline=5) as client:
            began = time.monotonic()
            calls = await client.list_calls()
            return calls, time.monotonic() - began

    calls, waited = asyncio.run(scenario())
    assert calls == [] and waited >= 0.6

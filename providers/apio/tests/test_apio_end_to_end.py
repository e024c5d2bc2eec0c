"""The APIO provider against its emulator over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import pytest
import requests

import telephony_core
from telephony_core.emulation import Fault, emulated, start_emulator
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    PayloadError,
    ProviderError,
    UnsupportedOperation,
)
from telephony_core.results import MusicSource

FIXTURES = Path(__file__).parent / "fixtures"
SCOPE = {"tenant": "foo", "group": "foogroup", "user": "foouser"}
PATH = "/api/v01/p2/tenants/foo/groups/foogroup/users/foouser/services/music_on_hold/"
CANARY = "canary-apio-5e1d"


@pytest.fixture
def emu():
    with emulated("apio", token=CANARY, client_options={"timeout": 1, "deadline": 5}) as e:
        yield e


def test_set_then_get_through_the_emulator_matches_the_seed(emu):
    # the seed's reply knows the file is a WAV: it was uploaded as one
    emu.app.pbx.set_music_on_hold(SCOPE, source={"selection": "custom", "file": "My Music",
                                                 "media_type": "WAV"})
    result = emu.client.set_music_on_hold(
        SCOPE, active=True, source={"selection": "custom", "file": "My Music"},
        use_internal_source=True, internal_source={"selection": "group", "file": None})
    put = emu.server.requests[-1]
    assert (put.method, put.path) == ("PUT", PATH)
    assert put.json() == json.loads((FIXTURES / "seed_put_request.json").read_text())
    assert result.source == MusicSource("custom", "My Music", "WAV")
    assert result.raw == json.loads((FIXTURES / "seed_put_response.json").read_text())
    got = emu.client.get_music_on_hold(SCOPE)
    assert (got.active, got.use_internal_source, got.source.file) == (True, True, "My Music")
    settings = emu.app.pbx.get_music_on_hold(SCOPE)  # the shared model changed
    assert settings.source.selection == "custom" and settings.internal_source.file is None


def test_a_user_without_the_service_is_not_found_with_a_clear_message(emu):
    with pytest.raises(ProviderError) as info:
        emu.client.get_music_on_hold({**SCOPE, "user": "nosuchuser"})
    assert info.value.category == "not_found"
    assert "not assigned to that user" in str(info.value)


def test_a_wrong_token_is_an_authentication_error_and_never_echoed(caplog):
    caplog.set_level(logging.DEBUG)
    with emulated("apio", token=CANARY) as emu:
        url = emu.app.connect_url(emu.server.url).replace(CANARY, "wrong-token-77")
        with telephony_core.connect(url) as client, pytest.raises(AuthenticationError) as info:
            client.get_music_on_hold(SCOPE)
    assert "wrong-token-77" not in str(info.value) + caplog.text


def test_the_m2m_token_goes_as_a_bearer_token():
    with emulated("apio", token="tok-apio-canary") as emu:
        assert emu.client.get_music_on_hold(SCOPE).active is True
        assert emu.server.requests[-1].headers["Authorization"] == "Bearer tok-apio-canary"
        assert "tok-apio-canary" not in repr(emu.client.config)


def test_neither_token_nor_login_is_a_configuration_error_before_sending():
    with emulated("apio") as emu:
        host = emu.server.url.removeprefix("http://")
        with pytest.raises(ConfigurationError, match="M2M token") as info:
            telephony_core.connect(f"apio://{host}?scheme=http&username=admin")
        assert info.value.key == "token"
        assert emu.server.attempts == 0


def _login_client(emu, **options):
    host = emu.server.url.removeprefix("http://")
    return telephony_core.connect(f"apio://admin:{CANARY}@{host}?scheme=http", timeout=1,
                                  deadline=5, **options)


def test_a_login_gives_the_access_token_and_http_basic_is_never_sent():
    """APIO core's login (auth.md): POST /api/v01/auth/login, then Bearer access tokens. The
    provider used to send HTTP Basic, which APIO core does not accept (401 everywhere)."""
    with emulated("apio", password=CANARY) as emu, _login_client(emu) as client:
        emu.server.clear()
        assert client.get_music_on_hold(SCOPE).active is True
        client.get_music_on_hold(SCOPE)
        login, *rest = emu.server.requests
        assert (login.method, login.path) == ("POST", "/api/v01/auth/login")
        assert login.json() == {"username": "admin", "password": CANARY}
        assert [r.path for r in rest] == [PATH, PATH] and emu.app.logins == 1
        assert {r.headers["Authorization"].split(" ")[0] for r in rest} == {"Bearer"}
        assert rest[0].headers["Authorization"][7:] in emu.app.access_tokens


def test_many_threads_meeting_no_token_cause_one_login():
    with emulated("apio", password=CANARY) as emu, _login_client(emu) as client:
        threads = [threading.Thread(target=client.get_music_on_hold, args=(SCOPE,))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert emu.app.logins == 1
        assert len(emu.server.requests_to(PATH)) == 8


def test_the_access_token_is_refreshed_before_it_expires():
    """Its JWT exp says when; the refresh token renews it (GET /api/v01/auth/access_token)
    without logging in again."""
    with emulated("apio", password=CANARY, access_lifetime=2) as emu, \
            _login_client(emu) as client:
        client.get_music_on_hold(SCOPE)
        time.sleep(1.6)
        client.get_music_on_hold(SCOPE)
        assert (emu.app.logins, emu.app.refreshes) == (1, 1)
        assert [r.path for r in emu.server.requests][-2:] == ["/api/v01/auth/access_token", PATH]


def test_a_revoked_access_token_causes_one_login_and_one_resend():
    with emulated("apio", password=CANARY) as emu, _login_client(emu) as client:
        client.set_music_on_hold(SCOPE, active=False)
        emu.app.expire_tokens()
        emu.server.clear()
        assert client.set_music_on_hold(SCOPE, active=True).active is True
        assert [(r.method, r.path) for r in emu.server.requests] == [
            ("PUT", PATH), ("POST", "/api/v01/auth/login"), ("PUT", PATH)]


def test_a_refused_login_is_not_tried_again_and_the_password_never_shows(caplog):
    caplog.set_level(logging.DEBUG)
    with emulated("apio", password="the-real-one") as emu, _login_client(emu) as client:
        for _ in range(2):
            with pytest.raises(AuthenticationError) as info:
                client.get_music_on_hold(SCOPE)
        assert emu.app.logins == 1  # the second operation did not log in again
        assert CANARY not in str(info.value) + caplog.text + repr(client.config)


def test_the_prefix_follows_the_deployment():
    """A provisioning gateway reached directly serves seed 004's /api/v1 paths."""
    with emulated("apio", prefix="/api/v1") as emu:
        assert emu.client.get_music_on_hold(SCOPE).active is True
        assert emu.server.requests[-1].path == PATH.replace("/api/v01/p2", "/api/v1")


def test_a_put_is_idempotent_so_a_503_is_retried(emu):
    emu.server.inject(Fault.http_error(503), path=PATH, times=1)
    result = emu.client.set_music_on_hold(SCOPE, active=False)
    assert result.active is False
    assert [r.method for r in emu.server.requests] == ["PUT", "PUT"]


def test_a_400_is_invalid_and_not_retried(emu):
    emu.server.inject(Fault.http_error(400, body=b'{"error": "failed to update"}'), path=PATH)
    with pytest.raises(ProviderError) as info:
        emu.client.set_music_on_hold(SCOPE, active=False)
    assert info.value.category == "invalid" and len(emu.server.requests) == 1


def test_everything_else_is_undeclared(emu):
    assert not emu.client.supports("dial") and not emu.client.supports("hold")
    assert emu.client.supports("music_on_hold")
    with pytest.raises(UnsupportedOperation, match="get_music_on_hold, set_music_on_hold"):
        emu.client.dial("ext:1000", "ext:1001")


@pytest.mark.parametrize(("scope", "field"), [
    ({"tenant": "foo", "group": "foogroup"}, "'user' is required"),
    ({**SCOPE, "user": "a/b"}, "no '/' or spaces"),
    ({**SCOPE, "extra": "x"}, "extra"),
])
def test_bad_scopes_are_refused_before_sending(emu, scope, field):
    with pytest.raises(PayloadError, match=field):
        emu.client.get_music_on_hold(scope)
    with pytest.raises(PayloadError, match="'default' is not allowed"):
        emu.client.set_music_on_hold(SCOPE, source={"selection": "default"})
    with pytest.raises(PayloadError, match="media_type only together with a file"):
        emu.client.set_music_on_hold(SCOPE, source={"selection": "custom", "media_type": "WAV"})
    assert emu.server.attempts == 0


def test_the_password_never_shows_in_debug_logs_errors_or_reprs(emu, caplog):
    caplog.set_level(logging.DEBUG)
    emu.client.get_music_on_hold(SCOPE)
    emu.server.inject(Fault.reset_after_read(), times=None)
    with pytest.raises(telephony_core.TelephonyError) as info:
        emu.client.get_music_on_hold(SCOPE)
    text = caplog.text + str(info.value) + repr(info.value) + repr(emu.client) + \
        repr(emu.client.config)
    assert CANARY not in text


def test_the_emulator_serves_apio_cores_login_and_refresh():
    """auth.md's login and refresh samples (the provider does not use them yet)."""
    server = start_emulator("apio")
    try:
        login = requests.post(server.url + "/api/v01/auth/login",
                              json={"username": "admin", "password": "apio-demo"}, timeout=5)
        assert set(login.json()) == {"access_token", "refresh_token", "token"}
        fresh = requests.get(server.url + "/api/v01/auth/access_token", timeout=5, headers={
            "Authorization": f"Bearer {login.json()['refresh_token']}"})
        assert set(fresh.json()) == {"access_token"}
        moh = requests.get(server.url + "/api/v01/p2/tenants/foo/groups/foogroup/users/foouser/"
                           "services/music_on_hold/", timeout=5,
                           headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
        assert moh.status_code == 200
        wrong = requests.post(server.url + "/api/v01/auth/login",
                              json={"username": "admin", "password": "nope"}, timeout=5)
        assert wrong.status_code == 401 and set(wrong.json()) == {"error"}
    finally:
        server.stop()


def test_the_async_client_shares_one_login_among_its_tasks():
    """The session is the core's (plugin API 2): the async client runs the same declaration."""
    async def many(url: str) -> list:
        async with telephony_core.connect_async(url, timeout=1, deadline=5) as client:
            return await asyncio.gather(*[client.get_music_on_hold(SCOPE) for _ in range(6)])

    with emulated("apio", password=CANARY) as emu:
        host = emu.server.url.removeprefix("http://")
        results = asyncio.run(many(f"apio://admin:{CANARY}@{host}?scheme=http"))
        assert [r.active for r in results] == [True] * 6 and emu.app.logins == 1

"""The APIO provider against its emulator over real HTTP."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import telephony_core
from telephony_core.emulation import Fault, emulated
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


def test_http_basic_is_gone_and_a_password_alone_is_refused_before_sending():
    """APIO core accepts bearer tokens only (apio-core openapi.yaml, securitySchemes); the
    provider used to default to HTTP Basic, a 401 on every call. Logging in with a password
    waits for the core's session mechanism: until then a clear configuration error."""
    with emulated("apio") as emu:
        host = emu.server.url.removeprefix("http://")
        with pytest.raises(ConfigurationError, match="M2M token") as info:
            telephony_core.connect(f"apio://admin:apio-demo@{host}?scheme=http")
        assert info.value.key == "token" and "apio-demo" not in str(info.value)
        assert emu.server.attempts == 0


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

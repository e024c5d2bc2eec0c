"""Configuration: URL and keywords, API-key credentials, secrets never shown."""

from __future__ import annotations

import base64

import pytest
from telephony_twilio.emulator import DEMO

from telephony_core import connect
from telephony_core.emulation import start_emulator
from telephony_core.errors import ConfigurationError
from telephony_core.redaction import redact

ACCOUNT, TOKEN = DEMO["account_sid"], DEMO["auth_token"]
KEY, KEY_SECRET = DEMO["api_key"], DEMO["api_secret"]


@pytest.fixture
def server():
    with start_emulator("twilio") as srv:
        yield srv


def _hostport(server) -> dict:
    host, port = server.url.removeprefix("http://").split(":")
    return {"host": host, "port": int(port), "scheme": "http", "caller_id": "+15005550006"}


def test_url_with_account_sid_and_auth_token(server):
    url = f"twilio://{ACCOUNT}:{TOKEN}@{server.url.removeprefix('http://')}?scheme=http"
    with connect(url) as client:
        assert client.list_calls() == []
        shown = repr(client.config) + repr(client) + repr(client.provider)
    assert TOKEN not in shown


def test_keywords_with_an_api_key(server):
    with connect("twilio", api_key=KEY, api_secret=KEY_SECRET, account_sid=ACCOUNT,
                 **_hostport(server)) as client:
        assert client.list_calls() == []
        header = server.requests[-1].header("Authorization")
        assert header == "Basic " + base64.b64encode(f"{KEY}:{KEY_SECRET}".encode()).decode()
        # the encoded credentials are registered as a secret: masked in any text
        assert header.split()[1] not in redact(f"sent {header}")


def test_api_key_in_the_url_with_the_account_as_an_option(server):
    url = (f"twilio://{KEY}:{KEY_SECRET}@{server.url.removeprefix('http://')}?scheme=http"
           f"&account_sid={ACCOUNT}")
    with connect(url) as client:
        assert client.list_calls() == []


def test_api_key_without_the_account_sid_is_refused_naming_it():
    with pytest.raises(ConfigurationError, match="account_sid") as info:
        connect("twilio", api_key=KEY, api_secret=KEY_SECRET)
    assert info.value.key == "account_sid"
    assert KEY_SECRET not in str(info.value)
    assert redact(KEY_SECRET) == KEY_SECRET  # the refused client registered nothing for good


@pytest.mark.parametrize("option", ["webhook_url", "status_callback"])
def test_api_key_callbacks_need_the_webhook_auth_token(option):
    with pytest.raises(ConfigurationError, match="webhook_auth_token") as info:
        connect("twilio", api_key=KEY, api_secret=KEY_SECRET, account_sid=ACCOUNT,
                **{option: "https://app.example.com/twilio"})
    assert info.value.key == "webhook_auth_token"
    with (connect("twilio", api_key=KEY, api_secret=KEY_SECRET, account_sid=ACCOUNT) as client,
          pytest.raises(ConfigurationError, match="webhook_auth_token")):
        client.parse_event(b"CallSid=CA1&CallStatus=ringing",
                           {"X-Twilio-Signature": "x", "Telephony URL": "https://a/b"})


def test_no_credentials_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="ACCOUNT_SID:AUTH_TOKEN"):
        connect("twilio")


def test_a_wrong_account_sid_is_refused_before_any_traffic():
    with pytest.raises(ConfigurationError, match="username"):
        connect(f"twilio://ACnothex:{TOKEN}@api.twilio.com")


def test_secret_options_are_marked_write_only():
    from telephony_core import registry

    props = registry.get("twilio").full_config_schema["properties"]
    for name in ("password", "auth_token", "api_secret", "webhook_auth_token"):
        assert props[name]["writeOnly"] is True


def test_webhook_url_and_its_older_name_must_agree():
    """status_callback is the older name of webhook_url: the same URL twice is fine, two
    different URLs are refused (which one was meant cannot be guessed)."""
    same = "https://app.example.com/twilio/status"
    with connect("twilio", account_sid=ACCOUNT, auth_token=TOKEN, webhook_url=same,
                 status_callback=same) as client:
        assert client.provider.webhook_url == same
    with pytest.raises(ConfigurationError, match="older name") as info:
        connect("twilio", account_sid=ACCOUNT, auth_token=TOKEN, webhook_url=same,
                status_callback=same + "?tenant=2")
    assert info.value.key == "webhook_url"


@pytest.mark.parametrize("url, problem", [("app.example.com/status", "no scheme"),
                                          ("ftp://app.example.com/status", "scheme")])
def test_a_relative_webhook_url_is_refused_at_configuration(url, problem):
    for option in ("webhook_url", "status_callback"):
        with pytest.raises(ConfigurationError) as info:
            connect("twilio", account_sid=ACCOUNT, auth_token=TOKEN, **{option: url})
        assert info.value.key == option


def test_a_token_in_the_older_name_is_a_secret_too():
    url = "https://app.example.com/twilio/status?token=0ldNameT0ken"
    with connect("twilio", account_sid=ACCOUNT, auth_token=TOKEN, status_callback=url):
        assert "0ldNameT0ken" not in redact(f"posting to {url}")

"""The cross-provider ``webhook_url`` option: checked at configuration time, refused clearly by a
provider that cannot honour it, and its token kept secret."""

from __future__ import annotations

import pytest

from telephony_core import ConfigurationError, connect
from telephony_core.redaction import redact
from telephony_core.webhook_url import check_webhook_url, url_secrets, webhook_url_option


@pytest.mark.parametrize("url, problem", [
    ("app.example.com/events", "no scheme"),
    ("ftp://app.example.com/events", "scheme 'ftp'"),
    ("http:///events", "no host"),
    ("http://app.example.com:99999/x", "invalid port"),
    ("http://app.example.com/a b", "a space"),
    ("", "empty"),
    (None, "not a string"),
    (17, "not a string"),
])
def test_a_url_that_is_not_absolute_is_refused_naming_the_option(url, problem):
    with pytest.raises(ConfigurationError) as info:
        check_webhook_url(url, provider="acme")
    assert info.value.key == "webhook_url"
    assert problem in str(info.value)
    assert "absolute" in str(info.value) or "port" in str(info.value)


def test_an_absolute_url_is_returned_unchanged():
    url = "https://app.example.com:8443/telephony/events?token=s3cret-token"
    assert check_webhook_url(url, provider="acme") == url


def test_the_query_and_password_of_the_url_are_secrets():
    found = url_secrets("https://hook:pa55word@app.example.com/e?token=s3cret-token&x=1")
    assert "pa55word" in found and "s3cret-token" in found
    assert "token=s3cret-token&x=1" in found
    assert url_secrets("https://app.example.com/e") == []
    assert url_secrets("http://[broken/") == []


def test_the_option_schema_refuses_a_relative_url():
    import jsonschema

    schema = webhook_url_option("posted to by the test")
    jsonschema.validate("https://a.example/x?y=1", schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("/events", schema)


def test_a_provider_without_the_option_refuses_it_with_a_reason():
    """The example provider cannot say where its events go: configuring it is an error that
    says why and where to look, not an option silently dropped."""
    with pytest.raises(ConfigurationError) as info:
        connect("example://demo:pw@127.0.0.1:9?scheme=http",
                webhook_url="https://app.example.com/events")
    assert info.value.key == "webhook_url"
    assert "takes no 'webhook_url'" in str(info.value)
    assert "provider page" in str(info.value)


def test_redaction_masks_a_token_once_a_provider_holds_the_url():
    from telephony_core.config import resolve
    from telephony_core.provider import Provider, ProviderSpec

    spec = ProviderSpec(name="hooked", title="Hooked", package="telephony_core", operations={},
                        config_schema={"properties": {"webhook_url": webhook_url_option("x")}},
                        implementation=Provider, url_userinfo=None, http=False)
    provider = Provider(spec, resolve(spec, {
        "webhook_url": "https://app.example.com/e?token=0penSesame99"}))
    try:
        assert "0penSesame99" not in redact("posting to https://app.example.com/e?token=0penSesame99")
    finally:
        provider.forget_secrets()


def test_neither_a_config_repr_nor_a_refusal_shows_the_url_token():
    with connect("sim://", webhook_url="http://127.0.0.1:9/x?token=0penSesame42") as client:
        assert "0penSesame42" not in repr(client.provider.config)
        assert "0penSesame42" not in repr(client.config)
    for bad in ("http://h/a b?token=0penSesame43",
                "http://h/" + "x" * 3000 + "?token=0penSesame43"):
        with pytest.raises(ConfigurationError) as info:
            connect("sim://", webhook_url=bad)
        assert "0penSesame43" not in str(info.value)
        assert info.value.key == "webhook_url"

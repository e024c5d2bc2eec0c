"""The configuration: the URL form, required options, and the API key kept out of sight."""

from __future__ import annotations

import pytest

from telephony_core import connect
from telephony_core.errors import ConfigurationError


def test_the_url_form_reaches_api_telnyx_com_v2_with_a_bearer_key():
    client = connect("telnyx://KEY0123ABC@api.telnyx.com?connection_id=1494404757140276705")
    try:
        provider = client.provider
        assert provider.settings.base_url == "https://api.telnyx.com/v2"
        assert provider.connection_id == "1494404757140276705"
        assert provider.authorize(_request()).headers == {
            "Authorization": "Bearer KEY0123ABC"}
        for text in (repr(client), repr(client.config), str(client.config)):
            assert "KEY0123ABC" not in text
    finally:
        client.close()


def _request():
    from telephony_core.wire import WireRequest

    return WireRequest("GET", "/calls")


@pytest.mark.parametrize(("options", "key"), [
    ({}, "connection_id"),
    ({"connection_id": "a/b"}, "connection_id"),
    ({"connection_id": "1", "caller_id": "13125550100"}, "caller_id"),
    ({"connection_id": "1", "signature_tolerance": 0}, "signature_tolerance"),
    ({"connection_id": "1", "public_key": "short"}, "public_key"),
])
def test_bad_options_are_configuration_errors_naming_the_option(options, key):
    with pytest.raises(ConfigurationError) as caught:
        connect("telnyx://KEY0123ABC@api.telnyx.com", **options)
    assert key in str(caught.value) and "KEY0123ABC" not in str(caught.value)


def test_a_url_without_the_key_is_refused():
    with pytest.raises(ConfigurationError, match="api_key"):
        connect("telnyx://api.telnyx.com?connection_id=1")

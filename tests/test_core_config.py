"""Configuration: URLs, keywords, TOML profiles, the environment, and the messages for mistakes."""

from __future__ import annotations

import pytest

import telephony_core
from telephony_core.config import parse_url
from telephony_core.errors import ConfigurationError, ProviderNotFound
from telephony_core.redaction import Secret

from_url = telephony_core.connect


def test_url_fills_userinfo_host_port_and_typed_query_options(loopback_spec):
    from telephony_core.errors import InsecureTransportWarning

    url = "loopback://api:pw%2Fx@pbx.example:8088?timeout=2.5&retries=4&insecure=yes"
    with pytest.warns(InsecureTransportWarning), from_url(url) as c:
        cfg = c.config
    assert (cfg["username"], cfg.secret("password"), cfg["host"], cfg["port"]) == \
        ("api", "pw/x", "pbx.example", 8088)
    assert (cfg["timeout"], cfg["retries"], cfg["insecure"]) == (2.5, 4, True)
    assert isinstance(cfg["password"], Secret)
    assert cfg["scheme"] == "https" and cfg["deadline"] == 30  # defaults filled in


def test_keywords_and_url_combine_keywords_win(loopback_spec):
    with from_url("loopback://api:pw@h?timeout=2", timeout=7) as c:
        assert c.config["timeout"] == 7
    with from_url("loopback", host="h", username="api", password="pw") as c:
        assert c.config["host"] == "h"


@pytest.mark.parametrize(("url", "kwargs", "words"), [
    ("loopback://api:pw@h?timeout=0", {}, ["'timeout'", "greater than 0"]),
    ("loopback://api:pw@h?timeout=abc", {}, ["'timeout'", "number"]),
    ("loopback://api:pw@h?colour=red", {}, ["unknown option", "'colour'", "options are"]),
    ("loopback://h", {}, ["'username' is required", "'password' is required"]),
    ("loopback://api:pw@h?scheme=ftp", {}, ["'scheme'", "'https', 'http'"]),
    ("loopback://api:pw@h", {"retries": -1}, ["'retries'", "at least 0"]),
    ("loopback://api:pw@h?ca=/no/such/file.pem", {}, ["'ca'", "not a readable file"]),
    ("loopback://api:pw@h:99999", {}, ["not a valid URL", "Port out of range"]),
    ("not a url", {}, ["neither a provider name nor a provider URL", "NAME://"]),
    ("loopback://api:pw@h?timeout=1&timeout=2", {}, ["'timeout' is given twice"]),
])
def test_bad_configuration_is_named_and_explained(loopback_spec, url, kwargs, words):
    with pytest.raises(ConfigurationError) as info:
        from_url(url, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_a_secret_is_never_echoed_even_when_it_is_the_wrong_type(loopback_spec):
    with pytest.raises(ConfigurationError) as info:
        from_url("loopback", host="h", username="api", password=123456789)
    assert "123456789" not in str(info.value) and "'password'" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        from_url("loopback://api:hunter22@h:99999")
    assert "hunter22" not in str(info.value)


def test_unknown_provider_is_provider_not_found(loopback_spec):
    with pytest.raises(ProviderNotFound, match="loopback"):
        from_url("yeastr://api:pw@h")


def test_toml_profiles(tmp_path, loopback_spec, monkeypatch):
    config = tmp_path / "telephony.toml"
    config.write_text(
        '[profiles.office]\nurl = "loopback://api:pw@pbx.office:8088"\ntimeout = 3\n\n'
        '[profiles.kw]\nprovider = "loopback"\nhost = "h2"\nusername = "u"\npassword = "p"\n'
        '[profiles.empty]\ntimeout = 1\n')
    with from_url(profile="office", config=str(config)) as c:
        assert (c.config["host"], c.config["port"], c.config["timeout"]) == ("pbx.office", 8088, 3)
    with from_url(profile="kw", config=str(config), timeout=9) as c:
        assert (c.config["host"], c.config["timeout"]) == ("h2", 9)
    with pytest.raises(ConfigurationError, match=r"no profile 'nope'.*office"):
        from_url(profile="nope", config=str(config))
    with pytest.raises(ConfigurationError, match="neither 'url' nor 'provider'"):
        from_url(profile="empty", config=str(config))
    with pytest.raises(ConfigurationError, match="does not exist"):
        from_url(profile="office", config=str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[profiles.x\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        from_url(profile="x", config=str(bad))
    monkeypatch.setenv("TELEPHONY_CONFIG", str(config))
    monkeypatch.setenv("TELEPHONY_PROFILE", "kw")
    with from_url() as c:
        assert c.config["host"] == "h2"


def test_environment_url_is_used_when_nothing_is_given(loopback_spec, monkeypatch):
    monkeypatch.setenv("TELEPHONY_URL", "loopback://api:pw@from-env")
    with from_url() as c:
        assert c.name == "loopback" and c.config["host"] == "from-env"


def test_parse_url_keeps_userinfo_generic():
    name, options = parse_url("telecmi://2222226:s%40cret@rest.telecmi.com?region=india")
    assert name == "telecmi"
    assert options == {"_user": "2222226", "_password": "s@cret", "host": "rest.telecmi.com",
                       "region": "india"}


def test_config_repr_hides_secrets(loopback_spec):
    with from_url("loopback://api:hunter22@h") as c:
        assert "hunter22" not in repr(c.config) and "hunter22" not in repr(c)
        assert "Secret('***')" in repr(c.config)


def test_nothing_configured_is_an_error_that_says_how(monkeypatch):
    monkeypatch.delenv("TELEPHONY_URL", raising=False)
    monkeypatch.delenv("TELEPHONY_PROFILE", raising=False)
    with pytest.raises(ConfigurationError) as info:
        telephony_core.connect()
    assert "sim://" in str(info.value) and "TELEPHONY_URL" in str(info.value)


@pytest.mark.parametrize("variable", ["TELEPHONY_URL", "TELEPHONY_PROFILE"])
def test_an_empty_environment_variable_is_an_error(monkeypatch, variable):
    monkeypatch.delenv("TELEPHONY_URL", raising=False)
    monkeypatch.delenv("TELEPHONY_PROFILE", raising=False)
    monkeypatch.setenv(variable, " ")
    with pytest.raises(ConfigurationError) as info:
        telephony_core.connect()
    assert variable in str(info.value) and "empty" in str(info.value)

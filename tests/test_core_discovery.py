"""Discovery through real entry points of distributions installed on sys.path by the tests."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import telephony_core
from telephony_core import registry
from telephony_core.errors import ProviderLoadError, ProviderNotFound

GOOD_SPEC = """
    import sys
    from telephony_core.provider import ProviderSpec, declared
    SPEC = ProviderSpec(name="tplgood", title="Test plugin", package="telephony_core",
                        implementation="tpl_good_impl:Impl", operations=declared("hold", "unhold"),
                        http=False, url_userinfo=None)
"""
GOOD_IMPL = """
    from telephony_core.provider import Provider
    from telephony_core.results import Ack
    class Impl(Provider):
        def invoke(self, op, payload):
            return Ack(self.name, raw={"op": op.name, "payload": payload})
"""


def install_good(site_dir, write_distribution):
    write_distribution(site_dir, "telephony-tplgood", "1.2.3", {"tplgood": "tpl_good_spec:SPEC"},
                       {"tpl_good_spec": GOOD_SPEC, "tpl_good_impl": GOOD_IMPL})


def test_an_installed_plugin_is_found_and_used_through_its_entry_point(site_dir,
                                                                       write_distribution):
    install_good(site_dir, write_distribution)
    assert "tplgood" in registry.names()
    registry.get("tplgood")
    assert "tpl_good_impl" not in sys.modules  # loading the spec imports no implementation
    with telephony_core.connect("tplgood://") as client:
        assert "tpl_good_impl" in sys.modules  # the implementation came with the client
        ack = client.hold("ext:1000")
    assert ack.raw == {"op": "hold", "payload": {"call": "ext:1000"}}
    entry = next(e for e in registry.entries() if e.name == "tplgood")
    assert (entry.distribution, entry.version, entry.error) == ("telephony-tplgood", "1.2.3", None)


def test_only_the_provider_asked_for_is_imported(site_dir, write_distribution):
    install_good(site_dir, write_distribution)
    write_distribution(site_dir, "telephony-tplother", "0.1", {"tplother": "tpl_other_spec:SPEC"},
                       {"tpl_other_spec": "raise RuntimeError('must not be imported')"})
    registry.get("tplgood")
    assert "tpl_other_spec" not in sys.modules


def test_unknown_provider_lists_what_is_installed(site_dir, write_distribution):
    install_good(site_dir, write_distribution)
    with pytest.raises(ProviderNotFound) as info:
        telephony_core.connect("nosuch://host")
    assert "nosuch" in str(info.value) and "tplgood" in info.value.installed
    assert "tplgood" in str(info.value)


def test_a_plugin_that_fails_to_import_is_reported_with_its_error(site_dir, write_distribution):
    write_distribution(site_dir, "telephony-tplbroken", "0.9", {"tplbroken": "tpl_broken:SPEC"},
                       {"tpl_broken": "import a_module_that_does_not_exist_42"})
    with pytest.raises(ProviderLoadError) as info:
        registry.get("tplbroken")
    assert "a_module_that_does_not_exist_42" in str(info.value)
    assert "telephony-tplbroken" in str(info.value)
    entry = next(e for e in registry.entries() if e.name == "tplbroken")
    assert entry.spec is None and "a_module_that_does_not_exist_42" in entry.error


def test_two_distributions_claiming_one_name_is_an_error_naming_both(site_dir, write_distribution):
    install_good(site_dir, write_distribution)
    write_distribution(site_dir, "telephony-impostor", "6.6", {"tplgood": "tpl_good_spec:SPEC"}, {})
    with pytest.raises(ProviderLoadError) as info:
        registry.get("tplgood")
    assert "telephony-tplgood" in str(info.value) and "telephony-impostor" in str(info.value)


def test_an_entry_point_that_is_not_a_spec_is_refused(site_dir, write_distribution):
    write_distribution(site_dir, "telephony-tplodd", "1", {"tplodd": "tpl_odd:SPEC"},
                       {"tpl_odd": "SPEC = object()"})
    with pytest.raises(ProviderLoadError, match="not a ProviderSpec"):
        registry.get("tplodd")


def test_strict_loading_refuses_a_schema_wider_than_the_canonical_one(site_dir, write_distribution,
                                                                      monkeypatch):
    wide = GOOD_SPEC.replace('operations=declared("hold", "unhold")',
                             'operations={"hold": "tpl_wide.json"}').replace(
        'package="telephony_core"', 'package="tpl_good_spec"')
    write_distribution(site_dir, "telephony-tplgood", "1", {"tplgood": "tpl_good_spec:SPEC"},
                       {"tpl_good_spec": wide})
    pkg = site_dir / "tpl_good_spec"
    pkg.mkdir()
    (site_dir / "tpl_good_spec.py").rename(pkg / "__init__.py")
    (pkg / "tpl_wide.json").write_text(json.dumps({
        "type": "object", "properties": {"call": {"type": "string"}, "colour": {"type": "string"}},
        "required": []}))
    monkeypatch.setattr(registry, "strict", True)
    with pytest.raises(ProviderLoadError) as info:
        registry.get("tplgood")
    message = str(info.value)
    assert "colour" in message and "call" in message and "additionalProperties" in message


def test_register_in_process_and_refuse_silent_replacement(loopback_spec):
    assert registry.get("loopback") is loopback_spec
    with pytest.raises(telephony_core.ConfigurationError, match="already registered"):
        telephony_core.register(loopback_spec)


def test_importing_the_package_loads_no_provider():
    code = ("import sys, telephony_core; "
            "print(sorted(m for m in sys.modules if m.startswith(('telephony_', 'tpl_')) "
            "and not m.startswith('telephony_core')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import sys, telephony_core; print('telephony_core.sim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

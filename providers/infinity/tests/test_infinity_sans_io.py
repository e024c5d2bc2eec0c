"""The provider is sans-IO (plugin API 2): it builds requests and reads replies, and the
client's driver sends them, so an asyncio application never loads requests through it."""

from __future__ import annotations

from pathlib import Path

from telephony_infinity.spec import SPEC

from telephony_core.testing.sans_io import http_imports, modules_loaded_by

PACKAGE = Path(__file__).resolve().parents[1] / "telephony_infinity"


def test_no_module_of_the_package_imports_an_http_library():
    assert http_imports(PACKAGE) == []


def test_importing_the_provider_loads_no_http_library():
    assert modules_loaded_by("telephony_infinity.provider") == []


def test_the_spec_declares_plugin_api_2():
    assert SPEC.plugin_api == 2

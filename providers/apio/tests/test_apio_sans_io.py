"""The provider is sans-IO (plugin API 2, issue 19): it builds requests and reads replies, and
the client's driver sends them (requests for Client, httpx for AsyncClient). No module of the
package imports an HTTP library, nor the core's requests transport, so an asyncio application
never loads requests through it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from telephony_apio.spec import SPEC

PACKAGE = Path(__file__).resolve().parents[1] / "telephony_apio"
#: an import of an HTTP library, or of the core's drivers (telephony_core.http imports requests)
HTTP_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(?:requests|httpx|urllib3|aiohttp)\b"
    r"|^\s*(?:import|from)\s+telephony_core\.(?:http|async_http)\b"
    r"|^\s*from\s+telephony_core\s+import\s+[^#\n]*\b(?:http|async_http)\b", re.M)


def test_no_module_of_the_package_imports_an_http_library():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 4  # the package was found (provider, spec, translate, emulator...)
    found = [f"{path.name}: {match.group(0).strip()}" for path in modules
             for match in HTTP_IMPORT.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_pattern_catches_what_it_is_for():
    for line in ("import requests", "from requests.adapters import HTTPAdapter", "import httpx",
                 "from telephony_core.http import HttpProvider",
                 "from telephony_core import http", "    import requests  # lazily"):
        assert HTTP_IMPORT.search(line), line
    for line in ("from telephony_core.wire import HttpProvider", "import telephony_core.events",
                 "# requests are yielded", "from .translate import requests_for"):
        assert not HTTP_IMPORT.search(line), line


def test_importing_the_provider_loads_no_http_library():
    code = ("import sys, telephony_apio.provider; "
            "print(sorted(m for m in ('requests', 'httpx', 'urllib3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_the_spec_declares_plugin_api_2():
    assert SPEC.plugin_api == 2

"""``import telephony_core`` loads neither jsonschema, requests, httpx nor asyncio: they load
when first needed (validation, the first HTTP request, the async client). Applications that
only list providers, and the ``telephony`` command's help, pay for none of them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("jsonschema", "requests", "urllib3", "httpx", "asyncio", "stevedore")


def loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return set(out.split())


def test_importing_the_package_loads_no_heavy_dependency():
    assert loaded_after("import telephony_core") == set()


def test_a_simulator_call_loads_no_http_library():
    used = loaded_after("import telephony_core\n"
                        "telephony_core.connect('sim://').dial('ext:1000', 'ext:1001')")
    assert not used & {"requests", "urllib3", "httpx", "asyncio"}


def test_the_async_client_loads_when_first_named():
    assert "asyncio" in loaded_after("import telephony_core\ntelephony_core.AsyncClient")

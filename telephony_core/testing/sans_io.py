"""Checks that a provider package is sans-IO (plugin API 2): no module imports an HTTP library
or the core's drivers, and importing its provider loads none. Call them from a provider's own
tests, so an asyncio application never loads requests through a plugin."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

__all__ = ["HTTP_IMPORT", "http_imports", "modules_loaded_by"]

#: an import of an HTTP library, or of the core's drivers (telephony_core.http imports requests)
HTTP_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(?:requests|httpx|urllib3|aiohttp)\b"
    r"|^\s*(?:import|from)\s+telephony_core\.(?:http|async_http)\b"
    r"|^\s*from\s+telephony_core\s+import\s+[^#\n]*\b(?:http|async_http)\b", re.M)


def http_imports(package: Path, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """``module: line`` for every HTTP import in ``package`` (modules named in ``exclude``,
    such as an emulator, which is a server, are skipped)."""
    modules = [p for p in sorted(Path(package).rglob("*.py")) if p.name not in exclude]
    if not modules:
        raise FileNotFoundError(f"no Python modules under {package}")
    return [f"{path.name}: {match.group(0).strip()}" for path in modules
            for match in HTTP_IMPORT.finditer(path.read_text(encoding="utf-8"))]


def modules_loaded_by(module: str, names: tuple[str, ...] = ("requests", "httpx",
                                                              "urllib3")) -> list[str]:
    """Which of ``names`` a fresh interpreter has loaded after ``import module``."""
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {names!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return out.split()

"""The kit's sans-IO checks catch what they are for, and only that."""

from __future__ import annotations

from telephony_core.testing.sans_io import HTTP_IMPORT, http_imports


def test_the_pattern_catches_http_imports_and_nothing_else():
    for line in ("import requests", "from requests.adapters import HTTPAdapter", "import httpx",
                 "from telephony_core.http import HttpProvider",
                 "from telephony_core import http", "    import requests  # lazily"):
        assert HTTP_IMPORT.search(line), line
    for line in ("from telephony_core.wire import HttpProvider", "import telephony_core.events",
                 "# requests are yielded", "from .translate import requests_for"):
        assert not HTTP_IMPORT.search(line), line


def test_a_package_importing_requests_is_named(tmp_path):
    (tmp_path / "provider.py").write_text("import json\nimport requests\n")
    (tmp_path / "emulator.py").write_text("import requests\n")
    assert http_imports(tmp_path, exclude=("emulator.py",)) == ["provider.py: import requests"]

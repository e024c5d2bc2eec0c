"""What a user installing from PyPI gets: wheels with the license text and expression, project
URLs, classifiers, py.typed, and providers pinned to a core range that includes this core.

Builds the core's wheel and one provider's (pip wheel, as a release would) and reads them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = sorted(p.parent.name for p in ROOT.glob("providers/*/setup.cfg"))


def _wheel(source: Path, out: Path) -> zipfile.ZipFile:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    [path] = out.glob("*.whl")
    return zipfile.ZipFile(path)


def _metadata(wheel: zipfile.ZipFile):
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(wheel.read(name).decode())


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    return _wheel(ROOT, tmp_path_factory.mktemp("core"))


def _check_common(wheel: zipfile.ZipFile, package: str):
    meta = _metadata(wheel)
    assert meta["License-Expression"] == "Apache-2.0"
    [license_path] = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(license_path) == (ROOT / "LICENSE").read_bytes()
    assert meta["Requires-Python"] == ">=3.11"
    classifiers = set(meta.get_all("Classifier"))
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12",
            "Programming Language :: Python :: 3.13", "Typing :: Typed"} <= classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Documentation", "Source", "Issues"} <= set(urls)
    assert f"{package}/py.typed" in wheel.namelist()
    return meta


def test_the_core_wheel_carries_license_urls_classifiers_and_py_typed(core):
    meta = _check_common(core, "telephony_core")
    assert meta["Name"] == "telephony-core" and meta["Version"] == "0.2.0"


@pytest.mark.parametrize("provider", ["yeastar"])
def test_a_provider_wheel_pins_a_core_range_that_includes_this_core(provider, core,
                                                                   tmp_path):
    wheel = _wheel(ROOT / "providers" / provider, tmp_path)
    meta = _check_common(wheel, f"telephony_{provider}")
    [pin] = [Requirement(r) for r in meta.get_all("Requires-Dist")
             if r.startswith("telephony-core")]
    assert _metadata(core)["Version"] in pin.specifier
    assert "0.3.0" not in pin.specifier and "0.1.0" not in pin.specifier


def test_every_provider_declares_the_same_core_range_and_ships_the_license():
    for name in PROVIDERS:
        cfg = (ROOT / "providers" / name / "setup.cfg").read_text()
        assert "telephony-core>=0.2,<0.3" in cfg, name
        assert "license_expression = Apache-2.0" in cfg, name
        assert (ROOT / "providers" / name / "LICENSE").read_bytes() == \
            (ROOT / "LICENSE").read_bytes(), name

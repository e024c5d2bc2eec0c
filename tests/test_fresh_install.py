"""What a user gets from ``pip install telephony-core telephony-yeastar`` in a fresh environment.

The core and the Yeastar provider are built as wheels (as a release would build them) and
installed, with their dependencies and no extra, into a new virtual environment that shares
nothing with the development one. There, the Python snippets of every page that needs no extra
run, and every CLI verb behaves as the README documents it, including the one
line naming the extra a verb needs when it is missing (``emulate``, ``conformance``).

The Yeastar emulator the snippets and ``invoke`` talk to is served by this (development)
process, since serving emulators is what the ``emulation`` extra adds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .test_docs_snippets import REAL_URL, snippets

ROOT = Path(__file__).resolve().parent.parent
#: the pages whose snippets need no extra: all of them but the ones that serve emulators
#: (emulate.md) or read the async client over HTTP
PAGES = ["README.md", "docs/installation.md", "docs/quickstart.md", "docs/webhooks.md",
         "docs/troubleshooting.md", "docs/concepts.md", "docs/configuration.md",
         "docs/providers/sim.md"]


def _run(args: list[str], *, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEPHONY_", "PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                          **kwargs)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A new virtual environment holding the two wheels and their dependencies only."""
    wheels = tmp_path_factory.mktemp("wheels")
    for source in (ROOT, ROOT / "providers" / "yeastar"):
        done = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                     str(source)])
        assert done.returncode == 0, done.stderr
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                 "--disable-pip-version-check", *map(str, sorted(wheels.glob("*.whl")))],
                timeout=600)
    assert done.returncode == 0, done.stderr
    return env_dir


def test_the_fresh_environment_has_no_extra_and_no_checkout(fresh):
    done = _run([str(fresh / "bin" / "python"), "-c",
                 "import importlib.util as u, telephony_core as t, telephony_yeastar as y;"
                 "print(t.__file__); print(y.__file__);"
                 "print([m for m in ('werkzeug', 'httpx', 'hypothesis', 'temporalio')"
                 " if u.find_spec(m)])"], cwd=fresh)
    assert done.returncode == 0, done.stderr
    core_file, provider_file, extras = done.stdout.splitlines()
    assert str(fresh) in core_file and str(fresh) in provider_file  # not the checkout
    assert extras == "[]"


@pytest.mark.parametrize("page", PAGES)
def test_the_snippets_of_a_page_run_from_the_wheels(fresh, yeastar_url, page, tmp_path):
    code = "\n".join(REAL_URL.sub(yeastar_url, block) for block in snippets(page))
    done = _run([str(fresh / "bin" / "python"), "-c", code], cwd=tmp_path, timeout=60)
    assert done.returncode == 0, f"a snippet of {page} failed:\n{code}\n{done.stderr}"


def test_the_cli_verbs_work_as_the_readme_says(fresh, yeastar_url, tmp_path):
    telephony = str(fresh / "bin" / "telephony")

    helped = _run([telephony, "--help"])
    assert helped.returncode == 0
    for verb in ("providers", "schema", "invoke", "emulate", "conformance", "campaign"):
        assert verb in helped.stdout
    same = _run([str(fresh / "bin" / "python"), "-m", "telephony_core", "--help"])
    assert same.stdout == helped.stdout

    listed = _run([telephony, "providers", "--json"])
    assert listed.returncode == 0, listed.stderr
    names = {p["name"] for p in json.loads(listed.stdout)}
    assert names == {"sim", "yeastar"}

    schema = _run([telephony, "schema", "yeastar", "dial"])
    assert schema.returncode == 0 and "caller" in json.loads(schema.stdout)["properties"]

    dialled = _run([telephony, "invoke", "sim://", "dial",
                    '{"caller": "ext:1000", "callee": "ext:1001"}'])
    assert dialled.returncode == 0, dialled.stderr
    assert "CallRef" in dialled.stdout or "call_id" in dialled.stdout

    (tmp_path / "query.json").write_text("{}")
    listed_calls = _run_with_url(telephony, yeastar_url, tmp_path)
    assert listed_calls.returncode == 0, listed_calls.stderr
    assert "SECRET" not in listed_calls.stdout + listed_calls.stderr


def _run_with_url(telephony: str, url: str, cwd: Path) -> subprocess.CompletedProcess:
    """``telephony invoke list_calls @query.json`` with the URL in $TELEPHONY_URL, as the
    README suggests for keeping secrets off the command line."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEPHONY_", "PYTHON", "VIRTUAL_ENV"))}
    env["TELEPHONY_URL"] = url
    return subprocess.run([telephony, "invoke", "list_calls", "@query.json"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, extra", [(["emulate", "yeastar"], "emulation"),
                                         (["conformance", "yeastar"], "testing"),
                                         (["campaign", "status", "c-1"], "campaigns")])
def test_a_verb_without_its_extra_says_which_in_one_line(fresh, args, extra):
    done = _run([str(fresh / "bin" / "telephony"), *args])
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"telephony-core[{extra}]" in lines[0]
    assert "Traceback" not in done.stderr

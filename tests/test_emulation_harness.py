"""``emulated(...)`` and ``telephony emulate`` with a tiny provider and emulator defined here.

The provider is a real HttpProvider registered in-process; its emulator is an EmulatorApp. A
client call therefore crosses real sockets: facade -> transport -> EmulatorServer -> app.
This module is also loaded by the ``telephony emulate`` subprocess test (see ``_SCRIPT``).
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

import telephony_core
from telephony_core.emulation import EmulatorApp, Fault, emulated, route
from telephony_core.emulation.cli import emulate_command, mask_url
from telephony_core.errors import AuthenticationError, OutcomeUnknown
from telephony_core.http import HttpProvider, Route, WireRequest
from telephony_core.provider import ProviderSpec
from telephony_core.results import Ack, CallRef

NAME = "emutest"
DEMO_PASSWORD = "emu-demo-canary-7f3a"  # must never show up in CLI output


class EmuTestProvider(HttpProvider):
    """Dial and hang up through a JSON API with HTTP Basic authentication."""

    def authorize(self, request: WireRequest) -> WireRequest:
        user = self.config["username"]
        password = self.config["password"].reveal()
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return WireRequest(request.method, request.path, request.params, request.json,
                           request.data, {**(request.headers or {}),
                                          "Authorization": f"Basic {token}"})

    routes = {
        "dial": Route(
            lambda provider, p: WireRequest("POST", "/calls", json={"from": p["caller"],
                                                                    "to": p["callee"]}),
            lambda provider, data, p: CallRef(provider.name, data["id"], raw=data)),
        "hangup": Route(
            lambda provider, p: WireRequest("DELETE", "/calls/" + p["call"].split(":", 1)[1]),
            lambda provider, data, p: Ack(provider.name, raw=data)),
    }


class EmuTestEmulator(EmulatorApp):
    """Emulator of the ``emutest`` provider.

    Demo credentials: user ``demo``, password ``emu-demo-canary-7f3a`` (or the ``password``
    given to the factory).
    """

    def __init__(self, pbx: Any = None, password: str = DEMO_PASSWORD):
        super().__init__(pbx)
        self.password = password
        self.calls: dict[str, dict[str, str]] = {}

    def _authorized(self, request) -> bool:
        auth = request.authorization
        return bool(auth and auth.username == "demo" and auth.password == self.password)

    @route("POST", "/calls")
    def dial(self, request):
        if not self._authorized(request):
            return {"error": "bad credentials"}, 401
        body = self.read_json(request)
        with self.lock:
            call_id = f"c{len(self.calls) + 1}"
            self.calls[call_id] = body
        return {"id": call_id}

    @route("DELETE", "/calls/{call_id}")
    def hangup(self, request, call_id):
        if not self._authorized(request):
            return {"error": "bad credentials"}, 401
        with self.lock:
            found = self.calls.pop(call_id, None)
        return ({"ok": True}, 200) if found else ({"error": "no such call"}, 404)

    def connect_url(self, base_url: str) -> str:
        return f"{NAME}://demo:{self.password}@{base_url.split('://', 1)[1]}?scheme=http"


SPEC = ProviderSpec(
    name=NAME, title="Emulation test provider", package="telephony_core",
    implementation=EmuTestProvider, operations={"dial": None, "hangup": None},
    config_schema={"type": "object", "properties": {
        "host": {"type": "string"}, "port": {"type": "integer"},
        "username": {"type": "string"},
        "password": {"type": "string", "writeOnly": True}},
        "required": ["host", "username", "password"]},
    emulator=EmuTestEmulator)


@pytest.fixture(autouse=True)
def registered():
    telephony_core.register(SPEC, replace=True)
    yield
    telephony_core.unregister(NAME)


# -- emulated(...) ---------------------------------------------------------------------------


def test_client_call_goes_through_the_emulator():
    with emulated(NAME) as emu:
        ref = emu.client.dial(caller="ext:1002", callee="tel:41000")
        assert ref.call_id == "c1"
        assert emu.app.calls == {"c1": {"from": "ext:1002", "to": "tel:41000"}}
        (rec,) = emu.server.requests
        assert (rec.method, rec.path) == ("POST", "/calls")
        assert rec.header("Authorization").startswith("Basic ")
        assert emu.client.hangup(call="call:c1").provider == NAME
        assert emu.app.calls == {}
        assert emu.url.startswith(f"{NAME}://demo:")
        server, client = emu.server, emu.client
    assert not server.running
    assert "closed" in repr(client)


def test_pbx_and_factory_options_reach_the_emulator():
    model = object()
    with emulated(NAME, pbx=model, password="chosen-pw") as emu:
        assert emu.app.pbx is model
        assert emu.app.password == "chosen-pw"
        assert emu.client.dial(caller="ext:1", callee="ext:2").call_id == "c1"


def test_wrong_credentials_are_refused_by_the_emulator():
    with emulated(NAME) as emu:
        other = telephony_core.connect(emu.url.replace(DEMO_PASSWORD, "wrong"))
        try:
            with pytest.raises(AuthenticationError):
                other.dial(caller="ext:1", callee="ext:2")
        finally:
            other.close()
        assert emu.app.calls == {}


def test_a_dial_whose_reply_is_lost_reaches_the_emulator_once():
    with emulated(NAME, client_options={"timeout": 0.1, "retries": 2}) as emu:
        emu.server.inject(Fault.delay(0.3), path="/calls", times=1)
        with pytest.raises(OutcomeUnknown):
            emu.client.dial(caller="ext:1002", callee="tel:41000")
        assert len(emu.server.requests_to("/calls")) == 1
        assert emu.server.attempts == 1
        assert list(emu.app.calls) == ["c1"]


def test_an_idempotent_hangup_is_retried_after_a_reset():
    with emulated(NAME, client_options={"retries": 2}) as emu:
        emu.client.dial(caller="ext:1002", callee="tel:41000")
        emu.server.inject(Fault.reset_before_read(), path="/calls/c1", times=1)
        emu.client.hangup(call="call:c1")
        assert emu.server.attempts == 3  # dial, the reset hangup, the retried hangup
        assert [r.path for r in emu.server.requests] == ["/calls", "/calls/c1"]


def test_emulated_stops_the_server_when_connect_fails():
    class NoUrl(EmuTestEmulator):
        def connect_url(self, base_url: str) -> str:
            raise NotImplementedError("no url")

    import attrs

    telephony_core.register(attrs.evolve(SPEC, emulator=NoUrl), replace=True)
    with pytest.raises(NotImplementedError), emulated(NAME):
        pass


# -- the kit stays off the import path -----------------------------------------------------------


def test_import_telephony_core_does_not_import_the_kit():
    code = ("import sys, telephony_core; "
            "print(sorted(m for m in sys.modules if 'emulation' in m or 'werkzeug' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    assert out.strip() == "[]"


# -- telephony emulate ---------------------------------------------------------------------------


def test_mask_url_hides_the_password():
    assert mask_url("yeastar://api:s3cr%40t@127.0.0.1:8088?scheme=http") == \
        "yeastar://api:***@127.0.0.1:8088?scheme=http"
    assert mask_url("sim://") == "sim://"


def test_cli_refuses_a_public_host_without_public():
    result = CliRunner().invoke(emulate_command, [NAME, "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "not a loopback address" in result.output and "--public" in result.output


def test_cli_unknown_provider_is_a_one_line_error():
    result = CliRunner().invoke(emulate_command, ["no-such-provider"])
    assert result.exit_code == 1
    assert result.output.startswith("error: ProviderNotFound")


_SCRIPT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("emulation_harness_fixture", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
import telephony_core
telephony_core.register(module.SPEC)
from telephony_core.cli import main
main(["emulate", {name!r}, *sys.argv[1:]])
"""


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    script = tmp_path / "serve.py"
    script.write_text(textwrap.dedent(_SCRIPT.format(path=str(Path(__file__).resolve()),
                                                     name=NAME)))
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _read_until_ready(proc: subprocess.Popen) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return lines
    proc.kill()
    raise AssertionError(f"the emulator did not start: {lines} {proc.stderr.read()}")


def _stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(2)  # SIGINT, as Ctrl-C
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


@pytest.mark.parametrize("password", [None, "user-chosen-pw-91c2"])
def test_cli_serves_until_ctrl_c_with_a_copyable_demo_url_and_the_users_password_masked(
        tmp_path, password):
    env = {"TELEPHONY_EMULATOR_PASSWORD": password} if password else {}
    proc = _serve(tmp_path, "--port", "0", env=env)
    try:
        lines = _read_until_ready(proc)
        text = "\n".join(lines)
        served = re.search(r"on (http://127\.0\.0\.1:\d+)", lines[0]).group(1)
        connect_line = next(line for line in lines if line.startswith("Connect with: "))
        shown = connect_line.removeprefix("Connect with: ")
        # the demo credential is public, so the URL can be copied; a chosen one is masked
        expect = "***" if password else DEMO_PASSWORD
        assert shown == f"{NAME}://demo:{expect}@{served.removeprefix('http://')}?scheme=http"
        if password is None:
            assert "EmuTestEmulator" in text and "demo credential is public" in text
        else:
            assert "--password" in text
        secret = password or DEMO_PASSWORD
        good = requests.post(served + "/calls", json={"to": "x"}, auth=("demo", secret),
                             timeout=5)
        assert good.status_code == 200
        bad = requests.post(served + "/calls", json={}, auth=("demo", "nope"), timeout=5)
        assert bad.status_code == 401
    finally:
        code, out, err = _stop(proc)
    assert code == 0, err
    assert "Emulator stopped." in out
    if password:
        assert DEMO_PASSWORD not in text + out + err
        assert password not in text + out + err

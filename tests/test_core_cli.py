"""The telephony command: listing, schemas, invoking, and failing without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from telephony_core.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_help_imports_no_provider():
    code = ("import sys; sys.argv = ['telephony', '--help']\n"
            "from telephony_core.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "loaded = [m for m in sys.modules if m.startswith(('telephony_core.sim', 'telephony_y',"
            " 'telephony_t', 'telephony_i', 'telephony_a', 'telephony_core.emulation'))]\n"
            "print('LOADED', loaded)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout
    assert "providers" in out.stdout and "demo" in out.stdout


def test_providers_lists_registered_and_installed(loopback_spec):
    table = run("providers")
    assert table.exit_code == 0 and "loopback" in table.output
    rows = json.loads(run("providers", "--json").output)
    row = next(r for r in rows if r["name"] == "loopback")
    assert row["capabilities"] == ["call_control", "dial", "hold", "sms"] and row["error"] is None


def test_schema_prints_the_providers_schema(loopback_spec):
    out = run("schema", "loopback", "dial")
    assert out.exit_code == 0 and json.loads(out.output)["required"] == ["caller", "callee"]
    missing = run("schema", "loopback", "transfer")
    assert missing.exit_code == 1 and "does not support 'transfer'" in missing.output
    unknown = run("schema", "nosuchprovider", "dial")
    assert unknown.exit_code == 1 and "no provider named 'nosuchprovider'" in unknown.output


def test_invoke_prints_the_result_as_json(loopback):
    server, _ = loopback
    url = server.app.connect_url(server.url)
    out = run("invoke", url, "dial", '{"caller": "ext:1000", "callee": "tel:41000"}')
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["call_id"] == "c1"


def test_invoke_refuses_bad_input_with_a_message_not_a_traceback(loopback):
    server, _ = loopback
    url = server.app.connect_url(server.url)
    for args, words in (
        (["dial", "{not json"], "the payload is not JSON"),
        (["dial", "[1, 2]"], "must be a JSON object"),
        (["dial", '{"caller": "ext:1000"}'], "'callee' is required"),
        (["dail", "{}"], "'dail' is not an operation"),
        (["transfer", '{"call": "ext:1", "to": "ext:2"}'], "does not support 'transfer'"),
    ):
        out = run("invoke", url, *args)
        assert out.exit_code != 0 and words in out.output, out.output
        assert "Traceback" not in out.output
    assert server.attempts == 0

"""The ``telephony`` command for daily use: invoke without secrets on the command line, payloads
from stdin or a file, emulate's copyable URL and --json, the matrix as JSON, completion of
provider and operation names, ``python -m telephony_core``, one-line missing-extra errors.

Commands run as a user runs them: in a subprocess, with the environment they would have.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import telephony_core

BLOCK_WERKZEUG = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "werkzeug":
            raise ImportError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
from telephony_core.cli import main
main(sys.argv[1:], prog_name="telephony")
"""


def telephony(*args, env=None, stdin=None, cwd=None):
    """``python -m telephony_core ARGS`` with only the TELEPHONY_* variables given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TELEPHONY_")}
    return subprocess.run([sys.executable, "-m", "telephony_core", *args], input=stdin,
                          env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_invoke_falls_back_to_telephony_url_and_says_how_to_configure_without_it():
    done = telephony("invoke", "list_calls", env={"TELEPHONY_URL": "sim://"})
    assert (done.returncode, json.loads(done.stdout)) == (0, [])
    done = telephony("invoke", "list_calls")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "TELEPHONY_URL" in done.stderr and "sim://" in done.stderr


def test_invoke_with_a_profile_keeps_the_secret_off_the_command_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[profiles.lab]\nurl = "sim://"\n')
    env = {"TELEPHONY_CONFIG": str(config)}
    done = telephony("invoke", "--profile", "lab", "dial",
                     '{"caller": "ext:1000", "callee": "ext:1001"}', env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["provider"] == "sim"
    done = telephony("invoke", "list_calls", env={**env, "TELEPHONY_PROFILE": "lab"})
    assert (done.returncode, json.loads(done.stdout)) == (0, [])
    done = telephony("invoke", "--profile", "lab", "sim://", "list_calls", "{}", env=env)
    assert done.returncode == 2 and "not both" in done.stderr


def test_the_payload_comes_from_stdin_or_a_file_with_clear_errors(tmp_path):
    dial = '{"caller": "ext:1000", "callee": "ext:1001"}'
    done = telephony("invoke", "sim://", "dial", "-", stdin=dial)
    assert done.returncode == 0 and json.loads(done.stdout)["provider"] == "sim"
    (tmp_path / "call.json").write_text(dial)
    done = telephony("invoke", "sim://", "dial", "@call.json", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["call_id"]
    (tmp_path / "list.json").write_text("[1]")
    done = telephony("invoke", "sim://", "dial", "@list.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "the payload file 'list.json' must be a JSON object, not list" in done.stderr
    done = telephony("invoke", "sim://", "dial", "@missing.json", cwd=tmp_path)
    assert done.returncode == 2 and "cannot read the payload file 'missing.json'" in done.stderr
    done = telephony("invoke", "sim://", "dial", "-", stdin="{oops")
    assert done.returncode == 2 and "standard input is not JSON" in done.stderr


def test_emulate_json_gives_a_url_that_connects_and_the_demo_set_up():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEPHONY_")}
    proc = subprocess.Popen([sys.executable, "-m", "telephony_core", "emulate", "yeastar",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["url"].endswith(f":{info['port']}?scheme=http")
        assert info["report_option"] == "webhook_url"  # report_url: its older name
        assert info["setup"]["may_supervise"] == {"1005": "extensive"}
        assert "1003" in info["setup"]["not_monitorable"]
        with telephony_core.connect(info["url"]) as client:   # copied as printed
            assert client.list_calls() == []
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_emulate_prints_a_copyable_url_unless_the_password_is_the_users(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEPHONY_")}
    proc = subprocess.Popen([sys.executable, "-m", "telephony_core", "emulate", "yeastar",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**env, "TELEPHONY_EMULATOR_PASSWORD": "my-own-s3cret"})
    try:
        info = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert info["password_masked"] and "my-own-s3cret" not in info["url"] + out + err


def test_the_matrix_as_json_says_what_each_provider_supports():
    done = telephony("providers", "--matrix", "--json")
    matrix = json.loads(done.stdout)
    assert matrix["sim"]["operations"]["dial"]["supported"] is True
    assert matrix["sim"]["operations"]["dial"]["how"]
    assert matrix["apio"]["operations"]["dial"] == {"supported": False}
    assert matrix["yeastar"]["operations"]["parse_event"] == {"supported": True}


@pytest.mark.parametrize(("words", "expected"), [
    ("telephony emulate yea", ["yeastar"]),
    ("telephony schema yeastar tra", ["transfer"]),
    ("telephony invoke sim:// ho", ["hold"]),
    ("telephony invoke twi", ["twilio://"]),
])
def test_completion_offers_provider_and_operation_names(words, expected):
    done = telephony(env={"_TELEPHONY_COMPLETE": "bash_complete", "COMP_WORDS": words,
                          "COMP_CWORD": str(len(words.split()) - 1)})
    offered = [line.split(",", 1)[1] for line in done.stdout.splitlines()]
    assert offered == expected


def test_a_verb_whose_extra_is_missing_says_which_extra_in_one_line():
    done = subprocess.run([sys.executable, "-c", BLOCK_WERKZEUG, "emulate", "yeastar"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: 'telephony emulate' needs the emulation extra (missing: werkzeug): "
        "pip install 'telephony-core[emulation]'"]


def test_python_dash_m_is_the_telephony_command():
    done = telephony("--help")
    assert done.returncode == 0 and done.stdout.startswith("Usage: telephony ")
    assert Path(telephony_core.__file__).with_name("__main__.py").exists()

"""``telephony emulate`` end to end: a real process, commands through its stdin pipe, a real
client connected to the URL it printed, the far end played through stdin."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import telephony_core

ENV = {k: v for k, v in os.environ.items() if not k.startswith("TELEPHONY_")}


class Emulate:
    """``python -m telephony_core emulate ARGS``: its JSON lines arrive on :attr:`lines`."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "telephony_core", "emulate", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=ENV)
        self.lines: queue.Queue[str] = queue.Queue()
        self.history: list[dict[str, Any]] = []  # every JSON line read so far
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def next_json(self, timeout: float = 10) -> dict[str, Any]:
        record = json.loads(self.lines.get(timeout=timeout))
        self.history.append(record)
        return record

    def until(self, match: Any, timeout: float = 10) -> dict[str, Any]:
        """The next JSON line ``match(record)`` accepts (earlier ones are skipped)."""
        end = time.monotonic() + timeout
        while True:
            record = self.next_json(max(0.01, end - time.monotonic()))
            if match(record):
                return record

    def result(self, command: str) -> dict[str, Any]:
        self.send(command)
        name = command.split()[0].lower()
        return self.until(lambda r: r.get("type") == "result" and r["command"] == name)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.kill()
        _, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


@pytest.fixture
def emulate():
    started: list[Emulate] = []

    def start(*args: str) -> Emulate:
        emu = Emulate(*args)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


def test_a_script_plays_the_far_end_through_stdin(emulate):
    emu = emulate("yeastar", "--json")
    ready = emu.next_json()
    assert ready["type"] == "ready" and ready["controls"] is True
    with telephony_core.connect(ready["url"]) as client:
        ref = client.dial("ext:1000", "tel:41000")
        ringing = emu.until(lambda r: r.get("kind") == "call.ringing")
        assert ringing["call_id"] == ref.call_id and ringing["data"]["party"] == "ext:1000"
        assert abs(ringing["at"] - ref.accepted_at.timestamp()) < 5  # the clock is today's
        answered = emu.result("answer 1000")
        assert answered == {"type": "result", "command": "answer", "ok": True,
                            "party": "ext:1000", "call_id": ref.call_id}
        # Yeastar lists trunk calls (by the trunk leg's id); the far number rings now
        [info] = client.list_calls()
        assert (info.caller, info.callee, info.state) == ("ext:1000", "tel:41000", "ringing")
        assert emu.result("answer tel:41000")["ok"]
        assert client.list_calls()[0].state == "talking"
        [listed] = emu.result("calls")["calls"]
        assert listed["call_id"] == ref.call_id and listed["state"] == "talking"
        refused = emu.result("answer 1009")  # a mistake keeps the session going
        assert refused["ok"] is False and "1009 is not an extension" in refused["error"]
        assert emu.result("frobnicate")["error"].startswith("unknown command")
        assert emu.result("hangup 41000")["ok"]
        # the events a command caused come before its result
        hangup = emu.history[-3]
        assert [r.get("kind") for r in emu.history[-3:]] == ["call.hangup", "cdr", None]
        assert hangup["call_id"] == ref.call_id
        assert hangup["data"] == {"by": "tel:41000", "reason": "hangup"}
        assert client.list_calls() == []
    assert emu.result("quit") == {"type": "result", "command": "quit", "ok": True}
    assert emu.proc.wait(10) == 0
    code, err = emu.stop()
    assert code == 0 and "Traceback" not in err


def test_auto_answer_picks_up_every_ringing_phone(emulate):
    emu = emulate("yeastar", "--json", "--auto-answer")
    ready = emu.next_json()
    assert ready["auto_answer"] == 0.0
    with telephony_core.connect(ready["url"]) as client:
        ref = client.dial("ext:1000", "tel:41000")
        for party in ("ext:1000", "tel:41000"):
            answered = emu.until(lambda r: r.get("command") == "auto-answer")
            assert answered["ok"] and answered["party"] == party
            assert answered["call_id"] == ref.call_id
        [info] = client.list_calls()
        assert info.state == "talking"
    emu.send("quit")
    assert emu.proc.wait(10) == 0


def test_auto_answer_after_a_delay_and_an_inbound_call(emulate):
    emu = emulate("yeastar", "--json", "--auto-answer", "1")
    emu.next_json()
    incoming = emu.result("incoming 5559999 5551000")
    assert incoming["ok"]
    # offered for 10 s on the model's clock; advance past the window: routed, ringing, then
    # answered one wall second later
    started = time.monotonic()  # the phone cannot ring before this
    emu.send("advance 10")
    ringing = emu.until(lambda r: r.get("kind") == "call.ringing")
    answered = emu.until(lambda r: r.get("command") == "auto-answer")
    assert answered["ok"] and answered["party"] == ringing["data"]["party"]
    assert 1.0 <= time.monotonic() - started < 5


def test_a_person_at_the_text_interface(emulate):
    emu = emulate("yeastar")
    emu.send("answer 1000")
    emu.send("calls")
    emu.send("quit")
    assert emu.proc.wait(10) == 0
    out = []
    while not emu.lines.empty():
        out.append(emu.lines.get())
    text = "".join(out)
    assert "You are the far end: type help" in text
    assert "error: ext:1000 is not ringing\n" in text and "no live calls\n" in text
    assert text.endswith("stopping\nEmulator stopped.\n")


def test_stdin_from_dev_null_is_not_read_and_it_serves_on(tmp_path):
    with open(os.devnull) as nothing:
        proc = subprocess.Popen([sys.executable, "-m", "telephony_core", "emulate", "yeastar",
                                 "--json"], stdin=nothing, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        ready = json.loads(proc.stdout.readline())
        with telephony_core.connect(ready["url"]) as client:
            assert client.list_calls() == []
        assert proc.poll() is None  # no quit read from /dev/null: still serving
    finally:
        proc.send_signal(2)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_which_standard_inputs_are_read(tmp_path):
    from telephony_core.emulation.cli import _reads_commands

    read, write = os.pipe()
    with os.fdopen(read) as pipe, os.fdopen(write, "w"):
        assert _reads_commands(pipe)  # a script writing commands
    with open(os.devnull) as nothing:
        assert not _reads_commands(nothing)  # `< /dev/null`, a background job
    file = tmp_path / "commands.txt"
    file.write_text("quit\n")
    with open(file) as regular:
        assert not _reads_commands(regular)
    closed = open(file)  # noqa: SIM115 - closed on purpose
    closed.close()
    assert not _reads_commands(closed)


@pytest.mark.skipif(not hasattr(os, "forkpty"), reason="needs a POSIX pseudo-terminal")
def test_a_person_at_a_terminal():
    """In the foreground of a real (pseudo-)terminal, commands typed are read."""
    import select
    import warnings

    with warnings.catch_warnings():  # 3.12+ warns that forking a threaded process may
        warnings.simplefilter("ignore", DeprecationWarning)  # deadlock: the child execs at once
        pid, fd = os.forkpty()
    if pid == 0:  # the child: emulate, with the terminal as its controlling, foreground tty
        os.execvpe(sys.executable, [sys.executable, "-m", "telephony_core", "emulate",
                                    "yeastar"], ENV)
    seen = b""

    def read_until(marker: bytes, timeout: float = 10) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
        assert marker in seen, seen.decode(errors="replace")

    try:
        read_until(b"Press Ctrl-C (or type quit) to stop.")
        os.write(fd, b"incoming 5559999 5551000\n")
        read_until(b"tel:5559999 is calling 5551000: offered as call")
        os.write(fd, b"quit\n")
        read_until(b"Emulator stopped.")
    finally:
        end = time.monotonic() + 10
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < end:
            time.sleep(0.05)
        if done[0] == 0:  # still serving: the test failed above; do not hang
            os.kill(pid, 9)
            done = os.waitpid(pid, 0)
        status = done[1]
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0 and b"Traceback" not in seen


def test_the_pages_script_runs():
    """docs/emulate.md's Python, run as a reader would paste it."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs/emulate.md").read_text()
    [code] = re.findall(r"^```python\n(.*?)^```", page, re.S | re.M)
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "event: call.ringing" in done.stdout and "state='talking'" in done.stdout


@pytest.mark.parametrize("args, says", [
    (["--auto-answer", "yeastar"], "put --auto-answer after the provider name (telephony "
                                   "emulate yeastar --auto-answer)"),
    (["yeastar", "--auto-answer", "9999"], "9999 is not between 0 and 3600 seconds"),
    (["yeastar", "--auto-answer", "nan"], "nan is not between 0 and 3600 seconds")])
def test_a_wrong_auto_answer_says_what_to_write(args, says):
    from click.testing import CliRunner

    from telephony_core.emulation.cli import emulate_command

    result = CliRunner().invoke(emulate_command, args)
    assert result.exit_code == 2 and says in result.output


def test_ctrl_c_the_moment_it_says_so_stops_cleanly():
    """A Ctrl-C right after "Press Ctrl-C" is printed (before the command reader has even
    started) stops the emulator with exit 0, never click's "Aborted!" (CI met this race)."""
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-m", "telephony_core", "emulate", "yeastar"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=ENV)
        for line in proc.stdout:
            if line.startswith("Press Ctrl-C"):
                proc.send_signal(2)
                break
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "Aborted" not in err and "Emulator stopped." in out

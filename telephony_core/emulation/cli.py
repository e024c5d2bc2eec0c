"""``telephony emulate NAME``: serve a provider's emulator in the foreground until Ctrl-C.

It prints the provider URL to connect with, ready to copy: the emulator's demo credential is
public (documented in the emulator's class docstring), not a secret. A password chosen with
``--password`` is a secret and is masked. It also names the demo set-up (extensions, who may
supervise) and the connection option that points the emulator's reports at an application.
``--json`` prints the same as one JSON line, for scripts.

While it serves, the person at the terminal (or a script writing to a pipe) plays the far end:
``answer 1001``, ``hangup 1000``, ``press 1000 1``, ``incoming 5559999 5551000``, ``calls``...
(:mod:`.far_end` parses and runs the commands). The model's events are printed as they happen
(with ``--json``, one JSON object a line: events, command results). ``--auto-answer [SECONDS]``
answers every ringing phone. The model's clock starts at the current time and follows wall
time (``advance SECONDS`` jumps ahead), so ring timeouts and prompts happen in real time.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import stat
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import click

from ..cli import fail, guarded
from ..config import is_loopback
from ..redaction import MASK, SECRETS, redact

__all__ = ["demo_setup", "emulate_command", "mask_url", "report_option"]

#: Connection options through which providers tell the system where to send its reports.
REPORT_OPTIONS = ("webhook_url", "report_url", "status_callback")


def mask_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return redact(url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return redact(urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}")))


def report_option(spec: Any) -> str | None:
    """The connection option that points the provider's reports at an application, if any."""
    properties = dict(spec.config_schema.get("properties", {}))
    return next((name for name in REPORT_OPTIONS if name in properties), None)


def demo_setup(app: Any) -> dict[str, Any]:
    """The emulated PBX's extensions and their permissions, when the emulator has a PBX."""
    setup = getattr(getattr(app, "pbx", None), "setup", None)
    if setup is None:
        return {}
    exts = setup.extensions
    return {
        "extensions": {n: e.name for n, e in sorted(exts.items())},
        "may_supervise": {n: e.monitor_mode for n, e in sorted(exts.items())
                          if e.monitor_mode != "disabled"},
        "not_monitorable": sorted(n for n, e in exts.items() if not e.allow_monitoring),
        "no_outbound": sorted(n for n, e in exts.items() if not e.outbound),
    }


def _describe_setup(setup: dict[str, Any]) -> list[str]:
    if not setup:
        return []
    lines = ["Extensions: " + ", ".join(f"ext:{n} ({name})" if name else f"ext:{n}"
                                        for n, name in setup["extensions"].items())]
    if setup["may_supervise"]:
        lines.append("May supervise (monitor): " + ", ".join(
            f"ext:{n} ({mode})" for n, mode in setup["may_supervise"].items()))
    if setup["not_monitorable"]:
        lines.append("May not be monitored: " + ", ".join(
            f"ext:{n}" for n in setup["not_monitorable"]))
    if setup["no_outbound"]:
        lines.append("May not dial out: " + ", ".join(f"ext:{n}" for n in setup["no_outbound"]))
    return lines


def _complete_provider(ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[str]:
    from ..cli import provider_names

    return [n for n in provider_names() if n.startswith(incomplete)]


def _reads_commands(stream: TextIO) -> bool:
    """Read commands from ``stream`` when it is a terminal we own (the foreground process
    group: a background job reading its terminal would be stopped by SIGTTIN) or a pipe; not
    from /dev/null, a file or a closed descriptor."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    if stream.isatty():
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Output:
    """Every line goes through one queue and one printer thread: events arrive from the
    emulator's request threads while they hold the model's lock, and must never wait for the
    terminal or a slow pipe reader."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True, name="emulate-output")
        self._thread.start()

    def line(self, text: str, record: dict[str, Any] | None = None) -> None:
        """Print ``text`` (a person) or ``record`` (``--json``; nothing when None)."""
        if self.as_json:
            if record is not None:
                self._queue.put(json.dumps(record, default=str))
        else:
            self._queue.put(text)

    def event(self, event: Any) -> None:
        from .far_end import describe_event, event_record

        self.line(describe_event(event), event_record(event))

    def outcome(self, outcome: Any) -> None:
        text = outcome.text if outcome.ok else f"error: {outcome.text}"
        self.line(redact(text), outcome.record())

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            with contextlib.suppress(OSError, ValueError):  # the reader went away: serve on
                click.echo(item)


def _read_commands(far_end: Any, out: _Output, stop: threading.Event,
                   stream: TextIO) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if callable(reconfigure):  # undecodable bytes become U+FFFD: a bad command, not a crash
        reconfigure(errors="replace")
    for raw in stream:
        outcome = far_end.execute(raw)
        if outcome is None:
            continue
        out.outcome(outcome)
        if outcome.quit:
            stop.set()
            return
    out.line("(standard input closed: serving until Ctrl-C)",
             {"type": "notice", "notice": "stdin closed"})


class _Seconds(click.ParamType):
    """``--auto-answer``'s optional SECONDS, with a hint for the easy mistake of writing the
    option before NAME (click then takes NAME for the seconds)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds; put --auto-answer after the "
                      f"provider name (telephony emulate {value} --auto-answer) or give it "
                      "SECONDS", param, ctx)
        if not 0 <= seconds <= 3600:
            self.fail(f"{value} is not between 0 and 3600 seconds", param, ctx)
        return seconds


@click.command("emulate")
@click.argument("name", shell_complete=_complete_provider)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; loopback only, unless --public.")
@click.option("--public", is_flag=True,
              help="Allow a non-loopback --host (the emulator accepts demo credentials).")
@click.option("--password", envvar="TELEPHONY_EMULATOR_PASSWORD", default=None,
              help="Password/secret the emulator accepts instead of its demo one "
                   "(or $TELEPHONY_EMULATOR_PASSWORD, which other users cannot see in ps).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the URL, port and demo set-up as one JSON line, then one JSON line "
                   "per event and per command result.")
@click.option("--auto-answer", "auto_answer", type=_Seconds(), is_flag=False,
              flag_value=0.0, default=None, metavar="[SECONDS]",
              help="Every ringing phone answers after SECONDS (default 0, at most 3600). "
                   "Put it after NAME.")
@guarded
def emulate_command(name: str, port: int, host: str, public: bool, password: str | None,
                    as_json: bool, auto_answer: float | None) -> None:
    """Serve provider NAME's emulator on HOST:PORT until Ctrl-C or quit, printing the URL to
    connect with (the demo credential is public), the demo set-up, and how to point its reports
    at your application.

    \b
    While it serves, type commands to play the far end (or write them to its standard input
    from a script):
      calls                live calls: id, direction, state, parties
      answer PARTY         a ringing phone picks up: answer 1001, answer tel:41000
      hangup PARTY         a party hangs up
      reject PARTY         a ringing phone declines
      press PARTY KEY      a party presses 0-9, * or #
      incoming FROM TO     an outside caller dials in: incoming 5559999 5551000
      advance SECONDS      move the clock ahead (ring timeouts, prompts)
      help, quit
    The events of the emulated PBX are printed as they happen. Its clock starts now and
    follows wall time, so a phone left ringing times out after 30 s as on a real system."""
    from .. import registry
    from .far_end import AutoAnswer, FarEnd, WallClock, start_at_wall_time
    from .server import EmulatorServer

    if not is_loopback(host) and not public:
        fail(f"--host {host} is not a loopback address; the emulator accepts well-known demo "
             "credentials, so serving it on a network needs --public")
    spec = registry.get(name)
    factory = spec.emulator_factory()
    if password:
        SECRETS.add(password)
        try:
            app = factory(pbx=None, password=password)
        except TypeError:
            fail(f"the {name} emulator does not accept --password; it uses the demo credentials "
                 "documented in its class docstring")
    else:
        app = factory(pbx=None)
    pbx = getattr(app, "pbx", None)
    if pbx is not None and not all(callable(getattr(pbx, m, None)) for m in
                                   ("subscribe", "answer", "far_hangup", "incoming")):
        pbx = None  # not the shared call model: no far-end controls
    if pbx is not None:
        start_at_wall_time(pbx)
    server = EmulatorServer(app, host=host, port=port, allow_public=public).start()
    out = _Output(as_json)
    workers: list[Callable[[], None]] = []
    try:
        # everything listens before the URL is printed: a script may dial the moment it reads
        # it, and the first ringing phone must already be printed and auto-answered
        if pbx is not None:
            pbx.subscribe(out.event)
            workers.append(WallClock(pbx, on_error=lambda text: out.line(
                f"error: {text}", {"type": "notice", "notice": text})).start().stop)
            if auto_answer is not None:
                workers.append(AutoAnswer(pbx, auto_answer, report=out.outcome).start().stop)
        _announce(name, spec, app, server, password, as_json, pbx is not None, auto_answer)
        stop = threading.Event()
        if _reads_commands(sys.stdin):
            far_end = FarEnd(pbx, name=name)
            threading.Thread(target=_read_commands, args=(far_end, out, stop, sys.stdin),
                             daemon=True, name="emulate-commands").start()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:  # from the moment "Press Ctrl-C" is printed, it stops cleanly
        pass
    finally:
        for halt in reversed(workers):
            halt()
        server.stop()
        out.close()
        if password:
            SECRETS.discard(password)
    if not as_json:
        click.echo("Emulator stopped.")


def _announce(name: str, spec: Any, app: Any, server: Any, password: str | None,
              as_json: bool, controls: bool, auto_answer: float | None) -> None:
    cls = type(app)
    url = app.connect_url(server.url)
    shown = mask_url(url) if password else url
    setup = demo_setup(app)
    option = report_option(spec)
    if as_json:
        click.echo(json.dumps({
            "type": "ready", "provider": name, "url": shown, "host": server.host,
            "port": server.port, "base_url": server.url, "password_masked": bool(password),
            "report_option": option, "setup": setup, "controls": controls,
            "auto_answer": auto_answer}), nl=True)
        return
    click.echo(f"Serving the {spec.title} emulator ({name}) on {server.url}")
    click.echo(f"Connect with: {shown}")
    if password:
        click.echo("The password (***) is the one you gave with --password.")
    else:
        click.echo(f"(the demo credential is public, documented in "
                   f"{cls.__module__}.{cls.__qualname__})")
    for line in _describe_setup(setup):
        click.echo(line)
    if option:
        sep = "&" if "?" in shown else "?"
        click.echo(f"Reports: add {option}=http://127.0.0.1:PORT/PATH to the URL "
                   f"({shown}{sep}{option}=...) and the emulator POSTs its reports "
                   "there, re-sending until your application answers 200.")
    else:
        click.echo(f"Reports: the {name} provider takes no report URL option.")
    if controls:
        answering = ("" if auto_answer is None else
                     f" Every ringing phone answers after {auto_answer:g} s (--auto-answer).")
        click.echo("You are the far end: type help for the commands (answer 1001, hangup 1000, "
                   f"press 1000 1, incoming 5559999 5551000, calls).{answering}")
    else:
        click.echo(f"The {name} emulator has no PBX model: the far-end controls are "
                   "unavailable.")
    click.echo("Press Ctrl-C (or type quit) to stop.")

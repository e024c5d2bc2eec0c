"""The ``telephony`` command.

Subcommands that need heavy imports (the simulator, emulators, the conformance suite) are
resolved lazily, so ``telephony --help`` imports no provider. Failures print the error's
(redacted) message and exit non-zero; a traceback is a bug.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from .errors import TelephonyError
from .redaction import redact

#: subcommand -> (module:attribute of its click command, one-line help)
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("telephony_core.sim.demo:demo_command",
             "A guided tour of the API on the simulator (or a provider's emulator)."),
    "emulate": ("telephony_core.emulation.cli:emulate_command",
                "Serve a provider's emulator on 127.0.0.1."),
    "conformance": ("telephony_core.testing.cli:conformance_command",
                    "Run the conformance suite against an installed provider."),
    "campaign": ("telephony_core.campaigns.cli:campaign_command",
                 "Run campaigns of calls or SMS on Temporal (needs the campaigns extra)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            from .provider import load_object

            try:
                return load_object(LAZY_COMMANDS[name][0])
            except ImportError as exc:
                return _unavailable(name, exc)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        eager = click.Group.list_commands(self, ctx)
        rows = [(name, cmd.get_short_help_str(60)) for name in eager
                if (cmd := click.Group.get_command(self, ctx, name)) is not None]
        rows += [(name, help_) for name, (_, help_) in LAZY_COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def _unavailable(name: str, exc: ImportError) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def missing(args: tuple[str, ...]) -> None:
        fail(f"'telephony {name}' needs the testing extra (missing: {exc.name or exc}): "
             "pip install 'telephony-core[testing]'")

    return missing


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {redact(message)}", err=True)
    sys.exit(code)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a TelephonyError into a one-line message and exit status 1, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TelephonyError as exc:
            fail(f"{type(exc).__name__}: {exc}")

    return wrapper


def to_jsonable(value: Any) -> Any:
    """Results (attrs classes) as JSON-ready data, ``raw`` included, datetimes as ISO text."""
    import datetime

    import attrs

    if attrs.has(type(value)):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="telephony-core")
def main() -> None:
    """Drive IP-PBXs, cloud call centres and CPaaS voice APIs through one API."""


@main.command("providers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--matrix", is_flag=True, help="Print the capability matrix (operation x provider).")
def providers_command(as_json: bool, matrix: bool) -> None:
    """List installed providers, their capabilities and any load errors."""
    from . import registry

    entries = registry.entries()
    if matrix:
        from .matrix import render_matrix

        click.echo(render_matrix([e.spec for e in entries if e.spec]))
        return
    rows = [{
        "name": e.name, "distribution": e.distribution, "version": e.version,
        "capabilities": sorted(str(c) for c in e.spec.capabilities) if e.spec else [],
        "operations": sorted(e.spec.operations) if e.spec else [],
        "error": e.error,
    } for e in entries]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = ("NAME", "DISTRIBUTION", "VERSION", "CAPABILITIES / ERROR")
    table = [header] + [(r["name"], r["distribution"] or "-", r["version"] or "-",
                         ("LOAD ERROR: " + r["error"]) if r["error"]
                         else ", ".join(r["capabilities"])) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(3)]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False))
                   + "  " + row[3])


@main.command("schema")
@click.argument("names", nargs=-1, metavar="[PROVIDER] OPERATION")
@click.option("--canonical", is_flag=True,
              help="print the canonical schema of OPERATION (what every provider narrows)")
@guarded
def schema_command(names: tuple[str, ...], canonical: bool) -> None:
    """Print the JSON Schema PROVIDER accepts for OPERATION (narrowed from the canonical one),
    or with --canonical the canonical schema of OPERATION."""
    from .catalogue import OPERATIONS

    if canonical:
        if len(names) != 1:
            fail("give one operation with --canonical: telephony schema --canonical dial", 2)
        if names[0] not in OPERATIONS:
            fail(f"unknown operation {names[0]!r}: expected one of {', '.join(OPERATIONS)}", 2)
        from .schemas import load

        click.echo(json.dumps(load(names[0]), indent=2))
        return
    if len(names) != 2:
        fail("give a provider and an operation (telephony schema sim dial), or --canonical "
             "OPERATION", 2)
    from . import registry

    click.echo(json.dumps(registry.get(names[0]).schema(names[1]), indent=2))


@main.command("invoke")
@click.argument("url")
@click.argument("operation")
@click.argument("payload", default="{}")
@guarded
def invoke_command(url: str, operation: str, payload: str) -> None:
    """Run OPERATION with the JSON PAYLOAD on the provider at URL; print the result as JSON."""
    from .client import connect

    try:
        body = json.loads(payload)
    except ValueError as exc:
        fail(f"the payload is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
             'expected an object such as \'{"caller": "ext:1000", "callee": "tel:41000"}\'', 2)
    if not isinstance(body, dict):
        fail(f"the payload must be a JSON object, not {type(body).__name__}", 2)
    with connect(url) as client:
        result = client.invoke(operation, body)
    click.echo(redact(json.dumps(to_jsonable(result), indent=2, default=str)))


if __name__ == "__main__":  # pragma: no cover
    main()

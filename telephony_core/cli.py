"""The ``telephony`` command.

Subcommands that need heavy imports (the simulator, emulators, the conformance suite) are
resolved lazily, so ``telephony --help`` imports no provider. Failures print the error's
(redacted) message and exit non-zero; a traceback is a bug.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

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

#: The extra each lazily loaded verb needs, named in the one-line error when it is missing.
VERB_EXTRAS: dict[str, str] = {
    "demo": "emulation",
    "emulate": "emulation",
    "conformance": "testing",
    "campaign": "campaigns",
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
    extra = VERB_EXTRAS.get(name, "testing")

    @click.command(name, context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def missing(args: tuple[str, ...]) -> None:
        fail(f"'telephony {name}' needs the {extra} extra (missing: {exc.name or exc}): "
             f"pip install 'telephony-core[{extra}]'")

    return missing


def provider_names() -> list[str]:
    """Installed provider names (entry points only: nothing is imported), for completion."""
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group="telephony_core.providers")})


def operation_names() -> list[str]:
    from .catalogue import OPERATIONS

    return list(OPERATIONS)


def _complete(values: Callable[[], list[str]]) -> Callable[..., list[str]]:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        return [v for v in values() if v.startswith(incomplete)]

    return complete


def _complete_schema_names(ctx: click.Context, param: click.Parameter,
                           incomplete: str) -> list[str]:
    given = ctx.params.get(param.name or "") or ()
    if ctx.params.get("canonical") or len(given) == 1:
        return [o for o in operation_names() if o.startswith(incomplete)]
    return [p for p in provider_names() if p.startswith(incomplete)] if not given else []


def _complete_invoke_args(ctx: click.Context, param: click.Parameter,
                          incomplete: str) -> list[str]:
    given = ctx.params.get(param.name or "") or ()
    operations = operation_names()
    if any(a in operations for a in given):
        return []                                  # the payload comes next
    targets = [] if given else [f"{p}://" for p in provider_names()]
    return [v for v in operations + targets if v.startswith(incomplete)]


def fail(message: str, code: int = 1) -> NoReturn:
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
        from .matrix import matrix_data, render_matrix

        specs = [e.spec for e in entries if e.spec]
        if as_json:
            click.echo(json.dumps(matrix_data(specs), indent=2))
        else:
            click.echo(render_matrix(specs))
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
    table: list[tuple[str, str, str, str]] = [header] + [
        (e.name, e.distribution or "-", e.version or "-",
         f"LOAD ERROR: {e.error}" if e.error
         else ", ".join(sorted(str(c) for c in e.spec.capabilities) if e.spec else []))
        for e in entries]
    widths = [max(len(str(row[i])) for row in table) for i in range(3)]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False))
                   + "  " + row[3])


@main.command("schema")
@click.argument("names", nargs=-1, metavar="[PROVIDER] OPERATION",
                shell_complete=_complete_schema_names)
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
@click.argument("args", nargs=-1, metavar="[URL] OPERATION [PAYLOAD]",
                shell_complete=_complete_invoke_args)
@click.option("--profile", default=None, metavar="NAME",
              help="Connect with the [profiles.NAME] table of the configuration file.")
@guarded
def invoke_command(args: tuple[str, ...], profile: str | None) -> None:
    """Run OPERATION on a provider and print the result as JSON.

    The provider is URL, or --profile NAME, or else $TELEPHONY_URL / $TELEPHONY_PROFILE, so
    a password need not appear on the command line (where other users can see it in ps).
    PAYLOAD is a JSON object, '-' to read it from standard input, or @FILE to read it from a
    file; it defaults to {}.

    \b
      telephony invoke sim:// dial '{"caller": "ext:1000", "callee": "ext:1001"}'
      TELEPHONY_PROFILE=office telephony invoke list_calls
      telephony invoke --profile office dial @call.json
    """
    from .client import connect

    target, operation, payload = _split_invoke_args(args, profile)
    body = _read_payload(payload)
    with connect(target, profile=profile) as client:
        result = client.invoke(operation, body)
    click.echo(redact(json.dumps(to_jsonable(result), indent=2, default=str)))


def _split_invoke_args(args: tuple[str, ...],
                       profile: str | None) -> tuple[str | None, str, str]:
    """``[URL] OPERATION [PAYLOAD]``: the first word is the URL unless it is an operation name
    (no provider is named after an operation, and every URL has a scheme)."""
    operations = operation_names()
    usage = ("usage: telephony invoke [URL] OPERATION [PAYLOAD] (the URL may come from "
             "--profile, $TELEPHONY_URL or $TELEPHONY_PROFILE)")
    if not args:
        fail(f"give an operation; {usage}", 2)
    if args[0] in operations or (profile is not None and len(args) <= 2):
        target, rest = None, args
    else:
        target, rest = args[0], args[1:]
    if target is not None and profile is not None:
        fail("give a URL or --profile, not both", 2)
    if not rest or len(rest) > 2:
        fail(usage, 2)
    return target, rest[0], rest[1] if len(rest) == 2 else "{}"


def _read_payload(payload: str) -> dict[str, Any]:
    source = "the payload"
    if payload == "-":
        text, source = sys.stdin.read(), "the payload on standard input"
    elif payload.startswith("@"):
        path = payload[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            fail(f"cannot read the payload file {path!r}: {exc.strerror or exc}", 2)
        source = f"the payload file {path!r}"
    else:
        text = payload
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{source} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
             'expected an object such as \'{"caller": "ext:1000", "callee": "tel:41000"}\'', 2)
    if not isinstance(body, dict):
        fail(f"{source} must be a JSON object, not {type(body).__name__}", 2)
    return body


if __name__ == "__main__":  # pragma: no cover
    main()

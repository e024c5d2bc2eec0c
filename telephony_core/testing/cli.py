"""``telephony conformance NAME``: the whole conformance suite against an installed provider."""

from __future__ import annotations

import logging
import sys

import click

__all__ = ["conformance_command"]


def _gaps(results: dict) -> list[str]:
    found = []
    for props in [results["provider_wide"], *results["operations"].values()]:
        for prop, entry in props.items():
            if entry.get("outcome") == "xfailed":
                found.append(f"{prop}: {entry.get('reason')}")
    return sorted(found)


@click.command("conformance")
@click.argument("name")
@click.option("--report", type=click.Path(dir_okay=False, writable=True),
              help="write the results (per operation, per property) to this JSON file")
@click.option("--profile", type=click.Choice(["conformance", "ci", "nightly"]),
              default="conformance", show_default=True,
              help="how many examples each property runs (ci: fewest, short fault deadlines)")
@click.option("-k", "select", default=None, help="run only the tests matching this pytest -k "
              "expression (e.g. 'faults and dial')")
@click.option("--fixtures", default=None, metavar="MODULE:CLASS",
              help="the ProviderFixtures subclass to use (default: PACKAGE.conformance:Fixtures "
                   "when the provider ships one)")
@click.option("--seed", type=int, default=None,
              help="Hypothesis seed, to repeat a run exactly (default: random)")
@click.option("-v", "--verbose", is_flag=True, help="list every test")
def conformance_command(name: str, report: str | None, profile: str, select: str | None,
                        fixtures: str | None, seed: int | None, verbose: bool) -> None:
    """Run the conformance suite against provider NAME and its emulator.

    Exits 0 when every property holds, 1 when one fails (or the provider does not load).
    """
    from ..cli import fail
    from ..errors import TelephonyError

    try:
        from .runner import run_suite
    except ImportError as exc:
        fail(f"telephony conformance needs the testing extra (missing: {exc.name}): "
             "pip install 'telephony-core[testing]'")
        return
    # the emulators' own warnings (a report given up when a test stopped its emulator) reach
    # the test results where they matter; on the terminal after the run they are noise
    logging.getLogger("telephony_core.emulation").addHandler(logging.NullHandler())
    try:
        results = run_suite(name, profile=profile, select=select, fixtures=fixtures,
                            report=report, verbose=verbose,
                            pytest_args=(f"--hypothesis-seed={seed}",) if seed is not None else ())
    except TelephonyError as exc:
        fail(f"{type(exc).__name__}: {exc}")
        return
    counts = results["counts"]
    verdict = "PASSED" if results.passed else "FAILED"
    for entry in _gaps(results):
        click.echo(f"  known gap: {entry}")
    for group in results["skip_reasons"]:
        ops = group["operations"]
        which = f" ({', '.join(ops)})" if ops else ""
        click.echo(f"  skipped {group['count']}: {group['reason']}{which}")
    if results["problem"]:
        click.echo(f"error: {results['problem']}", err=True)
    click.echo(f"conformance {name} ({profile}): {verdict}: {counts['passed']} passed, "
               f"{counts['failed']} failed, {counts['skipped']} skipped"
               + (f", {counts['xfailed']} known gaps" if counts.get("xfailed") else "")
               + " in "
               f"{results['seconds']}s" + (f"; report: {report}" if report else ""))
    sys.exit(0 if results.passed else 1)

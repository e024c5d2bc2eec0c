"""``telephony conformance NAME``: the whole conformance suite against an installed provider."""

from __future__ import annotations

import sys

import click

__all__ = ["conformance_command"]


@click.command("conformance")
@click.argument("name")
@click.option("--report", type=click.Path(dir_okay=False, writable=True),
              help="write the results (per operation, per property) to this JSON file")
@click.option("--profile", type=click.Choice(["conformance", "nightly"]), default="conformance",
              show_default=True, help="how many examples each property runs")
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
    from .runner import run_suite

    try:
        results = run_suite(name, profile=profile, select=select, fixtures=fixtures,
                            report=report, verbose=verbose,
                            pytest_args=(f"--hypothesis-seed={seed}",) if seed is not None else ())
    except TelephonyError as exc:
        fail(f"{type(exc).__name__}: {exc}")
        return
    counts = results["counts"]
    verdict = "PASSED" if results.passed else "FAILED"
    click.echo(f"conformance {name} ({profile}): {verdict}: {counts['passed']} passed, "
               f"{counts['failed']} failed, {counts['skipped']} skipped in "
               f"{results['seconds']}s" + (f"; report: {report}" if report else ""))
    sys.exit(0 if results.passed else 1)

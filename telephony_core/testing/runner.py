"""Running the whole suite against one provider, outside its own test files.

``telephony conformance NAME`` and the suite's own tests use :func:`run_suite`: it writes a
one-class test module for the provider, runs it with :func:`pytest.main` in this process (so a
provider registered in-process with :func:`telephony_core.register` is seen), and collects one
result per operation and property.

A provider package may ship ``PACKAGE.conformance`` with a ``Fixtures`` class (a
:class:`~telephony_core.testing.ProviderFixtures` subclass giving ``samples``,
``known_addresses``...); the runner uses it, so the command proves as much as the package's
own tests do.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
import time
import types
from pathlib import Path
from typing import Any

import pytest

from .. import registry

__all__ = ["PROPERTIES", "SuiteResults", "fixtures_for", "property_of", "run_suite"]

#: test function -> property name in reports
PROPERTIES: dict[str, str] = {
    "test_entry_point_loads": "static.entry_point",
    "test_operation_has_schema_and_handler": "static.schema_and_handler",
    "test_schema_narrows_canonical": "static.narrowing",
    "test_config_schema_marks_secrets": "static.secrets_marked",
    "test_invalid_payloads_never_reach_the_wire": "validation",
    "test_valid_payloads_end_in_result_or_typed_error": "outcomes",
    "test_undeclared_operation_is_refused": "undeclared",
    "test_fault": "faults",
    "test_model_equivalence": "equivalence",
    "test_traffic_matches_vendor_spec": "spec.wire",
    "test_documented_provider_side": "documented.provider",
    "test_documented_emulator_side": "documented.emulator",
}


def property_of(function: str, params: dict[str, Any]) -> tuple[str | None, str]:
    """(operation or None for provider-wide properties, property name) of one test."""
    prop = PROPERTIES.get(function, function)
    if params.get("client_kind", "sync") != "sync":  # faults.async.delay, outcomes.async
        prop = f"{prop}.{params['client_kind']}"
    if "fault_name" in params:
        prop = f"{prop}.{params['fault_name']}"
    if "documented_exchange" in params:
        exchange = params["documented_exchange"]
        if exchange is None:
            return None, prop
        return getattr(exchange, "operation", None), f"{prop}[{exchange.name}]"
    op = params.get("operation") or params.get("undeclared_operation")
    return (op if op != "(none)" else None), prop


class _Collector:
    """A pytest plugin gathering one result per test into the report's shape."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str | None, str]] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            params = dict(getattr(getattr(item, "callspec", None), "params", {}) or {})
            self.items[item.nodeid] = property_of(getattr(item, "originalname", item.name),
                                                  params)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.results[report.nodeid or "collection"] = {
                "outcome": "failed", "phase": "collection", "message": _message(report)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and report.passed:
            return
        entry: dict[str, Any] = {"outcome": report.outcome}
        entry.update({k: v for k, v in report.user_properties if k == "exercised"})
        if getattr(report, "wasxfail", None) is not None and report.skipped:
            entry = {"outcome": "xfailed", "reason": report.wasxfail or "expected to fail"}
        elif report.skipped and isinstance(report.longrepr, tuple):
            entry["reason"] = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif report.failed:
            entry["message"] = _message(report)
            if report.when != "call":
                entry["phase"] = report.when
        previous = self.results.get(report.nodeid)
        if previous is None or previous["outcome"] == "passed":
            self.results[report.nodeid] = entry

    def shaped(self) -> dict[str, Any]:
        operations: dict[str, dict[str, Any]] = {}
        provider_wide: dict[str, Any] = {}
        for nodeid, entry in self.results.items():
            op, prop = self.items.get(nodeid, (None, nodeid))
            if op is None:
                provider_wide[prop] = entry
            else:
                operations.setdefault(op, {})[prop] = entry
        return {"operations": operations, "provider": provider_wide}


def _message(report: Any) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text[:4000]


#: fixtures of the providers shipped inside telephony-core
BUILT_IN_FIXTURES = {"sim": "telephony_core.testing.sim_fixtures:SimFixtures"}


def fixtures_for(name: str) -> str:
    """``module:Class`` of the fixtures to use for provider ``name`` (found without importing
    it: Hypothesis must not be imported before pytest starts)."""
    import importlib.util

    spec = registry.get(name)
    if name in BUILT_IN_FIXTURES:
        return BUILT_IN_FIXTURES[name]
    candidate = f"{spec.package}.conformance"
    try:
        found = importlib.util.find_spec(candidate)
    except ModuleNotFoundError:
        found = None
    if found is not None and found.origin and "class Fixtures" in Path(found.origin).read_text(
            encoding="utf-8"):
        return f"{candidate}:Fixtures"
    return "telephony_core.testing.base:ProviderFixtures"


#: fixtures classes handed to run_suite() as objects, by key (the generated module imports them)
_INLINE = types.SimpleNamespace()


def inline_fixtures(key: str) -> str:
    """``module:attribute`` path resolving to the class stored under ``key``."""
    return f"{__name__}:_INLINE.{key}"


_MODULE = '''\
"""Generated by telephony_core.testing.runner: the conformance suite for {name!r}."""

from telephony_core.provider import load_object
from telephony_core.testing.suite import ProviderConformance

_Fixtures = load_object({fixtures!r})
_bases = (ProviderConformance,) if issubclass(ProviderConformance, _Fixtures) else (
    _Fixtures, ProviderConformance)


class TestConformance(*_bases):
    provider = {name!r}
'''


def _hypothesis_home() -> None:
    """Keep Hypothesis's files (its constants and Unicode caches; the suite keeps no example
    database) out of the caller's directory: ``$HYPOTHESIS_STORAGE_DIRECTORY`` when set, else
    ``$XDG_CACHE_HOME/telephony-core/hypothesis`` (``~/.cache/...``)."""
    import os

    from hypothesis.configuration import set_hypothesis_home_dir

    where = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "telephony-core" / "hypothesis")
    set_hypothesis_home_dir(where)


def _skip_reasons(collector: _Collector) -> list[dict[str, Any]]:
    """Skips grouped by reason (the operation's name taken out), most frequent first."""
    import re

    groups: dict[str, dict[str, Any]] = {}
    for nodeid, entry in collector.results.items():
        if entry["outcome"] != "skipped":
            continue
        op, _ = collector.items.get(nodeid, (None, nodeid))
        reason = entry.get("reason", "no reason given")
        if op:
            reason = reason.replace(f"'{op}'", "the operation").replace(f".{op}(", ".OP(")
        reason = re.sub(r" \(capability [a-z_]+\)", "", reason)
        group = groups.setdefault(reason, {"reason": reason, "count": 0, "operations": set()})
        group["count"] += 1
        if op:
            group["operations"].add(op)
    out = sorted(groups.values(), key=lambda g: (-g["count"], g["reason"]))
    for group in out:
        group["operations"] = sorted(group["operations"])
    return out


class SuiteResults(dict[str, Any]):
    """The report (a JSON-ready dict) with the pytest exit code."""

    @property
    def passed(self) -> bool:
        return bool(self["passed"])

    def result(self, prop: str, op: str | None = None) -> dict[str, Any] | None:
        table = self["provider_wide"] if op is None else self["operations"].get(op, {})
        return table.get(prop)


def run_suite(name: str, *, profile: str = "conformance", select: str | None = None,
              fixtures: str | type | None = None, report: str | Path | None = None,
              verbose: bool = False, pytest_args: tuple[str, ...] = ()) -> SuiteResults:
    """Run the suite against provider ``name`` (installed or registered in this process)."""
    import telephony_core_pytest as plugin

    if isinstance(fixtures, type):
        key = f"fixtures_{len(vars(_INLINE))}"
        setattr(_INLINE, key, fixtures)
        fixtures = inline_fixtures(key)
    fixtures = fixtures or fixtures_for(name)
    collector = _Collector()
    saved_profile = plugin.selected_profile
    started = time.monotonic()
    _hypothesis_home()
    with tempfile.TemporaryDirectory(prefix="telephony-conformance-") as tmp:
        module = Path(tmp) / f"test_conformance_{name.replace('-', '_').replace('.', '_')}.py"
        module.write_text(textwrap.dedent(_MODULE.format(name=name, fixtures=fixtures)))
        args = [str(module), "--rootdir", tmp, "-c", str(Path(tmp) / "pytest.ini"),
                "-p", "no:cacheprovider", "--import-mode=importlib",
                "--conformance-profile", profile, "-q" if not verbose else "-v", "-rfE",
                "--show-capture=no",  # a leaking provider's log must not reach our output
                # the suite's modules are imported before pytest can rewrite their asserts (they
                # carry their own messages): the warning about it is noise to a user
                "-W", "ignore::pytest.PytestAssertRewriteWarning",
                *pytest_args]
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        if select:
            args += ["-k", select]
        try:
            code = pytest.main(args, plugins=[collector])
        finally:
            plugin.selected_profile = saved_profile
            # forget the generated module: a second run for the same provider name in this
            # process (with other fixtures) must import its own, not the first one's
            for loaded in [k for k, m in sys.modules.items()
                           if str(getattr(m, "__file__", "") or "").startswith(tmp)]:
                del sys.modules[loaded]
    shaped = collector.shaped()
    outcomes = [e["outcome"] for e in collector.results.values()]
    from .profiles import EXAMPLES

    problem = None
    if int(code) == pytest.ExitCode.NO_TESTS_COLLECTED or not collector.items:
        problem = (f"no test matches -k {select!r}: check the expression (names are listed in "
                   "docs/conformance.md)" if select else "no conformance test was collected")
    results = SuiteResults(
        provider=name, profile=profile, fixtures=fixtures, exit_code=int(code),
        passed=int(code) == 0 and "failed" not in outcomes and problem is None,
        problem=problem, skip_reasons=_skip_reasons(collector),
        counts={k: outcomes.count(k) for k in ("passed", "failed", "skipped", "xfailed")},
        examples=EXAMPLES[profile], seconds=round(time.monotonic() - started, 2),
        operations=shaped["operations"], provider_wide=shaped["provider"])
    if report is not None:
        Path(report).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results

"""The conformance properties, as test mixins a provider package subclasses.

``ProviderConformance`` is every property at once; the mixins let a package pick some
(``class TestMoh(ProviderFixtures, OutcomeTests): provider = "apio"``), and
``CAPABILITY_SUITES["hold"]`` is every property restricted to one capability's operations.
Each test is parametrized by operation; an operation the provider does not declare is skipped
with the reason. ``docs/conformance.md`` lists the properties and their example counts.
"""

from __future__ import annotations

import collections
import contextlib
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from ..catalogue import OPERATIONS, Capability, Kind, operations_of
from ..errors import (
    OutcomeUnknown,
    PayloadError,
    TelephonyError,
    UnsupportedOperation,
)
from ..provider import Provider, ProviderSpec, load_object
from ..schemas import load as canonical_schema
from ..schemas import narrowing_problems, problems, undecided_keywords, validator_for
from . import strategies
from .base import Outcome, ProviderFixtures, Session, check_result, run
from .equivalence import EquivalenceTests
from .faults import FAULTS
from .leaks import leaks
from .profiles import settings_for

__all__ = [
    "CAPABILITY_SUITES",
    "DocumentedTests",
    "EquivalenceTests",
    "FaultTests",
    "OutcomeTests",
    "ProviderConformance",
    "ProviderFixtures",
    "StaticTests",
    "UnsupportedTests",
    "ValidationTests",
    "VendorSpecTests",
]

_SECRET_NAMES = re.compile(r"(?i)pass|secret|token|key|hash|credential")


def _hypothesis(prop: str, strategy: Any) -> Callable[[Callable[[Any], None]], Callable[[], None]]:
    """Run the decorated one-argument check on examples of ``strategy`` (profile-sized)."""
    def wrap(check: Callable[[Any], None]) -> Callable[[], None]:
        return settings_for(prop=prop)(given(strategy)(check))
    return wrap


# -- static ------------------------------------------------------------------------------


class StaticTests:
    """Declarations are honest: the provider loads, its schemas narrow the canonical ones,
    every declared operation has a handler, secrets are marked."""

    def test_entry_point_loads(self, spec: ProviderSpec) -> None:
        assert spec.name == self.provider
        found = spec.check()
        assert not found, f"{spec.name}'s declaration is unsound: {'; '.join(found)}"
        impl = spec.implementation
        cls = load_object(impl) if isinstance(impl, str) else impl
        assert isinstance(cls, type) and issubclass(cls, Provider), (
            f"{spec.name}'s implementation {impl!r} is not a Provider subclass")
        if spec.emulator:
            assert callable(spec.emulator_factory())

    def test_operation_has_schema_and_handler(self, spec: ProviderSpec, declared: str,
                                              emulate: Any) -> None:
        schema = spec.schema(declared)
        validator_for(schema)  # a schema that is not valid Draft 2020-12 raises here
        assert schema.get("type", "object") == "object"
        from ..http import HttpProvider

        impl = spec.implementation
        cls = load_object(impl) if isinstance(impl, str) else impl
        if issubclass(cls, HttpProvider) and cls.invoke is HttpProvider.invoke:
            assert declared in cls.routes, (
                f"{spec.name} declares {declared!r} but its routes have no entry for it "
                f"(routes: {', '.join(sorted(cls.routes)) or 'none'})")
            return
        assert cls.invoke is not Provider.invoke, f"{cls.__name__} does not implement invoke()"
        with emulate() as session:  # invoke() is custom: ask it once
            payload = self.sample(session, declared) or _first(spec, declared, self)
            outcome = run(session, declared, payload)
        text = outcome.describe()
        assert "NotImplementedError" not in text and f"KeyError: '{declared}'" not in text, (
            f"{spec.name} declares {declared!r} but has no handler for it: {text}")

    def test_schema_narrows_canonical(self, spec: ProviderSpec, declared: str) -> None:
        narrow = spec.schema(declared)
        canonical = canonical_schema(declared)
        structural = narrowing_problems(narrow, canonical)
        assert not structural, f"{spec.name}.{declared}: {'; '.join(structural)}"
        canonical_validator = validator_for(canonical)

        @_hypothesis("narrowing", strategies.payloads(spec, declared))
        def admitted_payloads_are_canonical(payload: dict[str, Any]) -> None:
            wrong = problems(canonical_validator, payload)
            assert not wrong, (
                f"{spec.name}'s schema for {declared} is wider than the canonical one: it "
                f"admits {payload!r}, which the canonical schema rejects: "
                + "; ".join(map(str, wrong)))

        admitted_payloads_are_canonical()
        # where structure could not decide (a pattern of the provider's own), generate values of
        # that one field: a whole payload's examples would spread over every field
        for where, narrow_field, canonical_field in _undecided_fields(narrow, canonical):
            _field_values_are_canonical(spec.name, declared, where, narrow_field,
                                        canonical_field)()

    def test_config_schema_marks_secrets(self, spec: ProviderSpec, emulate: Any) -> None:
        props = spec.full_config_schema.get("properties", {})
        unmarked = [k for k, v in props.items() if _SECRET_NAMES.search(k)
                    and isinstance(v, dict) and not v.get("writeOnly")
                    and v.get("type") == "string" and "enum" not in v and "const" not in v]
        assert not unmarked, (f"{spec.name}'s config options {unmarked} look like secrets but "
                              "are not marked \"writeOnly\": true")
        with emulate() as session:
            secrets = session.secrets()
            found = leaks(secrets, {"repr(client.config)": repr(session.client.config),
                                    "repr(client)": repr(session.client),
                                    "repr(provider)": repr(session.client.provider)})
        assert not found, "; ".join(found)


def _field_values_are_canonical(name: str, op: str, where: str, narrow: Any,
                                canonical: Any) -> Callable[[], None]:
    """The property: every value the provider admits at ``where`` is a canonical value."""
    check = validator_for(canonical)
    own = validator_for(narrow)
    strategy = st.from_regex(narrow["pattern"], fullmatch=True).filter(own.is_valid)

    @_hypothesis("narrowing", strategy)
    def admitted(value: Any) -> None:
        assert check.is_valid(value), (
            f"{name}'s schema for {op} is wider than the canonical one at {where}: it admits "
            f"{value!r}, which the canonical schema rejects")

    return admitted


def _undecided_fields(narrow: dict[str, Any], canonical: dict[str, Any]
                      ) -> list[tuple[str, Any, Any]]:
    """(path, provider's subschema, canonical subschema) of each string field whose pattern
    structure could not compare (``$.callee``, ``$.prompts[]``); other forms are left to the
    whole-payload generation."""
    found = []
    for entry in undecided_keywords(narrow, canonical):
        where = entry.split(":", 1)[0]
        steps = re.findall(r"\.([A-Za-z0-9_]+)|(\[\])", where.removeprefix("$"))
        if not steps or " " in where:
            continue
        n, c = narrow, canonical
        for name, items in steps:
            key = "items" if items else None
            n = n.get(key) if key else (n.get("properties") or {}).get(name)
            c = c.get(key) if key else (c.get("properties") or {}).get(name)
            if not isinstance(n, dict) or not isinstance(c, dict):
                break
        else:
            if isinstance(n.get("pattern"), str) and n.get("type", "string") == "string":
                found.append((where, n, c))
    return found


def _first(spec: ProviderSpec, op: str, fixtures: Any) -> dict[str, Any]:
    """One valid payload, for properties that need one and have no sample."""
    from hypothesis import Phase, find

    return find(strategies.payloads(spec, op, known=fixtures.addresses(spec),
                                   values=fixtures.known_values), lambda p: True,
                settings=settings_for(prop="outcomes", max_examples=10, phases=[Phase.generate]))


# -- validation --------------------------------------------------------------------------


class ValidationTests:
    """Invalid payloads raise PayloadError naming the field, before any network traffic."""

    def test_invalid_payloads_never_reach_the_wire(self, spec: ProviderSpec, declared: str,
                                                   emulate: Any) -> None:
        with emulate() as session:
            @_hypothesis("validation", strategies.invalid_payloads(spec, declared))
            def refused(mutation: strategies.Mutation) -> None:
                note(str(mutation))
                outcome = run(session, declared, mutation.payload)
                assert isinstance(outcome.error, PayloadError), (
                    f"{spec.name}.{declared} accepted an invalid payload ({mutation}): "
                    f"{outcome.describe()}")
                assert mutation.field in str(outcome.error), (
                    f"the PayloadError for {mutation} does not name the field "
                    f"{mutation.field!r}: {outcome.error}")
                assert session.attempts == 0, (
                    f"{spec.name}.{declared}: an invalid payload ({mutation}) reached the "
                    f"emulator: {[str(r) for r in session.server.requests]}")

            refused()


# -- outcomes ----------------------------------------------------------------------------


class OutcomeTests:
    """Every valid payload ends in the declared result type or a TelephonyError."""

    def test_valid_payloads_end_in_result_or_typed_error(self, spec: ProviderSpec,
                                                         declared: str, emulate: Any,
                                                         debug_logs: Any,
                                                         record_property: Any) -> None:
        seen: collections.Counter[str] = collections.Counter()
        validator = validator_for(spec.schema(declared))
        with emulate() as session:
            strategy = strategies.payloads(spec, declared, known=self.addresses(spec),
                                          values=self.known_values)

            def check(payload: dict[str, Any]) -> None:
                outcome = run(session, declared, payload)
                seen[_label(outcome)] += 1
                with contextlib.suppress(Exception):  # note() only inside Hypothesis
                    note(f"{declared}({payload!r}) -> {outcome.describe()}")
                wrong = check_result(spec, declared, outcome)
                assert wrong is None, f"{spec.name}.{declared}({payload!r}) {wrong}"
                errors = session.server.errors if session.server is not None else []
                assert not errors, (f"the {spec.name} emulator failed on {declared}"
                                    f"({payload!r}): {errors[-1]!r}")
                _assert_no_leak(session, debug_logs, outcome)

            def prepared() -> dict[str, Any] | None:
                """The sample's payload, after its preparation (placing a call...) ran."""
                try:
                    return dict(self.sample(session, declared) or {}) or None
                except TelephonyError:
                    return None  # (the state may be there already, or the model refused)

            @_hypothesis("outcomes", st.tuples(strategy, st.booleans()))
            def typed(drawn: tuple[dict[str, Any], bool]) -> None:
                payload, use_sample = drawn
                sample = prepared() if declared in self.samples else None
                if use_sample and sample:  # the live ids of the sample, other fields generated
                    mixed = {**payload, **sample}
                    payload = mixed if validator.is_valid(mixed) else sample
                check(payload)

            try:
                first = prepared() if declared in self.samples else None
                if first:  # the sample itself, so that the success path is always exercised
                    check(first)
                typed()
            finally:  # what the examples reached, for the report: successes and refusals
                record_property("exercised", dict(seen))


def _label(outcome: Outcome) -> str:
    error = outcome.error
    if error is None:
        return "ok"
    category = getattr(error, "category", None)
    return f"{type(error).__name__}:{category}" if category else type(error).__name__


def _assert_no_leak(session: Session, caplog: Any, *outcomes: Outcome) -> None:
    places = {"the log": caplog.text}
    for index, outcome in enumerate(outcomes):
        if outcome.error is not None:
            places[f"str(error {index})"] = str(outcome.error)
            places[f"repr(error {index})"] = repr(outcome.error)
        else:
            places[f"repr(result {index})"] = repr(outcome.result)
    found = leaks(session.secrets(), places)
    assert not found, "a secret leaked: " + "; ".join(found)


# -- undeclared operations ---------------------------------------------------------------


class UnsupportedTests:
    """Operations the provider does not declare raise UnsupportedOperation, sending nothing."""

    def test_undeclared_operation_is_refused(self, spec: ProviderSpec, undeclared_operation: str,
                                             emulate: Any) -> None:
        if undeclared_operation == "(none)":
            pytest.skip(f"{spec.name} declares every operation of the catalogue")
        with emulate() as session:
            assert not session.client.supports(undeclared_operation)
            payload = _canonical_example(undeclared_operation)
            outcome = run(session, undeclared_operation, payload)
            assert isinstance(outcome.error, UnsupportedOperation), (
                f"{spec.name}.{undeclared_operation} is not declared, yet it gave "
                f"{outcome.describe()}")
            assert spec.name in str(outcome.error)
            assert session.attempts == 0


#: One valid canonical payload per operation (for undeclared operations: the refusal must come
#: from the declaration, not from validation).
CANONICAL_EXAMPLES: dict[str, dict[str, Any]] = {
    "dial": {"caller": "ext:1000", "callee": "tel:41000"},
    "transfer": {"call": "ext:1000", "to": "ext:1001"},
    "hold": {"call": "ext:1000"}, "unhold": {"call": "ext:1000"},
    "monitor": {"supervisor": "ext:1001", "call": "ext:1000", "mode": "listen"},
    "play_prompt": {"to": "tel:41000", "prompts": ["welcome"]},
    "get_music_on_hold": {"scope": {"user": "1000"}},
    "set_music_on_hold": {"scope": {"user": "1000"}, "active": True},
    "send_sms": {"to": "tel:41000", "text": "hello"},
    "hangup": {"call": "ext:1000"}, "mute": {"call": "ext:1000"},
    "unmute": {"call": "ext:1000"}, "list_calls": {},
    "accept_call": {"call": "call:1"}, "reject_call": {"call": "call:1"},
}


def _canonical_example(op: str) -> dict[str, Any]:
    return dict(CANONICAL_EXAMPLES[op])


# -- faults ------------------------------------------------------------------------------


#: (provider, operation, test class) -> the fault-free run every fault of it is compared with
_BASELINES: dict[tuple[str, str, type, str],
                 tuple[bool, Any, Outcome, list[Any], type, int | None]] = {}

_VOLATILE_QUERY = re.compile(r"(?i)token|sign|time|nonce|key|secret|auth|session|ts$")


def _request_key(request: Any) -> tuple[Any, ...]:
    """What identifies "the same request" across runs (RPC APIs put the method in the query;
    tokens, signatures and timestamps change between runs)."""
    stable = tuple(sorted((k, v) for k, v in request.query_list if not _VOLATILE_QUERY.search(k)))
    return (request.method, request.path, stable)


def _has_sessions(app_type: type) -> bool:
    """Whether the emulator implements ``expire_tokens`` (the kit's base has a no-op one)."""
    from ..emulation.app import EmulatorApp

    found = getattr(app_type, "expire_tokens", None)
    return callable(found) and found is not EmulatorApp.expire_tokens


def _fault_options(fixtures: Any, deadline: float | None = None) -> dict[str, Any]:
    """Client options of a faulted run: the fault's own deadline (a trickled or stalled reply
    ends only by it, so it costs about a second, not the fixtures' eight), else the profile's
    (``ci``: short for every fault)."""
    from .profiles import FAULT_DEADLINE, selected

    limit = deadline if deadline is not None else FAULT_DEADLINE.get(selected())
    configured = fixtures.client_options.get("deadline")
    if limit is None or (configured is not None and configured <= limit):
        return {}
    return {"deadline": limit}


class FaultTests:
    """Under each fault of the emulator kit: non-idempotent operations reach the emulator at
    most once and end in OutcomeUnknown or a typed error; reads and idempotent operations
    recover; no secret leaks on any path."""

    def test_fault(self, spec: ProviderSpec, declared: str, fault_name: str, emulate: Any,
                   debug_logs: Any) -> None:
        if not spec.emulator:
            pytest.skip(f"{spec.name} is in-process: there is no wire to inject faults into")
        case = FAULTS[fault_name]
        kind = OPERATIONS[declared].kind
        timeout = float(self.client_options.get("timeout", 0.4))

        client_kind = getattr(emulate, "kind", "sync")  # (parametrized: see .clients)
        baseline_key = (spec.name, declared, type(self), client_kind)
        if baseline_key not in _BASELINES:
            with emulate() as session:  # the baseline: what the operation does without a fault
                payload = self.sample(session, declared)
                sampled = payload is not None
                if payload is None:
                    payload = _first(spec, declared, self)
                session.server.clear()
                outcome = run(session, declared, payload)
                _BASELINES[baseline_key] = (sampled, payload, outcome, session.server.requests,
                                            type(session.app), self.effects(session))
        sampled, payload, baseline, footprint, app_type, acted = _BASELINES[baseline_key]
        if not footprint:
            pytest.skip(f"{spec.name}.{declared}({payload!r}) sends no request "
                        f"({baseline.describe()})")
        effect = footprint[-1]
        if fault_name == "expired_token" and not _has_sessions(app_type):
            pytest.skip(f"the {spec.name} emulator has no sessions to expire (it does not "
                        "implement expire_tokens())")

        with emulate(**_fault_options(self, case.deadline)) as session:
            again = self.sample(session, declared) if sampled else payload
            session.server.clear()
            session.server.inject(case.make(timeout), path=effect.path, method=effect.method,
                                  times=1)
            outcome = run(session, declared, again)
            seen = session.server.requests
            acted_now = self.effects(session)
            _assert_no_leak(session, debug_logs, baseline, outcome)

        trace = (f"{spec.name}.{declared}({again!r}) under {fault_name} ({client_kind} client): "
                 f"{outcome.describe()}; "
                 f"requests: {[str(r) for r in seen]}; baseline: {baseline.describe()}")
        wrong = check_result(spec, declared, outcome)
        assert wrong is None, f"{trace}: {wrong}"
        same = [r for r in seen if _request_key(r) == _request_key(effect)]
        allowed = sum(1 for r in footprint if _request_key(r) == _request_key(effect))
        relogin = fault_name == "expired_token" and len(seen) > len(same)

        if kind is Kind.NON_IDEMPOTENT and declared in _retry_safe(session.client):
            _assert_safe_resends(trace, same, acted, acted_now, baseline, outcome)
            if baseline.ok and case.recovers:  # the vendor answers a repeat as the first
                assert outcome.ok, (
                    f"{trace}: a retry_safe re-send must end as the fault-free run did (a "
                    "de-duplicating vendor answers a repeated key with the first result)")
            return
        if kind is Kind.NON_IDEMPOTENT:
            limit = allowed + (1 if relogin else 0)
            assert len(same) <= limit, (
                f"{trace}: a non-idempotent operation was sent {len(same)} times (at most "
                f"{limit} allowed): it could place a second call")
            if case.reply_lost and case.app_runs:
                assert isinstance(outcome.error, OutcomeUnknown), (
                    f"{trace}: the request was processed but its reply lost; expected "
                    "OutcomeUnknown")
            if fault_name == "expired_token" and baseline.ok:
                assert outcome.ok, f"{trace}: an expired session must lead to a new login"
            return
        # reads and idempotent operations: a retry can recover
        assert not isinstance(outcome.error, OutcomeUnknown), (
            f"{trace}: OutcomeUnknown is for non-idempotent operations; a {kind.value} "
            "operation is retried")
        # (an idempotent operation whose first request was processed may be told, when retried,
        # that the call is gone: check_result above already allowed that typed error)
        if baseline.ok and case.recovers and (not case.app_runs or kind is Kind.READ
                                              or fault_name == "expired_token"):
            assert outcome.ok, f"{trace}: expected a retry to recover the baseline outcome"
        if not baseline.ok:
            warnings.warn(f"{spec.name}.{declared}: recovery under {fault_name} not proven, "
                          f"because the baseline failed ({baseline.describe()}); give the "
                          "fixtures a sample payload that succeeds", stacklevel=1)


_KEY_HEADER = re.compile(r"(?i)idempot|request-id|command-id")


def _retry_safe(client: Any) -> frozenset[str]:
    return frozenset(getattr(client.provider, "retry_safe", ()) or ())


def _resend_identity(request: Any) -> tuple[Any, ...]:
    """What must not change when a retry-safe request is re-sent: method, path, stable query,
    the body bytes (where the vendor key travels) and any idempotency-key header."""
    keys = tuple(sorted((k.lower(), v) for k, v in (request.headers or {}).items()
                        if _KEY_HEADER.search(k)))
    return (*_request_key(request), request.body, keys)


def _assert_safe_resends(trace: str, same: list[Any], acted: int | None, acted_now: int | None,
                         baseline: Outcome, outcome: Outcome) -> None:
    """A ``retry_safe`` operation may be re-sent, but only as the very same request (the same
    vendor key), and the emulator must act once: never more than the fault-free run did, and
    as much when both ended well."""
    first = same[0] if same else None
    for index, request in enumerate(same[1:], start=2):
        assert _resend_identity(request) == _resend_identity(first), (
            f"{trace}: re-send {index} of a retry_safe operation differs from the first "
            f"request (body {first.body!r} then {request.body!r}): a vendor de-duplicates "
            "only an identical request with the same key")
    if acted is None or acted_now is None:
        warnings.warn(f"{trace}: the emulator's effects are not measurable (override "
                      "ProviderFixtures.effects), so acting once is not proven", stacklevel=2)
        return
    assert acted_now <= acted, (
        f"{trace}: the emulator acted {acted_now - acted + 1} times where the fault-free run "
        f"acted once ({acted} -> {acted_now} calls/messages): the re-sends were not "
        "de-duplicated")
    if baseline.ok and outcome.ok:
        assert acted_now == acted, f"{trace}: succeeded, yet the emulator did not act"


# -- documented exchanges ------------------------------------------------------------------


class DocumentedTests:
    """The vendor's own samples hold on both sides: the provider sends the documented requests
    and reads the documented replies and reports; the emulator answers documented requests with
    replies of the documented shape (see :mod:`.documented`)."""

    @staticmethod
    def _no_exchanges(spec: ProviderSpec) -> None:
        pytest.skip(f"{spec.name} ships no documented exchanges (tests/documented/*.json or the "
                    "fixtures' documented): its wire format rests on its own reading alone")

    def test_documented_provider_side(self, spec: ProviderSpec, documented_exchange: Any) -> None:
        from .documented import check_provider, describe

        if documented_exchange is None:
            self._no_exchanges(spec)
        found = check_provider(spec, documented_exchange, self.client_options)
        assert not found, describe(documented_exchange, found, f"{spec.name} provider")

    def test_documented_emulator_side(self, spec: ProviderSpec, documented_exchange: Any,
                                      request: pytest.FixtureRequest) -> None:
        from .documented import NO_RENDER, check_emulator, describe

        if documented_exchange is None:
            self._no_exchanges(spec)
        if not spec.emulator:
            pytest.skip(f"{spec.name} ships no emulator")
        gap = self.documented_emulator_gaps.get(documented_exchange.name)
        if gap is not None:  # a known gap, said with its reason; strict, so it cannot go stale
            request.node.add_marker(pytest.mark.xfail(reason=gap, strict=True))
        found = check_emulator(self, spec, documented_exchange)
        if documented_exchange.operation is None and found and NO_RENDER in found[0]:
            pytest.skip(f"{spec.name}'s emulator renders no reports (render_event), so the "
                        "documented report shape cannot be compared")
        assert not found, describe(documented_exchange, found, f"{spec.name} emulator")


# -- vendor spec ---------------------------------------------------------------------------


class VendorSpecTests:
    """The wire traffic of each declared operation keeps the vendor's published spec (every
    session of every property is checked too; this property makes sure each operation is)."""

    def test_traffic_matches_vendor_spec(self, spec: ProviderSpec, declared: str,
                                         emulate: Any) -> None:
        if not self.vendor_spec:
            pytest.skip(f"{spec.name}'s fixtures declare no vendor_spec (an OpenAPI or Swagger "
                        "description the vendor publishes)")
        if not spec.emulator:
            pytest.skip(f"{spec.name} ships no emulator")
        with emulate() as session:
            payload = self.sample(session, declared) or _first(spec, declared, self)
            session.server.clear()
            outcome = run(session, declared, payload)
            assert session.server.requests, (
                f"{spec.name}.{declared}({payload!r}) sent nothing to check against the vendor "
                f"spec ({outcome.describe()})")


# -- the whole suite ---------------------------------------------------------------------


class ProviderConformance(ProviderFixtures, StaticTests, ValidationTests, OutcomeTests,
                          UnsupportedTests, FaultTests, EquivalenceTests, DocumentedTests,
                          VendorSpecTests):
    """Every conformance property. Subclass it and set ``provider``::

        class TestAcmeConformance(ProviderConformance):
            provider = "acme"
    """


def _capability_suite(capability: Capability) -> type:
    ops = frozenset(operations_of(capability))
    return type(f"{capability.value.title().replace('_', '')}Conformance",
                (ProviderFixtures, StaticTests, ValidationTests, OutcomeTests, FaultTests),
                {"only_operations": ops, "__doc__": f"The per-operation properties, for the "
                 f"operations of capability {capability.value!r} only."})


#: Per-capability mixins: ``class TestHold(CAPABILITY_SUITES["hold"]): provider = "x"``.
CAPABILITY_SUITES: dict[str, type] = {
    c.value: _capability_suite(c) for c in Capability if operations_of(c)}


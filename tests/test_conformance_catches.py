"""The suite catches broken providers: deliberately broken copies of the example provider.

Each copy is registered in-process (never installed) and the relevant property is run through
the same runner as ``telephony conformance``; the test asserts that the property FAILS, and
for the right reason. A suite that passed these copies would be worthless.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest
from telephony_example.conformance import Fixtures
from telephony_example.emulator import ExampleEmulator
from telephony_example.provider import ExampleProvider, _dial
from telephony_example.spec import SPEC as EXAMPLE

from telephony_core.emulation import route
from telephony_core.errors import ProviderError, TransportError
from telephony_core.provider import ProviderSpec
from telephony_core.results import Ack, CallRef
from telephony_core.testing.runner import run_suite
from telephony_core.wire import Route, WireRequest
from tests.broken_copies import copy_of_example, register

FIXTURES = "telephony_example.conformance:Fixtures"
#: equivalence explores random programs; a fixed seed keeps these tests of the suite repeatable
SEEDED = ("--hypothesis-seed=1",)


# -- the broken copies ---------------------------------------------------------------------


def dial_twice(provider, payload):
    """An Exchange that yields the dial again when the first one failed in transit: a second
    call, since the Example PBX takes no idempotency key."""
    request = _dial(provider, payload)
    try:
        reply = yield request
    except TransportError:
        reply = yield request
    return CallRef(provider.name, provider.decode(reply, None)["id"])


class RetryingProvider(ExampleProvider):
    """Re-sends a dial that failed in transit, from inside its own exchange."""

    routes = {**ExampleProvider.routes, "dial": dial_twice}


class LeakyLogProvider(ExampleProvider):
    """Logs its password through a plain (unredacted) logger when it logs in."""

    def login(self):
        logging.getLogger("leaky_example").debug(
            "logging in as %s with %s", self.config["username"], self.config.secret("password"))
        return (yield from super().login())


class BasicLeakProvider(ExampleProvider):
    """Logs the Basic credential it would build for user "api" (3 letters) through a plain
    logger: the password's base64 sits at an alignment that base64 of the password alone misses."""

    def login(self):
        import base64

        credential = f"{self.config['username']}:{self.config.secret('password')}"
        logging.getLogger("leaky_basic").debug(
            "would authorize with %s", base64.b64encode(credential.encode()).decode())
        return (yield from super().login())


class LeakyErrorProvider(ExampleProvider):
    """Keeps the session token it is given and puts it in the message of a server error."""

    def attach(self, request, token):
        self.last_token = token.value
        return super().attach(request, token)

    def decode(self, reply, op):
        if reply.status >= 500:
            raise ProviderError(f"the PBX failed for session {self.last_token}",
                                category="transient")
        return super().decode(reply, op)


def wide_schema_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package whose dial schema takes letters in a callee number (the canonical one does not)."""
    package = tmp_path / "wide_example_schemas"
    (package / "schemas").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "schemas" / "dial.json").write_text(json.dumps({
        "type": "object",
        "properties": {
            "caller": {"$ref": "urn:telephony-core:defs#/$defs/ext"},
            "callee": {"type": "string", "pattern": "^(ext|tel):[0-9A-Za-z]{1,20}$",
                       "description": "a number or address, letters allowed (a pattern "
                                      "structure cannot compare: generation finds it)"},
        },
        "required": ["caller", "callee"], "additionalProperties": False}))
    hangup = Path(__import__("telephony_example").__file__).parent / "schemas" / "hangup.json"
    (package / "schemas" / "hangup.json").write_text(hangup.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    return "wide_example_schemas"


# -- the suite catches them ------------------------------------------------------------------


def test_the_unbroken_example_passes_the_same_properties(registered):
    register(registered, copy_of_example("example-control", ExampleProvider))
    results = run_suite("example-control", fixtures=FIXTURES,
                        select="test_fault and dial or test_valid_payloads and dial")
    assert results.passed, json.dumps(results, indent=1)
    assert results.result("faults.reset_after_read", "dial")["outcome"] == "passed"
    assert results.result("outcomes", "dial")["outcome"] == "passed"


def test_a_provider_that_retries_a_dial_is_caught(registered):
    register(registered, copy_of_example("example-retrying", RetryingProvider))
    results = run_suite("example-retrying", fixtures=FIXTURES,
                        select="test_fault and dial and (reset_after_read or delay)")
    assert not results.passed
    for fault in ("reset_after_read", "delay"):
        entry = results.result(f"faults.{fault}", "dial")
        assert entry["outcome"] == "failed", entry
        assert "a non-idempotent operation was sent 2 times (at most 1 allowed)" in (
            entry["message"])
    assert results["exit_code"] == 1


def test_a_schema_wider_than_the_canonical_one_is_caught(registered, tmp_path, monkeypatch):
    package = wide_schema_package(tmp_path, monkeypatch)
    register(registered, copy_of_example(
        "example-wide", ExampleProvider, package=package,
        operations={**EXAMPLE.operations, "dial": "schemas/dial.json"}))
    results = run_suite("example-wide", fixtures=FIXTURES, select="test_schema_narrows")
    entry = results.result("static.narrowing", "dial")
    assert entry["outcome"] == "failed", entry
    assert "example-wide's schema for dial is wider than the canonical one" in entry["message"]
    assert "$.callee" in entry["message"]
    assert results.result("static.narrowing", "hangup")["outcome"] == "passed"


def test_a_schema_with_a_field_the_canonical_one_lacks_is_refused_at_load(registered, tmp_path,
                                                                          monkeypatch):
    package = tmp_path / "extra_field_schemas"
    (package / "schemas").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "schemas" / "hangup.json").write_text(json.dumps({
        "type": "object", "properties": {"call": {"type": "string"}, "reason": {"type": "string"}},
        "required": ["call"], "additionalProperties": False}))
    dial = Path(__import__("telephony_example").__file__).parent / "schemas" / "dial.json"
    (package / "schemas" / "dial.json").write_text(dial.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    register(registered, copy_of_example(
        "example-extra", ExampleProvider, package="extra_field_schemas",
        operations={**EXAMPLE.operations, "hangup": "schemas/hangup.json"}))
    results = run_suite("example-extra", fixtures=FIXTURES, select="test_entry_point_loads")
    entry = results.result("static.entry_point")
    assert entry["outcome"] == "failed", entry
    assert "failed to load: unsound declaration: hangup: fields not in the canonical schema: " \
        "reason" in entry["message"]


def widened_bounds_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ARI author's widening: prompts maxItems 20 -> 50, a reference maxLength 128 -> 500."""
    package = tmp_path / "widened_bounds_schemas"
    (package / "schemas").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    defs = "urn:telephony-core:defs#/$defs/"
    (package / "schemas" / "play_prompt.json").write_text(json.dumps({
        "type": "object",
        "properties": {"to": {"$ref": defs + "endpoint"},
                       "prompts": {"type": "array", "items": {"$ref": defs + "prompt"},
                                   "minItems": 1, "maxItems": 50}},
        "required": ["to", "prompts"], "additionalProperties": False}))
    (package / "schemas" / "dial.json").write_text(json.dumps({
        "type": "object",
        "properties": {"caller": {"$ref": defs + "ext"}, "callee": {"$ref": defs + "endpoint"},
                       "reference": {"type": "string", "minLength": 1, "maxLength": 500}},
        "required": ["caller", "callee"], "additionalProperties": False}))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "widened_bounds_schemas"


def test_widened_bounds_are_caught_every_time(registered, tmp_path, monkeypatch):
    package = widened_bounds_package(tmp_path, monkeypatch)
    spec = copy_of_example("example-widened", ExampleProvider, package=package, operations={
        "dial": "schemas/dial.json", "play_prompt": "schemas/play_prompt.json"})
    assert spec.check() == [
        "dial: $.reference: maxLength 500 is wider than the canonical 128",
        "play_prompt: $.prompts: maxItems 50 is wider than the canonical 20"]
    register(registered, spec)
    for seed in range(10):  # decided structurally: no seed lets it through
        results = run_suite("example-widened", fixtures=FIXTURES, select="test_schema_narrows",
                            pytest_args=(f"--hypothesis-seed={seed}",))
        for op, message in (("dial", "$.reference: maxLength 500 is wider than the canonical "
                             "128"), ("play_prompt", "$.prompts: maxItems 50 is wider than the "
                                      "canonical 20")):
            entry = results.result("static.narrowing", op)
            assert entry["outcome"] == "failed", (seed, entry)
            assert message in entry["message"], (seed, entry)


def test_narrowing_decides_every_widening_keyword():
    from telephony_core.schemas import narrowing_problems, undecided_keywords

    canonical = {"type": "object", "additionalProperties": False, "required": ["a"],
                 "properties": {
                     "a": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
                     "b": {"enum": ["x", "y"]},
                     "c": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"},
                     "d": {"type": "object", "additionalProperties": False, "required": ["k"],
                           "properties": {"k": {"type": "boolean"}}},
                     "e": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
                           "minItems": 1}}}
    narrow = {"type": "object", "additionalProperties": False, "required": ["a"],
              "properties": {
                  "a": {"type": "number", "minimum": -1, "maximum": 10},
                  "b": {"enum": ["x", "z"]},
                  "c": {"type": "string", "minLength": 1, "pattern": "^[a-z0-9]+$"},
                  "d": {"type": "object", "properties": {"k": {"type": "boolean"},
                                                         "j": {"type": "string"}}},
                  "e": {"type": "array", "items": {"type": ["string", "null"]}}}}
    assert narrowing_problems(narrow, canonical) == [
        "$.a: type ['number'] is not in the canonical ['integer']",
        "$.a: the lower bound -1 (inclusive) is wider than the canonical 0 (inclusive)",
        "$.a: the upper bound 10 (inclusive) is wider than the canonical 10 (exclusive)",
        "$.b: allows 'z', which the canonical schema refuses",
        "$.c: minLength 1 is wider than the canonical 2",
        "$.d: canonical required fields made optional: k",
        "$.d: field 'j' is not in the canonical schema",
        "$.d: additionalProperties must be false (the canonical object is closed)",
        "$.e: minItems 0 is wider than the canonical 1",
        "$.e: uniqueItems is not set; the canonical schema sets it",
        "$.e[]: type ['null'] is not in the canonical ['string']"]
    assert undecided_keywords(narrow, canonical) == ["$.c: pattern"]
    # an anchored pattern bounds the length by itself (Twilio's sender: E.164 or an MG SID)
    bounded = {"type": "string", "minLength": 1, "maxLength": 64}
    e164 = {"type": "string", "pattern": "^(\\+[1-9][0-9]{1,14}|MG[0-9a-fA-F]{32})$"}
    closed = {"type": "object", "additionalProperties": False}
    assert narrowing_problems({**closed, "properties": {"s": e164}},
                              {**closed, "properties": {"s": bounded}}) == []
    loose = {"type": "string", "pattern": "^[0-9]+$"}  # unbounded: still a widening
    assert narrowing_problems({**closed, "properties": {"s": loose}},
                              {**closed, "properties": {"s": bounded}}) == [
        "$.s: maxLength unbounded is wider than the canonical 64"]
    same = narrowing_problems(canonical, canonical)
    assert same == []


def test_a_provider_that_logs_its_password_is_caught(registered):
    register(registered, copy_of_example("example-leaky-log", LeakyLogProvider))
    results = run_suite("example-leaky-log", fixtures=FIXTURES,
                        select="test_valid_payloads and list_calls")
    entry = results.result("outcomes", "list_calls")
    assert entry["outcome"] == "failed", entry
    assert "a secret leaked: the log contains the secret 'can...'" in entry["message"]
    assert "canary-5ecret-7d1e" not in entry["message"]  # the report must not leak it either


def test_a_basic_credential_of_a_three_letter_user_is_caught(registered):
    register(registered, copy_of_example("example-basic-leak", BasicLeakProvider))
    results = run_suite("example-basic-leak", fixtures=FIXTURES,
                        select="test_valid_payloads and list_calls")
    entry = results.result("outcomes", "list_calls")
    assert entry["outcome"] == "failed", entry
    assert "a secret leaked: the log contains the secret 'can...' (an encoded form" in (
        entry["message"])
    assert "canary-5ecret-7d1e" not in entry["message"]


def test_a_provider_that_puts_its_token_in_an_error_is_caught(registered):
    register(registered, copy_of_example("example-leaky-error", LeakyErrorProvider))
    results = run_suite("example-leaky-error", fixtures=FIXTURES,
                        select="test_fault and dial and http_error")
    entry = results.result("faults.http_error", "dial")
    assert entry["outcome"] == "failed", entry
    assert "a secret leaked: str(error 1) contains the secret" in entry["message"]


def test_the_report_is_written_as_json(registered, tmp_path):
    register(registered, copy_of_example("example-report", ExampleProvider))
    report = tmp_path / "report.json"
    run_suite("example-report", fixtures=FIXTURES, report=report,
              select="test_undeclared or test_entry_point")
    data = json.loads(report.read_text())
    assert data["provider"] == "example-report" and data["profile"] == "conformance"
    assert data["passed"] is True
    assert data["operations"]["send_sms"]["undeclared"] == {"outcome": "passed"}
    assert data["provider_wide"]["static.entry_point"] == {"outcome": "passed"}
    assert "dial" not in data["operations"]  # declared: no undeclared test for it
    assert data["examples"]["outcomes"] >= 10




# -- model equivalence (the example's own model is the reference here) -------------------------


class AgainstTheExample(Fixtures):
    """Compare a copy with the unbroken example (until the example runs on the simulator)."""

    reference = "example"


class LazyHangupProvider(ExampleProvider):
    """Says the call is hung up without telling the PBX."""

    def hangup(self, payload):  # an Exchange that yields no request at all
        return Ack(self.name)
        yield  # pragma: no cover - makes this a generator

    routes = {**ExampleProvider.routes, "hangup": hangup}


def test_an_unbroken_copy_is_equivalent_to_the_example(registered):
    register(registered, copy_of_example("example-same", ExampleProvider))
    results = run_suite("example-same", fixtures=AgainstTheExample, select="test_model_equiv",
                        pytest_args=SEEDED)
    assert results.result("equivalence") == {"outcome": "passed"}, results


def test_a_provider_that_does_not_hang_up_is_caught_by_model_equivalence(registered):
    register(registered, copy_of_example("example-lazy", LazyHangupProvider))
    results = run_suite("example-lazy", fixtures=AgainstTheExample, select="test_model_equiv",
                        pytest_args=SEEDED)
    entry = results.result("equivalence")
    assert entry["outcome"] == "failed", entry
    # either it claims to hang up a call that does not exist, or a live call stays up
    assert ("example-lazy's model and example's disagree on calls" in entry["message"]
            or "example-lazy gave result Ack(provider='example-lazy') but example gave "
               "ProviderError" in entry["message"]), entry["message"]


class PartylessEventsProvider(ExampleProvider):
    """Reads the parties of a webhook report from keys the report does not have: it loses them."""

    def parse_event(self, body, headers):
        return [attrs.evolve(e, parties=()) for e in super().parse_event(body, headers)]


def test_a_provider_that_misreads_its_webhooks_is_caught(registered):
    register(registered, copy_of_example("example-partyless", PartylessEventsProvider))
    results = run_suite("example-partyless", fixtures=AgainstTheExample,
                        select="test_model_equiv",
                        pytest_args=SEEDED)
    entry = results.result("equivalence")
    assert entry["outcome"] == "failed", entry
    assert "was reported as" in entry["message"]
    assert "which example-partyless.parse_event turned into [('call." in entry["message"]


@pytest.mark.parametrize("provider", ["example", "sim"])
def test_every_declared_operation_reaches_its_success_path(provider):
    """A sample's preparation returns the payload with the live call id; the outcomes property
    runs it, so an operation that needs a call is not only ever refused (not_found)."""
    results = run_suite(provider, select="test_valid_payloads", pytest_args=SEEDED)
    assert results.passed, results
    reached = {op: entry["outcomes"].get("exercised", {})
               for op, entry in results["operations"].items()
               if entry.get("outcomes", {}).get("outcome") == "passed"}
    assert reached and all(counts.get("ok") for counts in reached.values()), reached


# -- both clients ------------------------------------------------------------------------------


def test_the_async_client_runs_the_fault_and_outcome_properties(registered):
    """The same properties, through AsyncClient, reported under their own names."""
    register(registered, copy_of_example("example-both", ExampleProvider))
    results = run_suite("example-both", fixtures=FIXTURES,
                        select="test_fault and dial and (reset_after_read or stall) "
                               "or test_valid_payloads and dial")
    assert results.passed, json.dumps(results, indent=1)
    for prop in ("faults.reset_after_read", "faults.async.reset_after_read",
                 "faults.stall", "faults.async.stall", "outcomes", "outcomes.async"):
        assert results.result(prop, "dial")["outcome"] == "passed", prop
    assert results.result("outcomes.async", "dial")["exercised"].get("ok"), results


def test_a_dial_re_sent_is_caught_through_the_async_client_too(registered):
    register(registered, copy_of_example("example-retrying-async", RetryingProvider))
    results = run_suite("example-retrying-async", fixtures=FIXTURES,
                        select="test_fault and dial and reset_after_read")
    for prop in ("faults.reset_after_read", "faults.async.reset_after_read"):
        entry = results.result(prop, "dial")
        assert entry["outcome"] == "failed", (prop, entry)
        assert "a non-idempotent operation was sent 2 times (at most 1 allowed)" in (
            entry["message"])
    assert "(async client)" in results.result("faults.async.reset_after_read", "dial")["message"]


class FirstContractProvider(ExampleProvider):
    """The example as plugin API 1 wrote it: its own login through ``self.transport``."""

    def authorize(self, request):
        if not getattr(self, "token", None):
            reply = self.transport.send(WireRequest("POST", "/api/login", json={
                "username": self.config["username"],
                "password": self.config.secret("password")}))
            self.token = reply.json()["token"]
            self.add_secret(self.token)
        return request.with_headers({"Authorization": f"Bearer {self.token}"})


def test_a_plugin_api_1_provider_runs_through_the_sync_client_only(registered):
    spec = attrs.evolve(copy_of_example("example-first", FirstContractProvider), plugin_api=1)
    register(registered, spec)
    results = run_suite("example-first", fixtures=FIXTURES,
                        select="test_fault and list_calls and http_error "
                               "or test_valid_payloads and list_calls")
    assert results.result("faults.http_error", "list_calls")["outcome"] == "passed", results
    assert results.result("outcomes", "list_calls")["outcome"] == "passed", results
    for prop in ("faults.async.http_error", "outcomes.async"):
        assert results.result(prop, "list_calls") == {
            "outcome": "skipped", "reason": "plugin API 1: sync client only"}, results


# -- retry_safe operations: re-sent identically, acted on once -----------------------------------


def keyed_dial(provider, payload):
    """The example's dial with the operation's idempotency key in a header (the same key on
    every attempt: telephony_core.context.current())."""
    from telephony_core.context import current

    return _dial(provider, payload).with_headers({"Idempotency-Key": current().idempotency_key})


class KeyedProvider(ExampleProvider):
    """Declares dial retry_safe and sends the operation's key with it."""

    retry_safe = frozenset({"dial"})
    routes = {**ExampleProvider.routes, "dial": Route(
        keyed_dial, ExampleProvider.routes["dial"].from_reply)}


class FreshKeyProvider(KeyedProvider):
    """Declares dial retry_safe but draws a new key on every attempt: no vendor de-duplicates
    that."""

    routes = {**ExampleProvider.routes, "dial": Route(
        lambda p, payload: _dial(p, payload).with_headers({"Idempotency-Key": uuid.uuid4().hex}),
        ExampleProvider.routes["dial"].from_reply)}


class DeduplicatingEmulator(ExampleEmulator):
    """An Example PBX that de-duplicates dials on the Idempotency-Key header."""

    def __init__(self, pbx=None, password="x"):
        super().__init__(pbx, password=password)
        self.seen_keys: dict[str, Any] = {}

    @route("POST", "/api/calls")
    def dial(self, request):
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            if key in self.seen_keys:
                return self.seen_keys[key]
        answer = super().dial(request)
        if key and answer[1] == 201:
            with self.lock:
                self.seen_keys[key] = answer
        return answer


def keyed_copy(name: str, implementation: type, emulator: type) -> ProviderSpec:
    class Emulator(emulator):
        def connect_url(self, base_url: str) -> str:
            return super().connect_url(base_url).replace("example://", f"{name}://")

    return attrs.evolve(copy_of_example(name, implementation),
                        emulator=lambda pbx=None, password="x": Emulator(pbx, password=password))


RESENDING_FAULTS = "test_fault and dial and (reset_after_read or delay or reset_before_read)"


def test_a_retry_safe_dial_re_sent_with_its_key_to_a_deduplicating_pbx_passes(registered):
    register(registered, keyed_copy("example-keyed", KeyedProvider, DeduplicatingEmulator))
    results = run_suite("example-keyed", fixtures=FIXTURES, select=RESENDING_FAULTS)
    assert results.passed, json.dumps(results, indent=1)
    for kind in ("", "async."):
        assert results.result(f"faults.{kind}reset_after_read", "dial")["outcome"] == "passed"


def test_a_retry_safe_dial_the_pbx_acts_on_twice_is_caught(registered):
    register(registered, keyed_copy("example-keyed-twice", KeyedProvider, ExampleEmulator))
    results = run_suite("example-keyed-twice", fixtures=FIXTURES,
                        select="test_fault and dial and reset_after_read")
    for kind in ("", "async."):
        entry = results.result(f"faults.{kind}reset_after_read", "dial")
        assert entry["outcome"] == "failed", entry
        # the model refuses the repeated dial (the caller is on the first call), so the
        # caller is told "busy" about a call that was placed
        assert "a retry_safe re-send must end as the fault-free run did" in entry["message"]


def test_the_act_once_check_counts_the_emulators_effects():
    """A model that did act twice (two messages sent, say) fails; once passes."""
    from telephony_core.testing.base import Outcome
    from telephony_core.testing.suite import _assert_safe_resends

    ok = Outcome(result="ok")
    _assert_safe_resends("trace", [], 1, 1, ok, ok)
    with pytest.raises(AssertionError, match="the emulator acted 2 times where the fault-free "
                                             "run acted once"):
        _assert_safe_resends("trace", [], 1, 2, ok, ok)


def test_a_retry_safe_dial_re_sent_with_another_key_is_caught(registered):
    register(registered, keyed_copy("example-fresh-key", FreshKeyProvider, DeduplicatingEmulator))
    results = run_suite("example-fresh-key", fixtures=FIXTURES,
                        select="test_fault and dial and reset_after_read")
    for kind in ("", "async."):
        entry = results.result(f"faults.{kind}reset_after_read", "dial")
        assert entry["outcome"] == "failed", entry
        assert "re-send 2 of a retry_safe operation differs from the first request" in (
            entry["message"])

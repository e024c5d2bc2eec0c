"""The kit's hooks for provider authors: spec corrections, the operations model equivalence
compares, and documented nulls in the emulator-side check. Each is run through the same runner
as ``telephony conformance`` against copies of the example provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from telephony_example.conformance import Fixtures
from telephony_example.emulator import ExampleEmulator
from telephony_example.provider import ExampleProvider

from telephony_core.emulation import route
from telephony_core.results import Ack
from telephony_core.testing import Correction, VendorSpec
from telephony_core.testing.documented import check_emulator, load, reply_differences
from telephony_core.testing.runner import run_suite
from telephony_core.testing.spec_evidence import load as load_spec
from telephony_core.testing.spec_evidence import nullable_at
from tests.broken_copies import copy_of_example, register
from tests.test_conformance_evidence import PstnProvider

OPENAPI = str(Path(__import__("telephony_example").__file__).with_name("openapi.json"))
TO_TYPE = "/components/schemas/NewCall/properties/to_type/enum"
PSTN = Correction(TO_TYPE, ["extension", "external", "pstn"],
                  reason="(a test's) the PBX accepts to_type pstn, which its API guide lists "
                         "and openapi.json omits")


# -- (b) declared corrections of a vendor spec --------------------------------------------------


class Corrected(Fixtures):
    vendor_spec = VendorSpec(OPENAPI, corrections=(PSTN,))


def test_a_declared_correction_patches_the_loaded_spec(registered):
    register(registered, copy_of_example("example-pstn-corrected", PstnProvider))
    results = run_suite("example-pstn-corrected", fixtures=Corrected,
                        select="test_traffic_matches_vendor_spec and dial")
    assert results.result("spec.wire", "dial") == {"outcome": "passed"}, results
    # the vendor's document itself is untouched: without the correction the same traffic fails
    register(registered, copy_of_example("example-pstn-plain", PstnProvider))
    plain = run_suite("example-pstn-plain", fixtures=Fixtures,
                      select="test_traffic_matches_vendor_spec and dial")
    assert plain.result("spec.wire", "dial")["outcome"] == "failed"
    assert load_spec(OPENAPI).at(TO_TYPE) == ["extension", "external"]
    assert load_spec(OPENAPI, (PSTN,)).at(TO_TYPE) == ["extension", "external", "pstn"]


def test_a_correction_needs_a_reason():
    with pytest.raises(ValueError, match="gives no reason"):
        Correction(TO_TYPE, ["pstn"])


def test_a_correction_that_no_longer_applies_fails_loading(registered):
    stale = Correction("/components/schemas/NoSuchSchema/type", "object",
                       reason="the vendor once misspelt it")
    with pytest.raises(ValueError, match="does not apply: the document has nothing there"):
        load_spec(OPENAPI, (stale,))

    class Stale(Fixtures):
        vendor_spec = VendorSpec(OPENAPI, corrections=(stale,))

    register(registered, copy_of_example("example-stale-fix", ExampleProvider))
    results = run_suite("example-stale-fix", fixtures=Stale,
                        select="test_traffic_matches_vendor_spec and dial")
    entry = results.result("spec.wire", "dial")
    assert entry["outcome"] == "failed" and "does not apply" in entry["message"], entry


# -- (c) the operations model equivalence compares -----------------------------------------------


class LazyHangupProvider(ExampleProvider):
    def hangup(self, payload):  # claims success, sends nothing
        return Ack(self.name)
        yield  # pragma: no cover

    routes = {**ExampleProvider.routes, "hangup": hangup}


class WithoutHangup(Fixtures):
    reference = "example"
    equivalence_excluded = {"hangup": "(a test's) the vendor ends calls asynchronously"}


def test_an_excluded_operation_is_not_compared(registered):
    register(registered, copy_of_example("example-lazy-excluded", LazyHangupProvider))
    results = run_suite("example-lazy-excluded", fixtures=WithoutHangup,
                        select="test_model_equiv", pytest_args=("--hypothesis-seed=1",))
    assert results.result("equivalence") == {"outcome": "passed"}, results
    # the same copy, comparing hangup, is caught (tests/test_conformance_catches.py)


class NoReason(Fixtures):
    reference = "example"
    equivalence_excluded = {"hangup": " "}


class NotCompared(Fixtures):
    reference = "example"
    equivalence_excluded = {"hold": "the example does not declare hold"}


@pytest.mark.parametrize(("name", "fixtures", "message"), [
    ("example-no-reason", NoReason, "equivalence_excluded['hangup'] gives no reason"),
    ("example-not-compared", NotCompared,
     "names 'hold', which model equivalence would not compare anyway")])
def test_an_exclusion_says_why_and_cannot_go_stale(registered, name, fixtures, message):
    register(registered, copy_of_example(name, ExampleProvider))
    results = run_suite(name, fixtures=fixtures, select="test_model_equiv")
    entry = results.result("equivalence")
    assert entry["outcome"] == "failed" and message in entry["message"], entry


# -- (d) null where the documented sample has a value --------------------------------------------


class _Reply:
    status_code = 200
    headers = {"Content-Type": "application/json"}

    def __init__(self, data):
        self._data = data
        self.text = json.dumps(data)

    def json(self):
        return self._data


SAMPLE = {"status": 200, "headers": {"Content-Type": "application/json"},
          "json": {"calls": [{"id": "1.2", "to": "41000", "state": "ringing"}]}}
NULL_TO = {"calls": [{"id": "1.2", "to": None, "state": "ringing"}]}


def test_a_null_is_refused_where_nothing_says_the_field_may_be_null():
    assert reply_differences(SAMPLE, _Reply(NULL_TO)) == [
        "json.calls[0].to: the emulator answered null (null), documented '41000' (string)"]


def test_a_null_is_accepted_where_the_file_lists_the_field_as_nullable():
    assert reply_differences({**SAMPLE, "nullable": ["json.calls[].to"]}, _Reply(NULL_TO)) == []
    other = {"calls": [{"id": "1.2", "to": "41000", "state": None}]}
    assert reply_differences({**SAMPLE, "nullable": ["json.calls[].to"]}, _Reply(other)) == [
        "json.calls[0].state: the emulator answered null (null), documented 'ringing' "
        "(string)"]


def test_the_vendor_spec_decides_where_null_is_allowed():
    spec = load_spec(OPENAPI)
    op, _, _ = spec.find("GET", "/api/calls")
    assert nullable_at(spec, op, 200, "application/json", "json.calls[0].to")  # nullable: true
    assert not nullable_at(spec, op, 200, "application/json", "json.calls[0].state")
    assert not nullable_at(spec, op, 200, "application/json", "json.calls[0].nope")
    assert not nullable_at(spec, op, 401, "application/json", "json.calls[0].to")


class NullCalleeEmulator(ExampleEmulator):
    """Lists a call whose callee is not known yet as ``"to": null`` (the spec allows it)."""

    @route("GET", "/api/calls")
    def list_calls(self, request):
        data = super().list_calls(request)
        for call in data["calls"]:
            call["to"] = None
        return data


@pytest.mark.parametrize(("spec_declared", "passes"), [(True, True), (False, False)])
def test_the_emulator_side_accepts_a_spec_allowed_null(registered, tmp_path, spec_declared,
                                                      passes):
    """End to end: the emulator answers null where the sample has "41000"; the example's
    openapi.json declares Call.to nullable, so with the spec declared it passes, without a
    spec (and no "nullable" in the file) it is a shape difference."""
    documented = Path(__import__("telephony_example").__file__).parent.parent / "tests" / (
        "documented/example.json")
    data = json.loads(documented.read_text())
    data["provider"] = "example-null-callee"
    path = tmp_path / "example.json"
    path.write_text(json.dumps(data))
    [exchange] = [e for e in load(path).exchanges if e.name.startswith("list_calls")]
    spec = copy_of_example("example-null-callee", ExampleProvider)
    spec = __import__("attrs").evolve(
        spec, emulator=lambda pbx=None, password="x": NullCalleeEmulator(pbx, password=password))
    register(registered, spec)

    class Checked(Fixtures):
        provider = "example-null-callee"
        vendor_spec = OPENAPI if spec_declared else None

    found = check_emulator(Checked(), spec, exchange)
    if passes:
        assert found == [], found
    else:
        assert any("json.calls[0].to: the emulator answered null" in f for f in found), found


def test_two_runs_for_one_provider_name_use_their_own_fixtures(registered):
    """The runner forgets its generated module, so other fixtures for the same name apply."""
    register(registered, copy_of_example("example-rerun", ExampleProvider))
    first = run_suite("example-rerun", fixtures=NoReason, select="test_model_equiv")
    second = run_suite("example-rerun", fixtures=NotCompared, select="test_model_equiv")
    assert "gives no reason" in first.result("equivalence")["message"]
    assert "would not compare anyway" in second.result("equivalence")["message"]

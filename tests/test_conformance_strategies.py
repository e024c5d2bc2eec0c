"""The suite's generators: valid payloads are valid, mutations are invalid for the stated reason."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from telephony_example.spec import SPEC as EXAMPLE

from telephony_core import OPERATIONS, schemas
from telephony_core.provider import ProviderSpec
from telephony_core.testing import profiles
from telephony_core.testing.strategies import (
    MALFORMED_ADDRESSES,
    canonical_payloads,
    invalid_payloads,
    mutations,
    payloads,
)

EVERYTHING = ProviderSpec(name="everything", title="all canonical", package="telephony_core",
                          implementation="x:y", operations=dict.fromkeys(OPERATIONS))


@settings(max_examples=60, database=None)
@given(st.data())
def test_generated_payloads_pass_the_providers_own_validator(data):
    op = data.draw(st.sampled_from(sorted(OPERATIONS)))
    payload = data.draw(payloads(EVERYTHING, op))
    assert EVERYTHING.validator(op).is_valid(payload)
    assert schemas.validator_for(schemas.load(op)).is_valid(payload)


@settings(max_examples=40, database=None)
@given(payloads(EXAMPLE, "dial", known=("ext:1000", "tel:41000")))
def test_narrowed_payloads_follow_the_narrow_schema(payload):
    assert payload["caller"].startswith("ext:")
    assert payload["callee"].startswith(("ext:", "tel:"))
    assert set(payload) <= {"caller", "callee", "auto_answer"}


def test_known_addresses_are_used():
    seen = set()

    @settings(max_examples=80, database=None)
    @given(payloads(EXAMPLE, "dial", known=("ext:1000",)))
    def collect(payload):
        seen.add(payload["caller"])

    collect()
    assert "ext:1000" in seen


@settings(max_examples=80, database=None)
@given(st.data())
def test_every_mutation_is_rejected_and_names_its_field(data):
    op = data.draw(st.sampled_from(sorted(OPERATIONS)))
    mutation = data.draw(invalid_payloads(EVERYTHING, op))
    validator = EVERYTHING.validator(op)
    assert not validator.is_valid(mutation.payload)
    found = schemas.problems(validator, mutation.payload)
    assert any(mutation.field in str(p) for p in found), (mutation, found)


def test_mutations_cover_each_kind_for_dial():
    valid = {"caller": "ext:1000", "callee": "tel:41000"}
    found = mutations(EXAMPLE.schema("dial"), EXAMPLE.validator("dial"), valid)
    kinds = {m.kind for m in found}
    assert kinds == {"drop_required", "unknown_field", "wrong_type", "malformed_address"}
    bad_callees = {m.payload["callee"] for m in found
                   if m.kind == "malformed_address" and m.field == "callee"}
    assert {"ext:", "tel:abc", "foo:1"} <= bad_callees <= set(MALFORMED_ADDRESSES)
    assert {"caller"} == {m.field for m in found if m.kind == "drop_required"} - {"callee"}


def test_canonical_payloads_are_canonical():
    @settings(max_examples=30, database=None)
    @given(canonical_payloads("play_prompt"))
    def check(payload):
        assert payload["prompts"] and payload["to"]

    check()


def test_profiles_size_each_property():
    fast = profiles.settings_for("conformance", "validation")
    slow = profiles.settings_for("nightly", "validation")
    assert fast.max_examples == profiles.EXAMPLES["conformance"]["validation"]
    assert slow.max_examples > fast.max_examples
    equivalence = profiles.settings_for("nightly", "equivalence")
    assert equivalence.stateful_step_count == profiles.EXAMPLES["nightly"]["steps"]
    assert fast.database is None


def test_known_values_are_used_for_object_fields():
    scope = {"tenant": "foo", "group": "foogroup", "user": "foouser"}
    seen = []

    @settings(max_examples=60, database=None)
    @given(payloads(EVERYTHING, "get_music_on_hold", values={"scope": [scope]}))
    def collect(payload):
        seen.append(payload["scope"] == scope)

    collect()
    assert sum(seen) >= len(seen) // 4

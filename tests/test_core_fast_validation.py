"""The compiled fast path (jsonschema-rs) accepts and refuses exactly what the jsonschema
reference does, on every installed provider's payload schemas.

Payloads are drawn valid (from the schema), mutated (the conformance suite's mutations) and near
(the schema's own field names with odd values: ECMA-262 edge cases such as a trailing newline,
wrong types, extra keys). PayloadError's problems always come from the reference, so equal
decisions mean equal errors.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony_core import registry
from telephony_core.schemas import PayloadValidator, problems
from telephony_core.testing.strategies import mutations, schema_strategy

pytest.importorskip("jsonschema_rs", reason="the fast path is the 'fast' extra (in dev)")

PAIRS = sorted((name, op) for name in registry.names() for op in registry.get(name).operations)

ODD_TEXT = st.sampled_from([
    "ext:1000", "ext:1000\n", "ext:1000\r", "\next:1000", "tel:+41000", "tel:41000 ", "tel:",
    "call:c1", "sip:alice@example.com", "", " ", "ivr:6500", "queue:6700", "https://x.example/a",
    "welcome", "a" * 300, "ünïcode", "listen", "whisper", "barge", "inbound", "outbound",
])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | ODD_TEXT | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)


def near(schema: dict) -> st.SearchStrategy[dict]:
    keys = [*schema.get("properties", {}), "unexpected"]
    return st.dictionaries(st.sampled_from(keys), JSONISH | ODD_TEXT, max_size=len(keys))


@st.composite
def case(draw):
    name, op = draw(st.sampled_from(PAIRS))
    spec = registry.get(name)
    schema = spec.schema(op)
    validator = spec.validator(op)
    kind = draw(st.sampled_from(["valid", "mutated", "near", "near"]))
    if kind == "near":
        return name, op, validator, draw(near(schema))
    payload = draw(schema_strategy(schema))
    if kind == "mutated":
        found = mutations(schema, validator.reference, payload)
        if found:
            payload = draw(st.sampled_from(found)).payload
    return name, op, validator, payload


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(case())
def test_the_fast_path_decides_exactly_as_the_reference(drawn):
    name, op, validator, payload = drawn
    assert isinstance(validator, PayloadValidator) and validator.fast is not None
    reference = validator.reference.is_valid(payload)
    assert validator.fast.is_valid(payload) == reference, (name, op, payload)
    assert (problems(validator, payload) == []) == reference


def test_values_that_are_not_json_fall_back_to_the_reference():
    validator = registry.get("sim").validator("list_calls")
    for odd in ({"ids": {"call:1"}}, {"ids": (b"x",)}, {"direction": 10**100}):
        assert validator.is_valid(odd) == validator.reference.is_valid(odd)

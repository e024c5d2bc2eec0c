"""The catalogue, its schemas and the address grammar agree with each other."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from telephony_core import addresses, schemas
from telephony_core.addresses import AddressError, parse
from telephony_core.catalogue import OPERATIONS, Capability, Kind, operation, operations_of
from telephony_core.errors import UnknownOperation


def test_every_operation_has_a_closed_schema_of_the_draft_7_subset():
    for name, op in OPERATIONS.items():
        schema = op.schema
        assert schema["type"] == "object" and schema["additionalProperties"] is False, name
        text = json.dumps(schema)
        assert "$ref" not in text and "$defs" not in text, f"{name} is not bundled"
        for keyword in ("unevaluatedProperties", "dependentSchemas", "prefixItems", "$dynamicRef"):
            assert keyword not in text, f"{name} uses {keyword}, outside the Draft-7 subset"
        schemas.validator_for(schema)


def test_the_address_patterns_in_defs_json_are_the_ones_addresses_py_builds():
    defs = json.loads(resources.files("telephony_core").joinpath("schemas/defs.json").read_text())
    for kind in ("ext", "tel", "ivr", "queue", "ringgroup", "group", "sip"):
        assert defs["$defs"][kind]["pattern"] == addresses.pattern(kind)
    assert addresses.kinds_of_pattern(defs["$defs"]["endpoint"]["pattern"]) == (
        "ext", "tel", "ivr", "queue", "ringgroup", "group", "sip")
    assert addresses.kinds_of_pattern(defs["$defs"]["live_call"]["pattern"]) == ("call", "ext")


def test_kinds_decide_retries():
    non_idempotent = {n for n, op in OPERATIONS.items() if op.kind is Kind.NON_IDEMPOTENT}
    assert non_idempotent == {"dial", "transfer", "play_prompt", "send_sms", "monitor"}
    assert {n for n, op in OPERATIONS.items() if op.kind is Kind.READ} == {
        "list_calls", "get_music_on_hold"}


def test_capabilities_group_operations():
    assert operations_of(Capability.HOLD) == ("hold", "unhold")
    assert set(operations_of("call_control")) == {
        "hangup", "mute", "unmute", "list_calls", "accept_call", "reject_call"}
    with pytest.raises(UnknownOperation, match=r"'dail' is not an operation.*dial"):
        operation("dail")


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("ext:1002", "ext", "1002"), ("tel:+4915112345678", "tel", "+4915112345678"),
    ("ivr:6500", "ivr", "6500"), ("queue:6700", "queue", "6700"),
    ("ringgroup:6200", "ringgroup", "6200"), ("group:extGroup-1", "group", "extGroup-1"),
    ("sip:alice@example.com", "sip", "alice@example.com"),
    ("call:1495700976.275", "call", "1495700976.275"),
])
def test_addresses_parse_and_format_round_trip(text, kind, value):
    address = parse(text)
    assert (address.kind, address.value, str(address)) == (kind, value, text)
    assert addresses.format_address(kind, value) == text


@pytest.mark.parametrize(("text", "kinds", "words"), [
    ("ext:", (), "not a valid ext: address"),
    ("tel:abc", (), "not a valid tel: address"),
    ("foo:1", (), "is not an address"),
    ("1002", (), "is not an address"),
    ("ext:1002", ("tel",), "is a ext: address, but here expected tel:N"),
    (1002, (), "expected a string"),
])
def test_malformed_addresses_say_what_was_expected(text, kinds, words):
    with pytest.raises(AddressError, match=words):
        parse(text, *kinds)


def test_schema_patterns_have_ecma_semantics():
    """JSON Schema's "$" is ECMA-262's: no match before a trailing newline (Python's would)."""
    from telephony_core.schemas import _ecma_regex

    assert _ecma_regex("^ext:[0-9]+$").search("ext:1000\n") is None
    assert _ecma_regex("^ext:[0-9]+$").search("ext:1000")
    assert _ecma_regex(r"^[a$]+@x\$$").pattern == r"^[a$]+@x\$\Z"  # classes and escapes kept

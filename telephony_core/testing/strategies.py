"""Hypothesis strategies from operation schemas: valid payloads, and invalid ones made from them.

Valid payloads come from the provider's own (bundled) schema through hypothesis-jsonschema and
are filtered through the provider's real validator, so a payload the suite sends is one the
facade would accept. Objects are built here rather than by ``from_schema``: hypothesis-jsonschema
0.23.1 drives a Hypothesis internal (``many.more()``) that Hypothesis 6.150+ no longer has;
every leaf (strings with address patterns, numbers, enums, arrays of leaves) still goes through
``from_schema``. Our schemas are closed objects, which is all this layer needs to handle.

Invalid payloads are *mutations* of valid ones (drop a required field, add an unknown field,
give a field the wrong type, write a malformed address), each labelled so a failure says which
mutation slipped through.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from .. import addresses
from ..catalogue import operation
from ..provider import ProviderSpec
from ..schemas import load as canonical_schema
from ..schemas import validator_for

__all__ = ["MALFORMED_ADDRESSES", "Mutation", "canonical_payloads", "invalid_payloads",
           "payloads", "schema_strategy"]

#: Address-shaped strings no address field may accept.
MALFORMED_ADDRESSES = ("ext:", "tel:abc", "foo:1", "ext:12a", "", "ext:1002 ", "call:")
_WRONG_TYPES: tuple[Any, ...] = (12345, 1.5, True, None, [], {}, "text")
_UNKNOWN_FIELDS = ("unknown_field", "callee_number", "extra")


def _freeze(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


@functools.cache
def _cached_strategy(frozen: str) -> st.SearchStrategy[Any]:
    return _build(json.loads(frozen))


def schema_strategy(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values admitted by ``schema`` (not yet filtered; see :func:`payloads`)."""
    return _cached_strategy(_freeze(schema))


def _is_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or (
        "type" not in schema and ("properties" in schema or "required" in schema))


def _build(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if _is_object(schema):
        return _object(schema)
    if schema.get("type") == "array" and isinstance(schema.get("items"), Mapping) \
            and _is_object(schema["items"]):
        return st.lists(_build(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 5), 5))
    for key in ("anyOf", "oneOf"):
        if key in schema and not any(k in schema for k in ("type", "properties")):
            return st.one_of([_build(s) for s in schema[key]])
    return from_schema(dict(schema))


def _object(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props: Mapping[str, Any] = schema.get("properties", {})
    required = [k for k in schema.get("required", []) if k in props]
    optional = {k: _build(v) for k, v in props.items() if k not in required}
    fixed = st.fixed_dictionaries({k: _build(props[k]) for k in required}, optional=optional)
    extra = schema.get("additionalProperties", True)
    low, high = schema.get("minProperties", 0), schema.get("maxProperties", 6)
    if extra is False or props:
        if extra not in (False, None) and isinstance(extra, Mapping) and not props:
            pass  # handled below as a map
        else:
            return fixed.filter(lambda d: low <= len(d) <= high)
    # a map: keys from propertyNames (or any short text), values from additionalProperties
    names = schema.get("propertyNames", {"type": "string", "minLength": 1, "maxLength": 16})
    values = _build(extra) if isinstance(extra, Mapping) else st.text(max_size=8)
    return st.dictionaries(from_schema({"type": "string", **names}), values,
                           min_size=low, max_size=min(high, 4))


def _valid_for(spec_validator: Any) -> Any:
    return spec_validator.is_valid


def payloads(spec: ProviderSpec, op: str, *, known: Iterable[str] = (),
             values: Mapping[str, Sequence[Any]] | None = None
             ) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads valid for ``spec``'s schema of ``op`` (checked by the provider's validator).

    ``known`` are addresses that exist in the emulator's set-up (``ext:1000``...) and
    ``values`` maps field names to values that exist (``{"scope": [{"user": "u1"}]}``): in
    three payloads out of four, such fields are mostly swapped for one of them, so examples
    reach the success paths as well as the "no such extension" ones.
    """
    validator = spec.validator(op)
    base = schema_strategy(spec.schema(op))
    known = tuple(known)
    values = {k: list(v) for k, v in (values or {}).items() if v}
    if known or values:
        swapped = base.flatmap(lambda p: _with_known(p, known, values, validator))
        base = st.one_of(base, swapped, swapped, swapped)  # mostly things that exist
    return base.filter(validator.is_valid)


def _with_known(payload: dict[str, Any], known: Sequence[str],
                values: Mapping[str, Sequence[Any]],
                validator: Any) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def swap(draw: Any) -> dict[str, Any]:
        out = dict(payload)
        for key, value in payload.items():
            if draw(st.integers(0, 9)) >= 8:
                continue
            if key in values:
                replacement = draw(st.sampled_from(values[key]))
            elif known and isinstance(value, str) and ":" in value:
                replacement = draw(st.sampled_from(known))
            else:
                continue
            candidate = {**out, key: replacement}
            if validator.is_valid(candidate):
                out = candidate
        return out

    return swap()


def canonical_payloads(op: str) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads valid for the canonical schema of ``op``."""
    schema = canonical_schema(operation(op).name)
    return schema_strategy(schema).filter(validator_for(schema).is_valid)


@attrs.frozen
class Mutation:
    """An invalid payload and how it was made from a valid one."""

    kind: str  # drop_required | unknown_field | wrong_type | malformed_address
    field: str
    payload: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.kind} {self.field!r}: {json.dumps(self.payload, default=str)}"


def _address_fields(schema: Mapping[str, Any]) -> list[str]:
    out = []
    for key, prop in schema.get("properties", {}).items():
        if isinstance(prop, Mapping) and isinstance(prop.get("pattern"), str) and (
                addresses.kinds_of_pattern(prop["pattern"]) or ":" in prop["pattern"]):
            out.append(key)
    return out


def mutations(schema: Mapping[str, Any], validator: Any,
              payload: Mapping[str, Any]) -> list[Mutation]:
    """Every mutation of ``payload`` the validator rejects (usually all of them)."""
    found: list[Mutation] = []
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key in payload:
            found.append(Mutation("drop_required", key,
                                  {k: v for k, v in payload.items() if k != key}))
    for key in _UNKNOWN_FIELDS:
        if key not in props:
            found.append(Mutation("unknown_field", key, {**payload, key: "x"}))
            break
    for key in props:
        for wrong in _WRONG_TYPES:
            found.append(Mutation("wrong_type", key, {**payload, key: wrong}))
    for key in _address_fields(schema):
        for bad in MALFORMED_ADDRESSES:
            found.append(Mutation("malformed_address", key, {**payload, key: bad}))
    return [m for m in found if not validator.is_valid(m.payload)]


def invalid_payloads(spec: ProviderSpec, op: str, *,
                     kinds: Iterable[str] | None = None) -> st.SearchStrategy[Mutation]:
    """Payloads the provider's schema must reject, made by mutating valid ones."""
    schema = spec.schema(op)
    validator = spec.validator(op)
    wanted = frozenset(kinds) if kinds is not None else None

    def pick(payload: dict[str, Any]) -> st.SearchStrategy[Mutation]:
        found = [m for m in mutations(schema, validator, payload)
                 if wanted is None or m.kind in wanted]
        return st.sampled_from(found) if found else st.nothing()

    return payloads(spec, op).flatmap(pick)

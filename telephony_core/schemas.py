"""Loading, bundling and applying JSON Schemas (the canonical ones and providers' narrowings).

Schemas are JSON files shipped as package data. They may ``$ref`` the shared definitions
(``urn:telephony-core:defs#/$defs/ext``); :func:`load` returns them *bundled*, every reference
inlined, so what ``client.schema(op)`` hands out is self-contained and Hypothesis can generate
from it without a resolver.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jsonschema
import referencing
from referencing.jsonschema import DRAFT202012

from . import addresses
from .errors import PayloadError, PayloadProblem

__all__ = ["bundle", "load", "load_json", "narrowing_problems", "validate", "validator_for"]

DEFS_URI = "urn:telephony-core:defs"


def load_json(package: str, path: str) -> dict[str, Any]:
    """Read a JSON file shipped in ``package`` (a dotted name) at ``path`` ("schemas/x.json")."""
    with resources.files(package).joinpath(path).open("rb") as handle:
        return json.load(handle)


@functools.cache
def _registry() -> referencing.Registry:
    defs = load_json("telephony_core", "schemas/defs.json")
    return referencing.Registry().with_resource(DEFS_URI, DRAFT202012.create_resource(defs))


def bundle(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``schema`` with every ``$ref`` replaced by what it points to."""
    root = copy.deepcopy(dict(schema))
    base = root.get("$id", "urn:telephony-core:anonymous")
    registry = _registry().with_resource(base, DRAFT202012.create_resource(root))

    def inline(node: Any, resolver: referencing._core.Resolver) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                resolved = resolver.lookup(node["$ref"])
                target = inline(copy.deepcopy(resolved.contents), resolved.resolver)
                extra = {k: inline(v, resolver) for k, v in node.items() if k != "$ref"}
                return {**target, **extra} if extra else target
            return {k: inline(v, resolver) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v, resolver) for v in node]
        return node

    out = inline(root, registry.resolver(base))
    out.pop("$id", None)
    return out


@functools.cache
def _canonical(name: str) -> str:
    return json.dumps(bundle(load_json("telephony_core", f"schemas/{name}.json")))


def load(name: str) -> dict[str, Any]:
    """The bundled canonical schema of operation ``name`` (a fresh copy each call)."""
    return json.loads(_canonical(name))


@functools.cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262: "$" matches only at the very end. Python's "$" also
    # matches before a trailing newline, which let "ext:1000\n" through to the wire.
    out, in_class, i = [], False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append("\\Z" if char == "$" and not in_class else char)
        i += 1
    return re.compile("".join(out))


def _pattern(validator, pattern: str, instance: Any, schema: Mapping[str, Any]):
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def validator_for(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    base.check_schema(schema)
    cls = _with_ecma_patterns(base)
    return cls(schema, format_checker=base.FORMAT_CHECKER)


@functools.cache
def _with_ecma_patterns(base: type) -> type:
    return jsonschema.validators.extend(base, {"pattern": _pattern})


def _path(error: jsonschema.ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _message(error: jsonschema.ValidationError) -> str:
    """Say what is wrong in words a user acts on, not in regular expressions."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "pattern":
        kinds = addresses.kinds_of_pattern(error.validator_value)
        if kinds and isinstance(error.instance, str):
            try:
                addresses.parse(error.instance, *kinds)
            except addresses.AddressError as exc:
                return str(exc)
        expected = schema.get("description", f"text matching {error.validator_value}")
        return f"{error.instance!r} is not valid: expected {expected}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {}))) or "none"
        return f"{error.message}; allowed fields: {allowed}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required but missing")
    if error.validator == "enum":
        choices = ", ".join(repr(c) for c in error.validator_value)
        return f"{error.instance!r} is not allowed: expected one of {choices}"
    if error.validator in ("anyOf", "oneOf"):
        expected = schema.get("description") or schema.get("title") or "one of the accepted forms"
        return f"this combination of fields is not accepted: expected {expected}"
    if error.validator == "type":
        return f"{error.instance!r} has the wrong type: expected {error.validator_value}"
    description = schema.get("description")
    return f"{error.message} (expected {description})" if description else error.message


def _inside(inner: jsonschema.ValidationError, outer: jsonschema.ValidationError) -> bool:
    path = list(outer.absolute_path)
    return list(inner.absolute_path)[:len(path)] == path


def _alternatives(error: jsonschema.ValidationError) -> PayloadProblem:
    """An anyOf/oneOf failure told as the problem within the closest alternative (jsonschema's
    best match), not as "this combination is not accepted" alone."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    forms = schema.get("description") or schema.get("title")
    if not error.context:
        return PayloadProblem(_path(error), _message(error))
    best = jsonschema.exceptions.best_match(error.context)
    if best.validator in ("anyOf", "oneOf"):
        return _alternatives(best)
    text = _message(best)
    if forms:
        text += f" (the accepted forms are: {forms})"
    return PayloadProblem(_path(best), text)


def problems(validator: jsonschema.protocols.Validator, payload: Any) -> list[PayloadProblem]:
    found = sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))
    direct = [e for e in found if e.validator not in ("anyOf", "oneOf")]
    out: list[PayloadProblem] = []
    for error in found:
        if error.validator in ("anyOf", "oneOf"):
            if any(_inside(d, error) for d in direct):
                continue  # a field is malformed: that is the problem, not the combination
            out.append(_alternatives(error))
        else:
            out.append(PayloadProblem(_path(error), _message(error)))
    return out


def validate(validator: jsonschema.protocols.Validator, payload: Any, **where) -> None:
    """Raise :class:`PayloadError` listing every problem of ``payload``."""
    found = problems(validator, payload)
    if found:
        raise PayloadError(found, **where)


def narrowing_problems(narrow: Mapping[str, Any], canonical: Mapping[str, Any]) -> list[str]:
    """Structural checks that a provider's schema only narrows the canonical one.

    This is the cheap check run whenever a provider loads in tests; the conformance suite adds
    the generative one (every payload the provider admits must be a valid canonical payload).
    """
    found: list[str] = []
    props = narrow.get("properties", {})
    canon_props = canonical.get("properties", {})
    extra = sorted(set(props) - set(canon_props))
    if extra:
        found.append(f"fields not in the canonical schema: {', '.join(extra)}")
    missing_required = sorted(set(canonical.get("required", [])) - set(narrow.get("required", [])))
    if missing_required:
        found.append(f"canonical required fields made optional: {', '.join(missing_required)}")
    if narrow.get("additionalProperties", True) is not False:
        found.append("additionalProperties must be false (the canonical schema is closed)")
    if narrow.get("type", "object") != "object":
        found.append("the payload must be an object")
    return found

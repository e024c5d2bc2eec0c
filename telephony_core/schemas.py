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

__all__ = ["bundle", "load", "load_json", "narrowing_problems", "undecided_keywords", "validate",
           "validator_for"]

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


def reference_validator_for(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """The reference: jsonschema, with ECMA-262 patterns. It explains every failure."""
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    base.check_schema(schema)
    cls = _with_ecma_patterns(base)
    return cls(schema, format_checker=base.FORMAT_CHECKER)


class PayloadValidator:
    """A payload schema's validator: a compiled fast path decides "valid?" (jsonschema-rs, when
    installed: the ``fast`` extra), the jsonschema reference explains what is wrong.

    The two are proven to accept and refuse the same payloads by a Hypothesis test
    (tests/test_core_fast_validation.py); problems are always computed by the reference, so
    their paths and messages are the reference's by construction. Set
    ``TELEPHONY_FAST_VALIDATION=0`` to use the reference alone. Attributes other than
    ``is_valid`` come from the reference validator (``schema``, ``iter_errors``...).
    """

    def __init__(self, schema: Mapping[str, Any]):
        self.reference: jsonschema.protocols.Validator = reference_validator_for(schema)
        self.fast: Any = _compile_fast(schema)  # a jsonschema_rs validator, when installed
        self._fast_is_valid: Any = self.fast.is_valid if self.fast is not None else None

    def is_valid(self, payload: Any) -> bool:
        if self._fast_is_valid is not None:
            try:
                return bool(self._fast_is_valid(payload))
            except (TypeError, ValueError, OverflowError):
                pass  # not JSON data (a set, bytes, a huge int): the reference decides
        return bool(self.reference.is_valid(payload))

    def check(self, payload: Any, **where: Any) -> None:
        """Raise :class:`PayloadError` listing every problem of ``payload`` (see :func:`validate`).
        Called before every operation, so the fast path is tried inline."""
        fast = self._fast_is_valid
        if fast is not None:
            try:
                if fast(payload):
                    return
            except (TypeError, ValueError, OverflowError):
                pass  # not JSON data: the reference decides below
        if not self.reference.is_valid(payload):
            found = problems(self, payload)
            if found:
                raise PayloadError(found, **where)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reference, name)


def _compile_fast(schema: Mapping[str, Any]) -> Any:
    import os

    if os.environ.get("TELEPHONY_FAST_VALIDATION", "1") == "0":
        return None
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        return jsonschema_rs.validator_for(dict(schema))
    except Exception:  # a schema it cannot compile: the reference alone is still right
        return None


def validator_for(schema: Mapping[str, Any]) -> PayloadValidator:
    return PayloadValidator(schema)


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
    """An anyOf/oneOf failure: when the closest alternative (jsonschema's best match) fails on one
    field's value, that field's problem; when it is the combination of fields that no
    alternative takes, the accepted combinations."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    forms = schema.get("description") or schema.get("title")
    best = jsonschema.exceptions.best_match(error.context) if error.context else None
    if best is not None and best.validator in ("anyOf", "oneOf"):
        return _alternatives(best)
    if best is not None and best.validator in _VALUE_KEYWORDS and \
            len(best.absolute_path) > len(error.absolute_path):
        text = _message(best)
        return PayloadProblem(_path(best), text + (f" (accepted: {forms})" if forms else ""))
    expected = forms or "one of the accepted forms"
    return PayloadProblem(_path(error),
                          f"this combination of fields is not accepted: expected {expected}")


#: Keywords about one value (not about which fields are present together).
_VALUE_KEYWORDS = frozenset({"pattern", "type", "enum", "const", "maxLength", "minLength",
                             "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
                             "format", "maxItems", "minItems"})


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


def validate(validator: Any, payload: Any, **where: Any) -> None:
    """Raise :class:`PayloadError` listing every problem of ``payload``."""
    if validator.is_valid(payload):
        return
    found = problems(validator, payload)
    if found:
        raise PayloadError(found, **where)


def narrowing_problems(narrow: Mapping[str, Any], canonical: Mapping[str, Any]) -> list[str]:
    """Structural proof that a provider's schema only narrows the canonical one: the problems
    found (empty: no keyword widens). Run by ``spec.check()`` whenever a provider loads in tests
    and by the conformance suite, which adds generation for what structure cannot decide
    (:func:`undecided_keywords`: a pattern that is not the canonical one, canonical
    alternatives).

    Every keyword that can widen is decided: ``type``, ``enum``/``const`` (each value the
    provider allows must be canonical), ``maxLength``/``minLength``, ``maxItems``/``minItems``,
    ``maxProperties``/``minProperties``, ``minimum``/``maximum`` and their exclusive forms,
    ``multipleOf``, ``uniqueItems``, ``required``, ``additionalProperties``, ``properties`` and
    ``items`` (recursively), ``propertyNames``.
    """
    return _Narrowing().check(narrow, canonical)


def undecided_keywords(narrow: Mapping[str, Any], canonical: Mapping[str, Any]) -> list[str]:
    """Where structure cannot decide narrowing (``$.callee: pattern``): generation must."""
    walker = _Narrowing()
    walker.check(narrow, canonical)
    return walker.undecided


_NUMBER = {"integer", "number"}
_UNDECIDABLE = ("allOf", "not", "if", "dependentRequired", "dependentSchemas",
                "patternProperties", "contains", "prefixItems", "unevaluatedProperties")


def _types(node: Mapping[str, Any]) -> set[str] | None:
    kind = node.get("type")
    if kind is None:
        return None
    return {kind} if isinstance(kind, str) else set(kind)


class _Narrowing:
    def __init__(self) -> None:
        self.undecided: list[str] = []

    def check(self, narrow: Mapping[str, Any], canonical: Mapping[str, Any]) -> list[str]:
        found: list[str] = []
        props = narrow.get("properties", {})
        canon_props = canonical.get("properties", {})
        extra = sorted(set(props) - set(canon_props))
        if extra and canonical.get("additionalProperties", True) is False:
            found.append(f"fields not in the canonical schema: {', '.join(extra)}")
        missing = sorted(set(canonical.get("required", [])) - set(narrow.get("required", [])))
        if missing:
            found.append(f"canonical required fields made optional: {', '.join(missing)}")
        if narrow.get("additionalProperties", True) is not False:
            found.append("additionalProperties must be false (the canonical schema is closed)")
        if narrow.get("type", "object") != "object":
            found.append("the payload must be an object")
        for key in sorted(set(props) & set(canon_props)):
            self.node(props[key], canon_props[key], f"$.{key}", found)
        return found

    def node(self, n: Any, c: Any, where: str, out: list[str]) -> None:
        """Append to ``out`` how ``n`` admits a value that ``c`` refuses."""
        if c is True or c == {}:
            return
        if n is False:
            return
        if not isinstance(n, Mapping) or not isinstance(c, Mapping):
            if n != c:
                out.append(f"{where}: the schema is {json.dumps(n)}, canonical {json.dumps(c)}")
            return
        for branch_key in ("anyOf", "oneOf"):
            if branch_key in n:  # a union: every branch must narrow on its own
                outer = {k: v for k, v in n.items() if k not in ("anyOf", "oneOf")}
                for index, branch in enumerate(n[branch_key]):
                    merged = _conjoin(outer, branch)
                    self.node(merged, c, f"{where} ({branch_key}[{index}])", out)
                return
        for branch_key in ("anyOf", "oneOf"):
            if branch_key in c:
                if n.get(branch_key) == c[branch_key]:
                    break
                outer = {k: v for k, v in c.items() if k not in ("anyOf", "oneOf")}
                if not any(self._narrows(n, {**outer, **b}, where) for b in c[branch_key]):
                    self.undecided.append(f"{where}: {branch_key}")
                return
        if "enum" in n or "const" in n:
            values = list(n["enum"]) if "enum" in n else [n["const"]]
            checker = validator_for(dict(c))
            for value in values:
                if not checker.is_valid(value):
                    out.append(f"{where}: allows {value!r}, which the canonical schema refuses")
            return
        if "enum" in c or "const" in c:
            allowed = list(c["enum"]) if "enum" in c else [c["const"]]
            out.append(f"{where}: admits values outside the canonical "
                       f"{'enum' if 'enum' in c else 'const'} {allowed!r}")
            return
        self._type(n, c, where, out)
        self._bounds(n, c, where, out)
        if "pattern" in c and n.get("pattern") != c["pattern"]:
            if "pattern" not in n and "format" not in n:
                out.append(f"{where}: has no pattern; the canonical one is {c['pattern']!r}")
            else:
                self.undecided.append(f"{where}: pattern")
        if c.get("uniqueItems") and not n.get("uniqueItems"):
            out.append(f"{where}: uniqueItems is not set; the canonical schema sets it")
        if "multipleOf" in c:
            step = n.get("multipleOf")
            if step is None or (step / c["multipleOf"]) % 1:
                out.append(f"{where}: multipleOf {step}, canonical {c['multipleOf']}")
        for key in _UNDECIDABLE:
            if key in c and n.get(key) != c[key]:
                self.undecided.append(f"{where}: {key}")
        self._object(n, c, where, out)
        if "items" in c:
            if "items" not in n:
                if n.get("maxItems") != 0 and ("array" in (_types(n) or {"array"})):
                    out.append(f"{where}: items are not constrained; the canonical schema "
                               "constrains them")
            else:
                self.node(n["items"], c["items"], f"{where}[]", out)
        if "propertyNames" in c:
            if "propertyNames" not in n:
                out.append(f"{where}: property names are not constrained; the canonical "
                           "schema constrains them")
            else:
                self.node(n["propertyNames"], c["propertyNames"], f"{where} (names)", out)

    def _narrows(self, n: Any, c: Any, where: str) -> bool:
        probe = _Narrowing()
        found: list[str] = []
        probe.node(n, c, where, found)
        return not found and not probe.undecided

    @staticmethod
    def _type(n: Mapping[str, Any], c: Mapping[str, Any], where: str, out: list[str]) -> None:
        canon = _types(c)
        if canon is None:
            return
        mine = _types(n)
        if mine is None:
            out.append(f"{where}: no type; the canonical type is {sorted(canon)}")
            return
        wider = {t for t in mine if t not in canon and not (t == "integer" and "number" in canon)}
        if wider:
            out.append(f"{where}: type {sorted(wider)} is not in the canonical {sorted(canon)}")

    @staticmethod
    def _bounds(n: Mapping[str, Any], c: Mapping[str, Any], where: str, out: list[str]) -> None:
        n = {**n, **_pattern_lengths(n)}  # an anchored pattern bounds the length by itself
        for upper in ("maxLength", "maxItems", "maxProperties"):
            if upper in c and (upper not in n or n[upper] > c[upper]):
                out.append(f"{where}: {upper} {n.get(upper, 'unbounded')} is wider than the "
                           f"canonical {c[upper]}")
        for lower in ("minLength", "minItems", "minProperties"):
            if lower in c and n.get(lower, 0) < c[lower]:
                out.append(f"{where}: {lower} {n.get(lower, 0)} is wider than the canonical "
                           f"{c[lower]}")
        low_c, low_n = _low(c), _low(n)
        if low_c is not None and (low_n is None or low_n < low_c):
            out.append(f"{where}: the lower bound {_show_bound(low_n)} is wider than the "
                       f"canonical {_show_bound(low_c)}")
        high_c, high_n = _high(c), _high(n)
        if high_c is not None and (high_n is None or high_n > high_c):
            out.append(f"{where}: the upper bound {_show_bound(high_n)} is wider than the "
                       f"canonical {_show_bound(high_c)}")

    def _object(self, n: Mapping[str, Any], c: Mapping[str, Any], where: str,
                out: list[str]) -> None:
        if "properties" not in c and "additionalProperties" not in c and "required" not in c:
            return
        n_props, c_props = n.get("properties", {}), c.get("properties", {})
        missing = sorted(set(c.get("required", [])) - set(n.get("required", [])))
        if missing:
            out.append(f"{where}: canonical required fields made optional: {', '.join(missing)}")
        c_extra = c.get("additionalProperties", True)
        n_extra = n.get("additionalProperties", True)
        for key in sorted(n_props):
            if key in c_props:
                self.node(n_props[key], c_props[key], f"{where}.{key}", out)
            elif c_extra is False:
                out.append(f"{where}: field {key!r} is not in the canonical schema")
            else:
                self.node(n_props[key], c_extra, f"{where}.{key}", out)
        if c_extra is False:
            if n_extra is not False:
                out.append(f"{where}: additionalProperties must be false (the canonical object "
                           "is closed)")
        elif c_extra is not True and n_extra is not False:
            self.node(True if n_extra is True else n_extra, c_extra, f"{where}.*", out)
        for key in sorted(set(c_props) - set(n_props)):
            if n_extra is not False:
                extra_schema = True if n_extra is True else n_extra
                self.node(extra_schema, c_props[key], f"{where}.{key}", out)


def _pattern_lengths(node: Mapping[str, Any]) -> dict[str, int]:
    """The length bounds an anchored ``^...$`` pattern implies, combined with the schema's own
    (``^\\+[1-9][0-9]{1,14}$`` admits 3 to 16 characters whatever maxLength says)."""
    pattern = node.get("pattern")
    if not isinstance(pattern, str):
        return {}
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
        items = list(parsed)
        anchored = (items and items[0] == (_parser.AT, _parser.AT_BEGINNING)
                    and items[-1] == (_parser.AT, _parser.AT_END))
        low, high = parsed.getwidth()
    except Exception:  # a pattern Python cannot read: the length stays undecided by it
        return {}
    if not anchored:
        return {}
    out = {"minLength": max(low, node.get("minLength", 0))}
    if high < _parser.MAXREPEAT:
        out["maxLength"] = min(high, node.get("maxLength", high))
    return out


def _conjoin(outer: Mapping[str, Any], branch: Any) -> Any:
    """A schema admitting at least what ``outer`` and ``branch`` both admit (outer's keywords
    win a conflict, which can only admit more; ``required`` lists are joined)."""
    if not isinstance(branch, Mapping):
        return branch
    merged = {**branch, **outer}
    if "required" in branch or "required" in outer:
        merged["required"] = sorted({*outer.get("required", ()), *branch.get("required", ())})
    return merged


def _low(node: Mapping[str, Any]) -> tuple[float, int] | None:
    """The lower bound as (value, 0 inclusive / 1 exclusive), so tuples compare."""
    bounds = []
    if isinstance(node.get("minimum"), int | float):
        bounds.append((node["minimum"], 0))
    if isinstance(node.get("exclusiveMinimum"), int | float) and not isinstance(
            node.get("exclusiveMinimum"), bool):
        bounds.append((node["exclusiveMinimum"], 1))
    return max(bounds) if bounds else None


def _high(node: Mapping[str, Any]) -> tuple[float, int] | None:
    """The upper bound as (value, 0 inclusive / -1 exclusive)."""
    bounds = []
    if isinstance(node.get("maximum"), int | float):
        bounds.append((node["maximum"], 0))
    if isinstance(node.get("exclusiveMaximum"), int | float) and not isinstance(
            node.get("exclusiveMaximum"), bool):
        bounds.append((node["exclusiveMaximum"], -1))
    return min(bounds) if bounds else None


def _show_bound(bound: tuple[float, int] | None) -> str:
    if bound is None:
        return "unbounded"
    return f"{bound[0]} ({'exclusive' if bound[1] else 'inclusive'})"

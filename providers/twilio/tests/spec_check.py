"""A small checker of requests and replies against Twilio's OpenAPI description.

Until the conformance kit ships a generic spec checker, the Twilio tests use this one. The spec
is ../shared/specs/twilio/twilio_api_v2010.json relative to the repository root (MIT, not
copied into the repository). A request is checked against the operation its method and path
template name: path parameters, query parameters and form fields must be declared, required
fields present, and every value valid for its declared schema (form values are strings on the
wire: integers, numbers and booleans are read back first; a repeated field must be an array).
A reply is validated against the response schema of its status (OpenAPI 3.0 ``nullable`` read
as JSON Schema's ``null`` type). Twilio's spec describes no error responses; those are left to
the documented exchanges.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[3]
SPEC_PATH = ROOT.parent / "shared" / "specs" / "twilio" / "twilio_api_v2010.json"


#: Where the spec contradicts itself, and how the checker reads it. Each entry is tested
#: (test_twilio_spec.py): when Twilio fixes the spec the test says so.
#: conference_enum_reason_conference_ended: its description says "When a conference is in
#: progress, will be `null`" and every ListConference example carries null, but the schema is
#: not nullable (every example of ListConference fails its own schema).
KNOWN_DEFECTS = {"conference_enum_reason_conference_ended": {"nullable": True}}


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items()}
        if out.pop("nullable", False) and "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) \
                else [*out["type"], "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]  # OpenAPI 3.0: nullable admits null
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


class SpecChecker:
    def __init__(self, path: Path = SPEC_PATH):
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        components = copy.deepcopy(self.doc["components"])
        for name, patch in KNOWN_DEFECTS.items():
            components["schemas"][name].update(patch)
        self.components = _nullable(components)
        self.routes: list[tuple[re.Pattern[str], str, str]] = []
        for template in self.doc["paths"]:
            regex = re.escape(template)
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
            self.routes.append((re.compile(regex + "$"), template, ""))

    def _validate(self, value: Any, schema: dict[str, Any], *,
                  components: dict[str, Any] | None = None) -> list[str]:
        wrapped = {**_nullable(schema), "components": components or self.components}
        validator = jsonschema.Draft7Validator(wrapped)
        return [f"{'/'.join(map(str, e.path)) or '$'}: {e.message[:200]}"
                for e in validator.iter_errors(value)]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(template, operation object, path parameters) of a request; KeyError if none."""
        for regex, template, _ in self.routes:
            match = regex.match(path)
            if match and method.lower() in self.doc["paths"][template]:
                return template, self.doc["paths"][template][method.lower()], match.groupdict()
        raise KeyError(f"{method} {path} is not an operation of the spec")

    @staticmethod
    def _typed(value: str, schema: dict[str, Any]) -> Any:
        kind = schema.get("type")
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
        except ValueError:
            return value
        if kind == "boolean":
            return {"true": True, "false": False}.get(value, value)
        return value

    def _fields(self, pairs: Iterable[tuple[str, str]], declared: dict[str, dict[str, Any]],
                where: str) -> list[str]:
        problems: list[str] = []
        grouped: dict[str, list[str]] = {}
        for name, value in pairs:
            grouped.setdefault(name, []).append(value)
        for name, values in grouped.items():
            schema = declared.get(name)
            if schema is None:
                problems.append(f"{where} {name!r} is not declared by the spec")
                continue
            schema = self._resolve(schema)
            if schema.get("type") == "array":
                item = self._resolve(schema.get("items", {}))
                value: Any = [self._typed(v, item) for v in values]
            elif len(values) > 1:
                problems.append(f"{where} {name!r} is repeated but not an array")
                continue
            else:
                value = self._typed(values[0], schema)
            problems += [f"{where} {name}: {p}" for p in self._validate(value, schema)]
        return problems

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return self.doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return schema

    def check_request(self, method: str, path: str, query: Iterable[tuple[str, str]],
                      form: Iterable[tuple[str, str]]) -> tuple[str, list[str]]:
        """(operationId, problems) of one request."""
        template, op, params = self.operation(method, path)
        declared = {p["name"]: p for p in op.get("parameters", [])}
        problems: list[str] = []
        for name, value in params.items():
            problems += [f"path {name}: {p}" for p in self._validate(
                value, declared[name]["schema"])]
        query_schemas = {n: p["schema"] for n, p in declared.items() if p["in"] == "query"}
        problems += self._fields(query, query_schemas, "query parameter")
        body = op.get("requestBody", {}).get("content", {}).get(
            "application/x-www-form-urlencoded", {}).get("schema")
        form = list(form)
        if body is None:
            if form:
                problems.append("a form body is sent, but the operation takes none")
        else:
            problems += self._fields(form, body.get("properties", {}), "form field")
            sent = {name for name, _ in form}
            problems += [f"form field {name!r} is required but missing"
                         for name in body.get("required", []) if name not in sent]
        return op.get("operationId", template), problems

    def check_reply(self, method: str, path: str, status: int, body: bytes) -> list[str]:
        """Problems of one reply (none for statuses the spec does not describe)."""
        _, op, _ = self.operation(method, path)
        described = op.get("responses", {}).get(str(status))
        if described is None:
            if status < 400:
                return [f"HTTP {status} is not a response the spec describes"]
            return []
        schema = described.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [] if not body else ["the spec describes no body for this reply"]
        try:
            data = json.loads(body)
        except ValueError:
            return ["the reply is not JSON"]
        return self._validate(data, schema)

    def check_exchange(self, exchange: dict[str, Any]) -> tuple[str, list[str]]:
        op_id, problems = self.check_request(exchange["method"], exchange["path"],
                                             exchange["query"], exchange["form"])
        problems += [f"reply: {p}" for p in self.check_reply(
            exchange["method"], exchange["path"], exchange["status"], exchange["body"])]
        return op_id, problems


@functools.cache
def checker() -> SpecChecker:
    return SpecChecker()

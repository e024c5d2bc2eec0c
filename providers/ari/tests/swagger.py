"""A small Swagger 1.1/1.2 checker for the ARI specs (until the conformance kit's generic spec
checker lands): requests against operations, replies and event frames against models.

The specs are read from ../shared/specs/asterisk-ari/ relative to the repository root (they are
part of Asterisk, GPL-2.0, and are not copied into this project).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SPECS = ROOT.parent / "shared" / "specs" / "asterisk-ari"
if not SPECS.is_dir():  # a worktree beside /work/shared
    SPECS = Path("/work/shared/specs/asterisk-ari")

PRIMITIVE = {"string", "int", "long", "boolean", "double", "Date", "object", "void"}


class Spec:
    """Every operation and model of the ARI resource listings."""

    def __init__(self, folder: Path = SPECS):
        self.operations: list[dict[str, Any]] = []
        self.models: dict[str, dict[str, Any]] = {}
        self.parents: dict[str, str] = {}
        for path in sorted(folder.glob("*.json")):
            if path.name == "resources.json":
                continue
            doc = json.loads(path.read_text())
            for api in doc.get("apis", ()):
                for op in api["operations"]:
                    self.operations.append({**op, "path": api["path"], "file": path.name,
                                            "regex": _template(api["path"])})
            for name, model in doc.get("models", {}).items():
                self.models[name] = model
                for sub in model.get("subTypes", ()):
                    self.parents[sub] = name

    # -- requests ----------------------------------------------------------------------

    def operation(self, method: str, path: str) -> dict[str, Any]:
        rel = path.removeprefix("/ari")
        found = [op for op in self.operations if op["httpMethod"] == method
                 and op["regex"].fullmatch(rel)]
        # a literal path beats a template (/channels/create before /channels/{channelId})
        found.sort(key=lambda op: op["path"].count("{"))
        if not found:
            raise AssertionError(f"{method} {path}: no operation of the ARI specs")
        return found[0]

    def check_request(self, method: str, path: str, query: Sequence[tuple[str, str]],
                      body: bytes = b"") -> str:
        """Problems raise AssertionError; returns the operation's nickname."""
        op = self.operation(method, path)
        where = f"{method} {path} ({op['file']} {op['nickname']})"
        params = {p["name"]: p for p in op.get("parameters", ())}
        seen: dict[str, list[str]] = {}
        for key, value in query:
            seen.setdefault(key, []).append(value)
        for name, values in seen.items():
            spec = params.get(name)
            assert spec is not None and spec["paramType"] == "query", \
                f"{where}: query parameter {name!r} is not in the operation"
            assert len(values) == 1 or spec.get("allowMultiple"), \
                f"{where}: {name!r} repeated but allowMultiple is not set"
            for value in values:
                _check_value(where, name, value, spec)
        for name, spec in params.items():
            if spec.get("required") and spec["paramType"] == "query":
                assert name in seen, f"{where}: required query parameter {name!r} missing"
        if body:
            bodies = [p for p in params.values() if p["paramType"] == "body"]
            assert bodies, f"{where}: a body was sent but the operation takes none"
            json.loads(body)
        return op["nickname"]

    # -- models ------------------------------------------------------------------------

    def properties(self, name: str) -> dict[str, Any]:
        chain, props = [name], {}
        while chain[-1] in self.parents:
            chain.append(self.parents[chain[-1]])
        for model in reversed(chain):
            props.update(self.models[model]["properties"])
        return props

    def check_model(self, type_name: str, value: Any, where: str = "$") -> None:
        if type_name.startswith("List["):
            assert isinstance(value, list), f"{where}: expected a list ({type_name})"
            for i, item in enumerate(value):
                self.check_model(type_name[5:-1], item, f"{where}[{i}]")
            return
        if type_name in PRIMITIVE:
            _check_primitive(type_name, value, where)
            return
        assert type_name in self.models, f"{where}: unknown model {type_name}"
        assert isinstance(value, Mapping), f"{where}: expected a {type_name} object"
        props = self.properties(type_name)
        for key, prop in props.items():
            if prop.get("required"):
                assert key in value, f"{where}: {type_name}.{key} is required"
        for key, item in value.items():
            assert key in props, f"{where}: {type_name} has no property {key!r}"
            prop = props[key]
            self.check_model(prop["type"], item, f"{where}.{key}")
            allowed = prop.get("allowableValues")
            if allowed and allowed.get("valueType") == "LIST":
                assert item in allowed["values"], \
                    f"{where}.{key}: {item!r} not in {allowed['values']}"

    def check_reply(self, method: str, path: str, status: int, body: bytes) -> None:
        op = self.operation(method, path)
        where = f"{method} {path} -> {status}"
        if status >= 400:
            codes = {int(e["code"]) for e in op.get("errorResponses", ())}
            assert status in codes or status == 401, \
                f"{where}: {status} is not one of the operation's errorResponses {codes}"
            assert isinstance(json.loads(body).get("message"), str), \
                f"{where}: an ARI error body is {{'message': ...}}"
            return
        kind = op.get("responseClass", "void")
        if kind == "void":
            assert not body, f"{where}: a void operation answered a body"
            return
        self.check_model(kind, json.loads(body), where)

    def check_event(self, frame: Mapping[str, Any]) -> None:
        kind = frame.get("type")
        assert isinstance(kind, str) and kind in self.models, f"unknown event type {kind!r}"
        self.check_model(kind, frame, kind)


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[A-Za-z_]+\\\}", "[^/]+", re.escape(path)))


def _check_primitive(kind: str, value: Any, where: str) -> None:
    ok = {"string": lambda v: isinstance(v, str),
          "Date": lambda v: isinstance(v, str) and re.fullmatch(
              r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d{4}", v) is not None,
          "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
          "boolean": lambda v: isinstance(v, bool),
          "object": lambda v: isinstance(v, Mapping),
          "void": lambda v: v is None}[kind]
    assert ok(value), f"{where}: {value!r} is not a {kind}"


def _check_value(where: str, name: str, value: str, spec: Mapping[str, Any]) -> None:
    kind = spec.get("dataType", "string")
    if kind in ("int", "long"):
        assert re.fullmatch(r"-?\d+", value), f"{where}: {name}={value!r} is not an {kind}"
    if kind == "boolean":
        assert value in ("true", "false"), f"{where}: {name}={value!r} is not a boolean"
    allowed = spec.get("allowableValues")
    if allowed and allowed.get("valueType") == "LIST":
        assert value in allowed["values"], f"{where}: {name}={value!r} not in {allowed['values']}"
    if allowed and allowed.get("valueType") == "RANGE":
        number = int(value)
        assert allowed.get("min") is None or number >= allowed["min"]
        assert allowed.get("max") is None or number <= allowed["max"]

"""A small checker of requests, replies and webhooks against Telnyx's OpenAPI 3.1 spec.

Until the conformance kit's generic spec checker lands in ``telephony_core.testing``, this is
the evidence that the provider's wire format is Telnyx's: ../shared/specs/telnyx/spec3.json
(team-telnyx/openapi, openapi/spec3.json), loaded once per test session. OpenAPI 3.1 schemas
are JSON Schema 2020-12, so ``jsonschema`` validates them with the spec as a ``referencing``
resource. Telnyx's schemas rarely close their objects, so requests are also checked *strictly*:
every top-level key we send must be a property the operation documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[3]
SPEC_PATH = ROOT.parent / "shared" / "specs" / "telnyx" / "spec3.json"
URI = "urn:telnyx:spec3"


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class TelnyxSpec:
    """Operations by (method, path template) and webhooks by event_type, with validators."""

    def __init__(self, path: Path = SPEC_PATH):
        self.doc = json.loads(path.read_text())
        self.registry = Registry().with_resource(URI, Resource(self.doc, DRAFT202012))
        self.servers_path = "/v2"  # servers[0].url is https://api.telnyx.com/v2
        self._templates = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p))
                                       + "$"), p) for p in self.doc["paths"]]

    # -- look-ups ------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """(path template, operation) for a request path (with or without /v2)."""
        bare = path.removeprefix(self.servers_path)
        matches = [t for rx, t in self._templates if rx.match(bare)
                   and method.lower() in self.doc["paths"][t]]
        if not matches:
            raise AssertionError(f"{method} {path}: no such operation in spec3.json")
        template = min(matches, key=lambda t: t.count("{"))  # literal segments win
        return template, self.doc["paths"][template][method.lower()]

    def operation_id(self, method: str, path: str) -> str:
        return self.operation(method, path)[1]["operationId"]

    def resolve(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            node = self.registry.resolver(URI).lookup(URI + node["$ref"]).contents
        return node

    def _validate(self, instance: Any, ref: str, what: str) -> None:
        validator = jsonschema.Draft202012Validator({"$ref": f"{URI}#{ref}"},
                                                    registry=self.registry)
        problems = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        if problems:
            shown = "; ".join(f"{'/'.join(map(str, p.absolute_path)) or '$'}: {p.message}"
                              for p in problems[:5])
            raise AssertionError(f"{what} does not match spec3.json: {shown}")

    # -- checks --------------------------------------------------------------------------

    def check_request(self, method: str, path: str, body: Any = None,
                      query: Mapping[str, str] | None = None) -> str:
        """Validate a request; return its operationId."""
        template, op = self.operation(method, path)
        what = f"{method} {path} ({op['operationId']})"
        if body is not None:
            request_body = self.resolve(op.get("requestBody"))
            assert request_body, f"{what}: the spec documents no request body"
            schema = request_body["content"]["application/json"]["schema"]
            ref = "/" + _pointer("paths", template, method.lower(), "requestBody", "content",
                                 "application/json", "schema")
            if "$ref" in op["requestBody"]:
                ref = op["requestBody"]["$ref"].lstrip("#") + "/" + _pointer(
                    "content", "application/json", "schema")
            self._validate(body, ref, f"{what} body")
            documented = self._properties(schema)
            unknown = sorted(set(body) - documented) if isinstance(body, Mapping) else []
            assert not unknown, f"{what}: keys the spec does not document: {unknown}"
        for name in query or {}:
            base = name.split("[", 1)[0]
            params = [self.resolve(p) for p in op.get("parameters", [])]
            assert any(p.get("name") == base and p.get("in") == "query" for p in params), \
                f"{what}: query parameter {name!r} is not documented"
        return op["operationId"]

    def _properties(self, schema: Any) -> set[str]:
        schema = self.resolve(schema)
        found = set((schema.get("properties") or {}).keys())
        for key in ("allOf", "oneOf", "anyOf"):
            for part in schema.get(key, []):
                found |= self._properties(part)
        return found

    def check_reply(self, method: str, path: str, status: int, body: Any) -> str:
        """Validate a reply against the operation's response for ``status`` (or default)."""
        template, op = self.operation(method, path)
        responses = op["responses"]
        key = str(status) if str(status) in responses else "default"
        assert key in responses, f"{method} {path}: HTTP {status} is not documented"
        response = self.resolve(responses[key])
        ref = "/" + _pointer("paths", template, method.lower(), "responses", key)
        if "$ref" in responses[key]:
            ref = responses[key]["$ref"].lstrip("#")
        assert "application/json" in response.get("content", {}), \
            f"{method} {path}: HTTP {status} has no JSON body in the spec"
        self._validate(body, ref + "/" + _pointer("content", "application/json", "schema"),
                       f"reply {status} to {method} {path}")
        return op["operationId"]

    def check_webhook(self, body: Any, headers: Mapping[str, str]) -> str:
        """Validate a webhook body against the spec's webhook of its event_type, and that the
        two signature headers every webhook documents are present; return its operationId."""
        event_type = body["data"]["event_type"]
        if event_type in ("message.sent", "message.finalized"):
            # not among spec3.json's ``webhooks`` (only inbound messages are): the outbound
            # message events are components.schemas.OutboundMessageEvent
            self._validate(body, "/components/schemas/OutboundMessageEvent",
                           f"webhook {event_type}")
            return "OutboundMessageEvent"
        for name, item in self.doc["webhooks"].items():
            post = item["post"]
            schema = self.resolve(post["requestBody"]["content"]["application/json"]["schema"])
            data = self.resolve(schema.get("properties", {}).get("data", {}))
            enum = self.resolve(data.get("properties", {}).get("event_type", {})).get("enum", [])
            if event_type in enum:
                self._validate(body, "/" + _pointer("webhooks", name, "post", "requestBody",
                                                    "content", "application/json", "schema"),
                               f"webhook {event_type}")
                lower = {k.lower() for k in headers}
                for param in post.get("parameters", []):
                    if param.get("in") == "header" and param.get("required"):
                        assert param["name"].lower() in lower, \
                            f"webhook {event_type}: header {param['name']} missing"
                return post["operationId"]
        raise AssertionError(f"no webhook in spec3.json has event_type {event_type!r}")

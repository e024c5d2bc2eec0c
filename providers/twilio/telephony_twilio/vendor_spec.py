"""Twilio's OpenAPI description as the conformance kit checks it: the published file with the
corrections its own text and Twilio's documentation call for, written to a derived file outside
the repository (the spec itself stays where CI provides it, ../shared/specs/twilio/).

Corrections (each also pinned by a test that fails once Twilio fixes the spec):

* ``conference_enum_reason_conference_ended`` is nullable: its description says "When a
  conference is in progress, will be `null`", and every ``ListConference`` example carries
  ``null``; the published schema is not nullable, so each of the spec's own examples fails it.
* every operation gets a ``default`` response: Twilio's error body ``{code, message, more_info,
  status}`` (https://www.twilio.com/docs/usage/twilios-response, exceptions). The published
  spec declares no error response at all, so any error reply would break it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["ERROR_SCHEMA", "SPEC_FILE", "corrected", "corrected_path", "exchange_problems"]

SPEC_FILE = "../shared/specs/twilio/twilio_api_v2010.json"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"},
                   "more_info": {"type": "string"}, "status": {"type": "integer"},
                   "detail": {"type": "string"}},
}
_ERROR_REF = "#/components/schemas/telephony_twilio.error"


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    """The spec document with the corrections of the module docstring (a new document)."""
    out = copy.deepcopy(document)
    schemas = out["components"]["schemas"]
    schemas["conference_enum_reason_conference_ended"]["nullable"] = True
    schemas["telephony_twilio.error"] = ERROR_SCHEMA
    for item in out["paths"].values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete") and isinstance(
                    operation, dict):
                operation.setdefault("responses", {}).setdefault("default", {
                    "description": "Twilio's error body (twilios-response)",
                    "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}}})
    return out


def find_spec(start: Path | None = None) -> Path:
    """The published spec: ``SPEC_FILE`` from the working directory or this package's folders."""
    anchors = [start or Path(__file__).resolve().parent]
    for anchor in anchors:
        for place in (anchor, *anchor.parents):
            candidate = place / SPEC_FILE
            if candidate.is_file():
                return candidate.resolve()
    candidate = Path.cwd() / SPEC_FILE
    if candidate.is_file():
        return candidate.resolve()
    raise FileNotFoundError(f"Twilio's OpenAPI description {SPEC_FILE!r} was not found from "
                            f"{Path.cwd()} or the package's folders (CI provides ../shared/specs)")


def corrected_path() -> str:
    """The derived, corrected spec file (written once per published version, in the temp
    directory), for ``vendor_spec``."""
    original = find_spec()
    raw = original.read_bytes()
    digest = hashlib.sha256(raw + Path(__file__).read_bytes()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"telephony-twilio-spec-{digest}.json"
    if not target.is_file():
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(corrected(json.loads(raw)), out)
        os.replace(partial, target)
    return str(target)


def exchange_problems(exchange: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(operationId, problems) of one exchange the emulator recorded (``app.exchanges``),
    checked with the conformance kit's checker against the corrected spec."""
    from telephony_core.testing.spec_evidence import load, reply_problems, request_problems

    spec = load(corrected_path())
    op, problems = request_problems(spec, exchange["method"], exchange["path"],
                                    exchange["query"], exchange["headers"], exchange["body"])
    if op is not None:
        problems += reply_problems(spec, op, exchange["status"], exchange["reply_type"],
                                   exchange["reply"])
    return (op.name if op is not None else None), problems

"""What a campaign is, as plain data: items, their keys, outcomes, and the file formats.

This module imports neither temporalio nor any provider: the workflow code runs it inside
Temporal's deterministic replay, and the CLI validates a whole file with it before anything
starts. Every value that crosses into Temporal is JSON data (dicts, lists, strings), so a
campaign's history is readable with ``temporal workflow show``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..context import check_key
from ..errors import PayloadError, PayloadProblem

__all__ = [
    "STATUSES",
    "CampaignFileError",
    "Item",
    "check_name",
    "derive_key",
    "load_items",
    "parse_items",
]

#: The final status of an item: the request was accepted; every profile refused it (nothing
#: was done); it may or may not have happened (never re-sent: reconcile it); it was never tried
#: (the campaign was cancelled first).
STATUSES: tuple[str, ...] = ("sent", "refused", "unknown", "skipped")

#: A campaign name: it becomes part of Temporal workflow ids and of derived item keys (which
#: must stay within the 64 characters of an idempotency key).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")

#: Where the template's text goes, per operation (and how: a string or a list of prompts).
TEMPLATE_FIELD: Mapping[str, tuple[str, str]] = {
    "send_sms": ("text", "text"),
    "play_prompt": ("prompts", "list"),
}


class CampaignFileError(PayloadError):
    """A campaign file (or list of items) has bad rows; ``problems`` lists every one of them,
    each as (``line N: FIELD``, what is wrong). Raised before anything is submitted."""

    def __init__(self, problems: Sequence[PayloadProblem], *, source: str = "the campaign") -> None:
        super().__init__(problems)
        self.source = source
        shown = "; ".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        count = len(self.problems)
        self.message: str = (f"{source} has {count} problem(s), nothing was submitted: "
                             + shown + (f"; and {more} more" if more > 0 else ""))
        self.args: tuple[Any, ...] = (self.message,)


def check_name(name: object) -> str:
    """``name`` if it is a valid campaign name, else a PayloadError saying what one is."""
    if isinstance(name, str) and _NAME.fullmatch(name):
        return name
    shown = repr(name) if isinstance(name, str) and len(name) <= 80 else type(name).__name__
    raise PayloadError([PayloadProblem(
        "campaign", f"{shown} is not a valid campaign name: expected 1-40 letters, digits, "
                    "'-', '_' or '.', starting with a letter or digit")])


def derive_key(campaign: str, operation: str, payload: Mapping[str, Any]) -> str:
    """The idempotency key of an item that has none: the campaign and the item's content, so
    submitting the same item of the same campaign again yields the same key (and two identical
    rows are caught as duplicates)."""
    digest = hashlib.sha256(json.dumps([operation, payload], sort_keys=True,
                                       separators=(",", ":")).encode()).hexdigest()
    return f"{campaign}.{digest[:20]}"


@attrs.frozen
class Item:
    """One thing to do: ``operation`` with ``payload`` under idempotency key ``key``, through
    the first of ``profiles`` that takes it. ``line`` is where it came from (for messages)."""

    key: str
    operation: str
    payload: Mapping[str, Any]
    profiles: tuple[str, ...]
    line: int = 0

    def to_data(self) -> dict[str, Any]:
        return {"key": self.key, "operation": self.operation, "payload": dict(self.payload),
                "profiles": list(self.profiles), "line": self.line}

    @property
    def recipient(self) -> str | None:
        """Who the item reaches, for reports: ``to``, else ``callee``."""
        p = self.payload
        value = p.get("to", p.get("callee"))
        return value if isinstance(value, str) else None


# -- reading files ---------------------------------------------------------------------------


def _template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _render(template: str, row: Mapping[str, Any], line: int,
            problems: list[PayloadProblem]) -> str | None:
    missing = [f for f in _template_fields(template) if f not in row or row[f] in (None, "")]
    if missing:
        for field in missing:
            problems.append(PayloadProblem(
                f"line {line}: {field}", f"the template uses {{{field}}}, which this row "
                                         "leaves empty or lacks"))
        return None
    try:
        return template.format_map({k: ("" if v is None else v) for k, v in row.items()})
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        problems.append(PayloadProblem(f"line {line}: template",
                                       f"the template cannot be filled in ({exc})"))
        return None


def _split_profiles(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        return list(value)
    return [value]  # refused below with the field named


def _rows(text: str, fmt: str) -> Iterable[tuple[int, Any]]:
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        start = 2
        for row in reader:
            yield start, row
            start = reader.line_num + 1
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except ValueError as exc:
            yield number, exc


def _format_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise PayloadError([PayloadProblem(
        "file", f"{path!r} is neither .csv nor .jsonl/.ndjson (JSON lines): say which by its "
                "extension")])


def load_items(path: str | Path, *, campaign: str, operation: str | None = None,
               profiles: Sequence[str] = (), template: str | None = None,
               fields: Mapping[str, Any] | None = None) -> list[Item]:
    """Read a CSV or JSON-lines campaign file; see :func:`parse_items`."""
    path = str(path)
    fmt = _format_of(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeError) as exc:
        raise PayloadError([PayloadProblem("file", f"{path!r} cannot be read: "
                                                   f"{type(exc).__name__}: {exc}")]) from None
    return parse_items(text, fmt=fmt, campaign=campaign, operation=operation, profiles=profiles,
                       template=template, fields=fields, source=path)


def parse_items(text: str, *, fmt: str, campaign: str, operation: str | None = None,
                profiles: Sequence[str] = (), template: str | None = None,
                fields: Mapping[str, Any] | None = None, source: str = "the campaign"
                ) -> list[Item]:
    """Turn a campaign file's rows into items, or raise :class:`CampaignFileError` listing
    every bad row (line number, field, problem).

    A row (a CSV row under a header, or one JSON object per line) gives:

    * ``key``: the item's idempotency key (optional: derived from the campaign and the item);
    * ``operation``: optional, else the campaign's ``operation``;
    * ``profiles``: optional, profile names separated by ``;`` or ``,`` (a JSON list in JSON
      lines), tried in order; else the campaign's ``profiles``;
    * ``payload``: (JSON lines) the operation's canonical payload, as given;
    * otherwise, columns named like a field of the operation's payload (``to``, ``sender``,
      ``caller``...) become that field, and ``template`` (``str.format`` syntax over the row's
      columns) fills the text of ``send_sms`` or the prompts of ``play_prompt`` (a
      comma-separated list of prompt names or URLs).

    ``fields`` are payload fields common to every item (a row's own value wins). Payloads are
    checked against the canonical schema here; against each profile's own schema at submission.
    """
    from ..catalogue import OPERATIONS
    from ..errors import UnknownOperation
    from ..schemas import problems as schema_problems
    from ..schemas import validator_for

    check_name(campaign)
    problems: list[PayloadProblem] = []
    items: list[Item] = []
    seen: dict[str, int] = {}
    validators: dict[str, Any] = {}
    for line, row in _rows(text, fmt):
        where = f"line {line}"
        if isinstance(row, Exception):
            problems.append(PayloadProblem(f"{where}: $", f"not valid JSON ({row})"))
            continue
        if not isinstance(row, dict):
            problems.append(PayloadProblem(f"{where}: $", "a row must be a JSON object, not "
                                                          f"{type(row).__name__}"))
            continue
        if None in row:  # csv: more cells than header columns
            problems.append(PayloadProblem(f"{where}: $", f"{len(row[None])} cell(s) more than "
                                                          "the header has columns"))
            continue
        op = row.get("operation") or operation
        if not op:
            problems.append(PayloadProblem(f"{where}: operation",
                                           "no operation: give one in the row or for the campaign"))
            continue
        if op not in OPERATIONS:
            problems.append(PayloadProblem(f"{where}: operation",
                                           str(UnknownOperation(str(op), OPERATIONS))))
            continue
        names = _split_profiles(row.get("profiles", row.get("profile")))
        names = names if names is not None else list(profiles)
        if not names:
            problems.append(PayloadProblem(f"{where}: profiles",
                                           "no profile: give profiles in the row or for the "
                                           "campaign"))
            continue
        bad = [p for p in names if not isinstance(p, str) or not _NAME.fullmatch(p)]
        if bad:
            problems.append(PayloadProblem(f"{where}: profiles",
                                           f"{bad[0]!r} is not a profile name"))
            continue
        payload = _payload(row, op, template, fields, line, problems, fmt)
        if payload is None:
            continue
        if op not in validators:
            validators[op] = validator_for(OPERATIONS[op].schema)
        found = schema_problems(validators[op], payload)
        if found:
            problems += [PayloadProblem(f"{where}: {p.path.removeprefix('$.')}", p.message)
                         for p in found]
            continue
        given = row.get("key")
        if given in (None, ""):
            key = derive_key(campaign, op, payload)
        else:
            try:
                key = check_key(given)
            except PayloadError as exc:
                problems.append(PayloadProblem(f"{where}: key", exc.problems[0].message))
                continue
        if key in seen:
            problems.append(PayloadProblem(
                f"{where}: key", f"the item repeats line {seen[key]} (same key {key!r}): a "
                                 "campaign does each thing once"))
            continue
        seen[key] = line
        items.append(Item(key, op, payload, tuple(dict.fromkeys(names)), line))
    if not items and not problems:
        problems.append(PayloadProblem("file", "the campaign has no items"))
    if problems:
        raise CampaignFileError(problems, source=source)
    return items


_RESERVED = frozenset({"key", "operation", "profiles", "profile", "payload"})


def _payload(row: dict[str, Any], op: str, template: str | None,
             fields: Mapping[str, Any] | None, line: int, problems: list[PayloadProblem],
             fmt: str) -> dict[str, Any] | None:
    from ..catalogue import OPERATIONS

    schema_props = OPERATIONS[op].schema.get("properties", {})
    payload: dict[str, Any] = dict(fields or {})
    given = row.get("payload")
    if given is not None:
        if not isinstance(given, dict):
            problems.append(PayloadProblem(f"line {line}: payload",
                                           f"must be an object, not {type(given).__name__}"))
            return None
        payload.update(given)
    for column, value in row.items():
        if column in _RESERVED or column not in schema_props:
            continue
        if fmt == "csv" and value == "":
            continue
        if fmt == "csv" and schema_props[column].get("type") == "boolean":
            value = {"true": True, "false": False, "1": True, "0": False}.get(
                value.strip().lower(), value)
        payload[column] = value
    if template is not None and op in TEMPLATE_FIELD:
        field, shape = TEMPLATE_FIELD[op]
        if field not in payload:
            rendered = _render(template, row, line, problems)
            if rendered is None:
                return None
            payload[field] = ([p.strip() for p in rendered.split(",") if p.strip()]
                              if shape == "list" else rendered)
    return payload


def outcome(item: Mapping[str, Any], status: str, *, profile: str | None = None,
            reason: str = "", detail: str = "", result: Mapping[str, Any] | None = None,
            attempts: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """An item's final record, as the report lists it."""
    payload = item.get("payload", {})
    recipient = payload.get("to", payload.get("callee"))
    return {"key": item["key"], "line": item.get("line", 0), "operation": item["operation"],
            "recipient": recipient if isinstance(recipient, str) else None,
            "status": status, "profile": profile, "reason": reason, "detail": detail,
            "result": dict(result or {}), "attempts": [dict(a) for a in attempts]}


REPORT_COLUMNS = ("key", "line", "operation", "recipient", "status", "profile", "reason",
                  "detail", "result_id", "attempted_at")


def report_csv(outcomes: Iterable[Mapping[str, Any]]) -> str:
    """The report as CSV, one row per item (``result_id``: the call or message id;
    ``attempted_at``: when the last attempt was scheduled, UTC, for reconciling)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for o in outcomes:
        result = o.get("result") or {}
        writer.writerow([o.get("key"), o.get("line"), o.get("operation"), o.get("recipient"),
                         o.get("status"), o.get("profile") or "", o.get("reason") or "",
                         o.get("detail") or "",
                         result.get("call_id") or result.get("message_id") or "",
                         (o.get("attempts") or [{}])[-1].get("at", "")])
    return out.getvalue()


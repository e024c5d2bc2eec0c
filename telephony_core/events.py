"""Helpers for turning webhook bodies into canonical events.

Providers re-send reports until they get a 200 (Yeastar, TeleCMI), so applications need to drop
repeats; and some bodies (Yeastar v1) repeat a JSON key, which a plain ``dict`` would collapse.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from .errors import PayloadError, PayloadProblem
from .results import Event

__all__ = ["Deduplicator", "body_bytes", "json_pairs", "parse_body", "parse_timestamp"]


def body_bytes(body: bytes | str | Mapping[str, Any]) -> bytes:
    """Accept what web frameworks hand out (bytes, text, an already-parsed mapping)."""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, Mapping):
        return json.dumps(body).encode("utf-8")
    raise PayloadError([PayloadProblem("$", f"an event body must be bytes, text or a mapping, "
                                            f"not {type(body).__name__}")],
                       operation="parse_event")


def json_pairs(body: bytes) -> list[tuple[str, Any]]:
    """Parse a JSON object keeping every key/value pair in order, repeated keys included."""
    try:
        pairs = json.loads(body, object_pairs_hook=lambda kv: kv)
    except ValueError as exc:
        raise PayloadError([PayloadProblem("$", f"the event body is not JSON: {exc}")],
                           operation="parse_event") from None
    if not isinstance(pairs, list):
        raise PayloadError([PayloadProblem("$", "the event body must be a JSON object")],
                           operation="parse_event")
    return pairs


def parse_body(body: bytes, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A JSON or form-encoded body as a plain dict (last value wins for repeated keys)."""
    ctype = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type", "")
    if "application/x-www-form-urlencoded" in ctype:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PayloadError([PayloadProblem("$", f"the event body is not JSON: {exc}")],
                           operation="parse_event") from None
    if not isinstance(data, dict):
        raise PayloadError([PayloadProblem("$", "the event body must be a JSON object")],
                           operation="parse_event")
    return data


#: Epoch values above this are milliseconds (this many seconds is the year 5138).
_MILLIS_FROM = 10**11


def parse_timestamp(value: Any) -> datetime | None:
    """A vendor's timestamp as an aware datetime (UTC when the value carries no zone), or None
    when absent or unreadable. Reads epoch seconds and epoch milliseconds (numbers or digit
    strings; a value above 10^11 is milliseconds), ISO-8601 (``2026-11-29T05:04:17Z``,
    ``...+05:30``, fractions) and ``YYYY-mm-dd HH:MM:SS``."""
    if value is None or isinstance(value, bool) or value in ("", 0, "0"):
        return None
    number: float | None = None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
            number = float(value.strip())
    except OverflowError:  # an integer beyond any date
        return None
    if number is not None:
        if number >= _MILLIS_FROM:
            number /= 1000
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _default_key(event: Event) -> Hashable:
    raw = json.dumps(event.raw, sort_keys=True, default=str) if event.raw is not None else ""
    return (event.provider, event.kind, event.call_id, hashlib.sha256(raw.encode()).hexdigest())


class Deduplicator:
    """Drops events seen recently: ``for e in dedup.filter(client.parse_event(body)): ...``.

    Keeps the last ``window`` keys; thread-safe, so one instance can serve a web server's
    worker threads. With another ``key`` it de-duplicates anything (raw report bodies, say).
    """

    def __init__(self, window: int = 4096, key: Callable[[Any], Hashable] = _default_key):
        self.window = window
        self.key = key
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def is_new(self, event: Any) -> bool:
        key = self.key(event)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return False
            self._seen[key] = None
            if len(self._seen) > self.window:
                self._seen.popitem(last=False)
            return True

    def filter(self, events: Iterable[Event]) -> list[Event]:
        return [e for e in events if self.is_new(e)]

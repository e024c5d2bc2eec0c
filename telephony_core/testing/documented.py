"""Documented exchanges: vendor samples that both the provider and its emulator must honour.

A provider written from its vendor's documents and an emulator written from the same reading
agree with each other even when both are wrong, so every other property passes. Documented
exchanges are the vendor's own samples, transcribed into ``tests/documented/*.json`` (the format
is in ``docs/conformance.md``), and this module checks them from both sides:

* **provider side**: a real client (``telephony_core.connect``, the file's ``config``) is
  pointed at a loopback server that answers the documented replies in order and records what
  arrives; each request must be the documented one (method, path, query, body; ``"<any>"``
  matches any value, keys listed in ``optional`` may be absent, no undocumented key), and the
  operation must end in the documented result or typed error. Event samples go through
  ``client.parse_event`` and must give the documented canonical events;
* **emulator side**: the provider's emulator, after the fixtures' ``prepare_documented`` hook
  has put its model in the state the sample assumes, is sent the documented requests and must
  answer with the documented status and a reply of the documented *shape* (same keys, same JSON
  types, recursively; same element structure for XML).

Every message names the exchange, its source and the exact difference. A sample the provider
cannot handle fails; it is never skipped.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import attrs

__all__ = ["ANY", "DocumentedFile", "Exchange", "check_emulator", "check_provider",
           "discover", "documented_bodies", "load", "shape_of"]

#: The documented value that matches any value sent (tokens, timestamps, random ids).
ANY = "<any>"
#: A config value replaced by the loopback server's URL (an API with a second base URL).
LOOPBACK = "<loopback>"

_REQUEST_KEYS = {"method", "path", "query", "json", "form", "text", "headers", "optional"}
_REPLY_KEYS = {"status", "headers", "json", "text", "form", "nullable"}


@attrs.frozen
class Exchange:
    """One documented exchange of a file (see the module docstring and docs/conformance.md)."""

    name: str
    source: str
    file: str
    provider: str
    config: Mapping[str, Any] = attrs.field(repr=False)
    operation: str | None = None
    #: a provider method outside the catalogue (``client.provider.OPERATION(**payload)``)
    extra: bool = False
    payload: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    wire: tuple[Mapping[str, Any], ...] = attrs.field(default=(), repr=False)
    result: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    error: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    event: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    events: tuple[Mapping[str, Any], ...] | None = attrs.field(default=None, repr=False)
    #: why the file or the exchange cannot be read (the test fails with it)
    problem: str | None = None
    #: the file's own config (the emulator side builds the emulator with its credentials)
    file_config: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def label(self) -> str:
        """How messages name it: ``'dial: extension to extension' (source: ...)``."""
        where = Path(self.file).name
        return f"documented exchange {self.name!r} of {where} (source: {self.source})"

    @property
    def test_id(self) -> str:
        return f"{Path(self.file).stem}:{self.name}"

    def __str__(self) -> str:
        return self.test_id


@attrs.frozen
class DocumentedFile:
    path: str
    provider: str
    config: Mapping[str, Any]
    exchanges: tuple[Exchange, ...]


def _broken(path: Path, provider: str, problem: str, name: str = "(file)") -> Exchange:
    return Exchange(name=name, source=str(path), file=str(path), provider=provider, config={},
                    problem=problem)


def documented_bodies(folder: str | Path) -> dict[str, Any]:
    """The JSON body of every documented report in ``folder``'s files, by exchange name: what
    a provider's tests compare their emulator's own posts (callbacks, webhooks) with."""
    return {x.name: x.event["json"] for f in sorted(Path(folder).glob("*.json"))
            for x in load(f).exchanges if x.event is not None and "json" in x.event}


def shape_of(doc: Any, actual: Any) -> list[str]:
    """Where ``actual`` differs in shape from the documented ``doc`` (see
    :func:`shape_differences`); empty when keys and JSON types agree."""
    out: list[str] = []
    shape_differences(doc, actual, "$", out)
    return out


def load(path: str | Path) -> DocumentedFile:
    """Read one documented-exchanges file. A malformed file or exchange is kept, with its
    ``problem``, so the test that runs it fails with the reason instead of vanishing."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return DocumentedFile(str(path), "", {}, (_broken(path, "", f"{path}: not readable "
                                                                   f"JSON: {exc}"),))
    if not isinstance(data, dict) or not isinstance(data.get("exchanges"), list):
        return DocumentedFile(str(path), "", {}, (_broken(
            path, "", f"{path}: expected an object with 'provider', 'config' and a list "
                      "'exchanges'"),))
    provider = str(data.get("provider") or "")
    config = data.get("config") or {}
    found: list[Exchange] = []
    for index, raw in enumerate(data["exchanges"]):
        found.append(_exchange(path, provider, config, index, raw))
    return DocumentedFile(str(path), provider, config, tuple(found))


def _exchange(path: Path, provider: str, config: Mapping[str, Any], index: int,
              raw: Any) -> Exchange:
    if not isinstance(raw, dict):
        return _broken(path, provider, f"exchange #{index} is not an object", f"#{index}")
    name = str(raw.get("name") or f"#{index}")
    problems = []
    if not raw.get("source"):
        problems.append("it cites no 'source' (a file in ../shared/vendor-docs/ or a URL)")
    wire = raw.get("wire") or []
    if raw.get("operation") and not wire and not ("wire" in raw and raw.get("error")):
        problems.append("an operation needs 'wire': the requests it sends, with their replies "
                        "(an empty list only with an 'error' refused before any traffic)")
    if not raw.get("operation") and raw.get("event") is None:
        problems.append("give an 'operation' (with 'wire') or an 'event' (with 'events')")
    for step, exchange in enumerate(wire):
        if not isinstance(exchange, dict) or "request" not in exchange or "reply" not in exchange:
            problems.append(f"wire[{step}] needs 'request' and 'reply'")
            continue
        unknown = set(exchange["request"]) - _REQUEST_KEYS
        unknown |= {f"reply.{k}" for k in set(exchange["reply"]) - _REPLY_KEYS}
        if unknown:
            problems.append(f"wire[{step}] has unknown keys {sorted(unknown)}")
    if raw.get("event") is not None and raw.get("events") is None and raw.get("error") is None:
        problems.append("an 'event' needs 'events' (the canonical events) or 'error'")
    return Exchange(
        name=name, source=str(raw.get("source") or ""), file=str(path), provider=provider,
        config={**config, **(raw.get("config") or {})}, file_config=config,
        operation=raw.get("operation"),
        extra=bool(raw.get("extra")), payload=raw.get("payload") or {},
        wire=tuple(wire), result=raw.get("result"), error=raw.get("error"),
        event=raw.get("event"), events=tuple(raw["events"]) if raw.get("events") is not None
        else None, problem="; ".join(problems) or None)


def discover(spec: Any, paths: Sequence[str | Path] | None = None) -> list[Exchange]:
    """The documented exchanges of provider ``spec``.

    ``paths`` (files or directories, from the fixtures' ``documented``) when given; otherwise
    ``PACKAGE/documented/`` and ``PACKAGE/../tests/documented/`` (a source checkout such as
    ``providers/NAME/tests/documented/``). Files found by default location whose ``provider``
    names another provider are left out; files given explicitly are always used.
    """
    explicit = paths is not None
    candidates: list[Path] = [Path(p) for p in paths] if paths is not None else []
    if not explicit:
        package = _package_dir(spec.package)
        if package is not None:
            candidates = [package / "documented", package.parent / "tests" / "documented"]
    files: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir():
            files += sorted(candidate.glob("*.json"))
        elif candidate.is_file() or explicit:
            files.append(candidate)
    found: list[Exchange] = []
    for file in dict.fromkeys(files):
        loaded = load(file)
        if not explicit and loaded.provider and loaded.provider != spec.name:
            continue
        found += loaded.exchanges
    return found


def _package_dir(package: str | None) -> Path | None:
    import importlib.util

    if not package:
        return None
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


# -- comparing what was sent with what is documented ------------------------------------------


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _jtype(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _wildcard(doc: str, actual: Any) -> bool:
    """``"<any>"`` matches anything; ``"Bearer <any>"`` matches any string of that form."""
    if doc == ANY:
        return True
    pattern = ".*".join(re.escape(part) for part in doc.split(ANY))
    return isinstance(actual, str) and re.fullmatch(pattern, actual, re.DOTALL) is not None


def compare_json(doc: Any, actual: Any, where: str, optional: frozenset[str],
                 out: list[str]) -> None:
    """Differences between a documented JSON value and the one sent, as ``where: problem``."""
    if isinstance(doc, str) and ANY in doc:
        if not _wildcard(doc, actual):
            out.append(f"{where}: sent {_show(actual)}, documented {doc!r}")
        return
    if isinstance(doc, dict):
        if not isinstance(actual, dict):
            out.append(f"{where}: sent {_show(actual)}, documented an object")
            return
        for key, value in doc.items():
            path = f"{where}.{key}"
            if key not in actual:
                if path not in optional:
                    out.append(f"{path}: documented ({_show(value)}), not sent")
                continue
            compare_json(value, actual[key], path, optional, out)
        for key in actual:
            if key not in doc and f"{where}.{key}" not in optional:
                out.append(f"{where}.{key}: sent {_show(actual[key])}, not documented")
        return
    if isinstance(doc, list):
        if not isinstance(actual, list):
            out.append(f"{where}: sent {_show(actual)}, documented an array")
            return
        if len(doc) != len(actual):
            out.append(f"{where}: sent {len(actual)} items {_show(actual)}, documented "
                       f"{len(doc)} {_show(doc)}")
            return
        for index, (d, a) in enumerate(zip(doc, actual, strict=True)):
            compare_json(d, a, f"{where}[{index}]", optional, out)
        return
    if _jtype(doc) != _jtype(actual) or doc != actual:
        out.append(f"{where}: sent {_show(actual)} ({_jtype(actual)}), documented {_show(doc)} "
                   f"({_jtype(doc)})")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compare_fields(doc: Mapping[str, Any], actual: Mapping[str, str], where: str,
                   optional: frozenset[str], out: list[str]) -> None:
    """Query and form fields: strings on the wire, so documented numbers compare as text."""
    for key, value in doc.items():
        path = f"{where}.{key}"
        if key not in actual:
            if path not in optional:
                out.append(f"{path}: documented ({_show(value)}), not sent")
            continue
        text = _as_text(value)
        if ANY in text:
            if not _wildcard(text, actual[key]):
                out.append(f"{path}: sent {actual[key]!r}, documented {text!r}")
        elif actual[key] != text:
            out.append(f"{path}: sent {actual[key]!r}, documented {text!r}")
    for key in actual:
        if key not in doc and f"{where}.{key}" not in optional:
            out.append(f"{where}.{key}: sent {actual[key]!r}, not documented")


def request_differences(doc: Mapping[str, Any], recorded: Any) -> list[str]:
    """How a recorded request differs from a documented one (empty: it matches)."""
    out: list[str] = []
    optional = frozenset(doc.get("optional") or ())
    method = str(doc.get("method", "GET")).upper()
    if recorded.method != method:
        out.append(f"method: sent {recorded.method}, documented {method}")
    if "path" in doc and not (recorded.path == doc["path"] or (
            ANY in doc["path"] and _wildcard(doc["path"], recorded.path))):
        out.append(f"path: sent {recorded.path!r}, documented {doc['path']!r}")
    compare_fields(doc.get("query") or {}, recorded.query, "query", optional, out)
    for name, value in (doc.get("headers") or {}).items():
        sent = recorded.header(name)
        if sent is None:
            if f"headers.{name}" not in optional:
                out.append(f"headers.{name}: documented, not sent")
        elif not _wildcard(str(value), sent) if ANY in str(value) else sent != str(value):
            out.append(f"headers.{name}: sent {sent!r}, documented {value!r}")
    if "json" in doc:
        try:
            body = recorded.json()
        except ValueError:
            out.append(f"body: sent {_show(recorded.body.decode('utf-8', 'replace'))} "
                       f"({recorded.content_type or 'no content type'}), documented JSON")
        else:
            compare_json(doc["json"], body, "json", optional, out)
    elif "form" in doc:
        if recorded.content_type not in ("application/x-www-form-urlencoded",
                                         "multipart/form-data"):
            out.append(f"content type: sent {recorded.content_type or 'none'!r}, documented a "
                       "form (application/x-www-form-urlencoded)")
        compare_fields(doc["form"], recorded.form(), "form", optional, out)
    elif "text" in doc:
        text = recorded.body.decode("utf-8", "replace")
        if not _wildcard(doc["text"], text) if ANY in doc["text"] else (
                text.strip() != str(doc["text"]).strip()):
            out.append(f"body: sent {_show(text)}, documented {_show(doc['text'])}")
    elif recorded.body:
        out.append(f"body: sent {_show(recorded.body.decode('utf-8', 'replace'))}, documented "
                   "none")
    return out


# -- the provider side --------------------------------------------------------------------------


def _reply_bytes(reply: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status = int(reply.get("status", 200))
    headers = dict(reply.get("headers") or {})
    lowered = {k.lower() for k in headers}
    if "json" in reply:
        body = json.dumps(reply["json"]).encode()
        default = "application/json"
    elif "form" in reply:
        body = urlencode(reply["form"]).encode()
        default = "application/x-www-form-urlencoded"
    else:
        body = str(reply.get("text", "")).encode()
        default = "text/plain; charset=utf-8"
    if "content-type" not in lowered and body:
        headers["Content-Type"] = default
    return status, list(headers.items()), body


class _Scripted:
    """A WSGI application answering the documented replies in order (then HTTP 599)."""

    def __init__(self, replies: Sequence[Mapping[str, Any]]):
        self.replies = list(replies)
        self.served = 0
        self.closing = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if self.closing:  # a logout while the client closes: not part of the exchange
            status, headers, body = 200, [("Content-Type", "application/json")], b"{}"
        elif self.served < len(self.replies):
            status, headers, body = _reply_bytes(self.replies[self.served])
            self.served += 1
        else:
            status, headers, body = 599, [("Content-Type", "application/json")], json.dumps(
                {"error": "undocumented_request", "message": "the documented exchange has no "
                 "more requests"}).encode()
        start_response(f"{status} Documented", headers)
        return [body]


def _client_for(spec: Any, exchange: Exchange, server: Any, options: Mapping[str, Any]) -> Any:
    from ..client import connect

    # no retries unless the file's config asks: the wire must be exactly the documented one
    config = {**dict(options), "retries": 0, **dict(exchange.config)}
    # a second base URL of the API (TeleCMI's live-call actions) points at the same server
    here = server.url if server is not None else "http://127.0.0.1:9"
    config = {k: (here if v == LOOPBACK else v) for k, v in config.items()}
    if server is not None:
        config.update(host="127.0.0.1", port=server.port, scheme="http")
    config.setdefault("host", "127.0.0.1")
    return connect(spec.name, **config)


def _plain(value: Any) -> Any:
    """A result's fields as JSON-like values (tuples as lists, datetimes as themselves)."""
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _equal(doc: Any, actual: Any) -> bool:
    if isinstance(doc, str) and ANY in doc:
        return _wildcard(doc, actual if not isinstance(actual, datetime) else actual.isoformat())
    if isinstance(actual, datetime) and isinstance(doc, str):
        try:
            return datetime.fromisoformat(doc.replace("Z", "+00:00")) == actual
        except ValueError:
            return False
    if isinstance(doc, dict) and isinstance(actual, Mapping):
        return all(k in actual and _equal(v, actual[k]) for k, v in doc.items())
    if isinstance(doc, list) and isinstance(actual, list):
        return len(doc) == len(actual) and all(map(_equal, doc, actual))
    return _jtype(doc) == _jtype(actual) and doc == actual


def _subset(kind: str, doc: Mapping[str, Any], actual: Mapping[str, Any], out: list[str]) -> None:
    for key, value in doc.items():
        if key not in actual:
            out.append(f"{kind}.{key}: documented {_show(value)}, the {kind} has no such field "
                       f"(fields: {', '.join(sorted(actual))})")
        elif not _equal(value, actual[key]):
            out.append(f"{kind}.{key}: got {_show(actual[key])}, documented {_show(value)}")


def _mro_names(value: Any) -> list[str]:
    return [c.__name__ for c in type(value).__mro__]


def _check_result(exchange: Exchange, result: Any, error: BaseException | None,
                  out: list[str]) -> None:
    if exchange.error is not None:
        wanted = exchange.error.get("type")
        if error is None:
            out.append(f"result: got {result!r}, documented the error {wanted}")
            return
        if wanted and wanted not in _mro_names(error):
            out.append(f"error: got {type(error).__name__}: {error}, documented {wanted}")
            return
        attributes = {k: getattr(error, k) for k in dir(error) if not k.startswith("_")
                      and k in exchange.error and k != "type"}
        _subset("error", {k: v for k, v in exchange.error.items() if k != "type"},
                _plain(attributes), out)
        return
    if error is not None:
        out.append(f"result: the operation raised {type(error).__name__}: {error}")
        return
    from .ids import result_ids_problem

    problem = result_ids_problem(result)  # whatever the exchange documents (see .ids)
    if problem:
        out.append(f"result: {problem}")
    if exchange.result is None:
        if isinstance(result, bytes | bytearray) and exchange.wire:
            last = exchange.wire[-1]["reply"]
            if "text" in last and bytes(result) != str(last["text"]).encode():
                out.append(f"result: got {len(result)} bytes, not the documented reply body")
        return
    wanted = exchange.result.get("type")
    if isinstance(result, list) and "fields" in exchange.result and "items" not in (
            exchange.result):  # a list result told by its first item
        if not result:
            out.append(f"result: got an empty list, documented a {wanted}")
            return
        result = result[0]
    if isinstance(result, list):
        items = exchange.result.get("items")
        if wanted and wanted not in ("list", *(_mro_names(result[0]) if result else ())):
            out.append(f"result: got a list of {len(result)}, documented {wanted}")
        if items is not None:
            if len(items) != len(result):
                out.append(f"result: got {len(result)} items {_show(_plain(result))}, "
                           f"documented {len(items)}")
            for index, (doc, got) in enumerate(zip(items, result, strict=False)):
                _subset(f"result[{index}]", doc, _plain(got), out)
        return
    if wanted and wanted not in _mro_names(result):
        out.append(f"result: got {type(result).__name__} {result!r}, documented {wanted}")
        return
    _subset("result", exchange.result.get("fields") or {}, _plain(result), out)


def _event_ids_problems(events: Sequence[Any]) -> list[str]:
    """Every parsed event's ``call_id`` keeps the Ids contract (None, or the vendor's id without
    ``call:``), whatever the exchange documents: a sample transcribed with the prefix must not
    make a provider that returns it pass."""
    from .ids import call_id_problem

    found = (call_id_problem(f"event[{i}]", getattr(e, "call_id", None), nullable=True)
             for i, e in enumerate(events))
    return [f"events: {problem}" for problem in found if problem]


def _event_body(event: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    headers = dict(event.get("headers") or {})
    lowered = {k.lower() for k in headers}
    if "json" in event:
        body, default = json.dumps(event["json"]).encode(), "application/json"
    elif "form" in event:
        body, default = urlencode(event["form"]).encode(), "application/x-www-form-urlencoded"
    else:
        body, default = str(event.get("text", "")).encode(), "text/plain; charset=utf-8"
    if "content-type" not in lowered:
        headers["Content-Type"] = default
    return body, headers


def _check_events(spec: Any, exchange: Exchange, options: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    body, headers = _event_body(exchange.event or {})
    client = _client_for(spec, exchange, None, options)
    try:
        try:
            events = client.parse_event(body, headers)
        except Exception as exc:  # judged below: only the documented refusal is allowed
            wanted = (exchange.error or {}).get("type")
            if wanted is None:
                out.append(f"events: parse_event raised {type(exc).__name__}: {exc}")
            elif wanted not in _mro_names(exc):
                out.append(f"events: parse_event raised {type(exc).__name__}: {exc}, "
                           f"documented {wanted}")
            return out
        if exchange.error is not None:
            out.append(f"events: parse_event gave {_show(_plain(events))}, documented the "
                       f"error {exchange.error.get('type')}")
            return out
        wanted_events = list(exchange.events or ())
        if len(events) != len(wanted_events):
            out.append(f"events: got {len(events)} "
                       f"{[(e.kind, e.call_id) for e in events]}, documented "
                       f"{len(wanted_events)} {[e.get('kind') for e in wanted_events]}")
        for index, (doc, got) in enumerate(zip(wanted_events, events, strict=False)):
            _subset(f"event[{index}]", doc, _plain(got), out)
        out += _event_ids_problems(events)
    finally:
        client.close()
    return out


def _invoke(client: Any, exchange: Exchange) -> Any:
    """A catalogue operation through the facade; a provider extra (``"extra": true``, or an
    operation outside the catalogue) as the provider's own method."""
    from ..catalogue import OPERATIONS
    from ..wire import OneRequest

    if exchange.extra or exchange.operation not in OPERATIONS:
        method = getattr(client.provider, str(exchange.operation), None)
        if not callable(method):
            raise AttributeError(f"the provider has no method {exchange.operation!r} (an extra "
                                 "exchange names one of the provider's own methods)")
        found = method(**dict(exchange.payload))
        if inspect.isgenerator(found) or isinstance(found, OneRequest):
            # plugin API 2: an exchange, run by the client's driver
            return _drive_extra(client, found, own_session=exchange.operation != "login")
        return found
    return client.invoke(exchange.operation, dict(exchange.payload))


def _drive_extra(client: Any, exchange: Any, *, own_session: bool) -> Any:
    """Drive a provider's own sans-IO exchange (its ``login()``, a vendor extra) through the
    sync client's driver: the session attached unless the exchange is the login itself."""
    from ..session import drive

    transport = getattr(client, "_transport", None)
    if transport is None:
        raise TypeError("a generator extra needs a plugin API 2 HTTP provider")
    session = getattr(client, "_session", None) if own_session else None
    return drive(client.provider, exchange, transport.send, session)


def check_provider(spec: Any, exchange: Exchange,
                   client_options: Mapping[str, Any] | None = None) -> list[str]:
    """Run ``exchange`` through a real client of provider ``spec`` against a loopback server
    answering the documented replies; the differences, each naming where (empty: it holds)."""
    from ..emulation import EmulatorServer

    options = {"timeout": 2, "connect_timeout": 2, "deadline": 10, **dict(client_options or {})}
    if exchange.problem:
        return [f"the exchange is malformed: {exchange.problem}"]
    if exchange.operation is None:
        return _check_events(spec, exchange, options)
    out: list[str] = []
    app = _Scripted([step["reply"] for step in exchange.wire])
    with EmulatorServer(app) as server:
        client = _client_for(spec, exchange, server, options)
        try:
            result, error = None, None
            try:
                result = _invoke(client, exchange)
            except Exception as exc:  # judged by _check_result
                error = exc
            recorded = server.requests
            app.closing = True
        finally:
            client.close()
    for index, step in enumerate(exchange.wire):
        if index >= len(recorded):
            out.append(f"wire[{index}]: documented {step['request'].get('method', 'GET')} "
                       f"{step['request'].get('path')}, not sent (the provider sent "
                       f"{len(recorded)} request(s): {[str(r) for r in recorded]})")
            continue
        out += [f"wire[{index}] {recorded[index]}: {d}" for d in request_differences(
            step["request"], recorded[index])]
    for extra in recorded[len(exchange.wire):]:
        out.append(f"wire[{recorded.index(extra)}]: sent {extra}, which the exchange does not "
                   "document")
    _check_result(exchange, result, error, out)
    return out


# -- the emulator side --------------------------------------------------------------------------


def _generic(where: str) -> str:
    """``json.calls[2].to`` -> ``json.calls[].to`` (how ``nullable`` paths are written)."""
    return re.sub(r"\[\d+\]", "[]", where)


def shape_differences(doc: Any, actual: Any, where: str, out: list[str],
                      allow_null: Callable[[str], bool] | None = None) -> None:
    """Where ``actual`` differs in shape from ``doc``: keys and JSON types, recursively (a
    documented ``null`` admits any type; array items are compared with the first documented
    item, or, where the documented items differ in shape (a list of members of different
    kinds), by position when the lengths agree, else each with the documented item it
    matches). ``allow_null(where)`` says whether a ``null`` where the sample has a value is
    allowed there (the vendor documents that the field may be null)."""
    if doc is None or (isinstance(doc, str) and doc == ANY):
        return
    if actual is None and allow_null is not None and allow_null(where):
        return
    if _jtype(doc) != _jtype(actual):
        out.append(f"{where}: the emulator answered {_show(actual)} ({_jtype(actual)}), "
                   f"documented {_show(doc)} ({_jtype(doc)})")
        return
    if isinstance(doc, dict):
        for key in doc:
            if key not in actual:
                out.append(f"{where}.{key}: documented, missing from the emulator's reply")
            else:
                shape_differences(doc[key], actual[key], f"{where}.{key}", out, allow_null)
        for key in actual:
            if key not in doc:
                out.append(f"{where}.{key}: in the emulator's reply ({_show(actual[key])}), "
                           "not documented")
    elif isinstance(doc, list) and doc and actual:
        for index, item in enumerate(actual):
            at = f"{where}[{index}]"
            if len(doc) == 1 or _same_shapes(doc):
                shape_differences(doc[0], item, at, out, allow_null)
            elif len(doc) == len(actual):  # members of different kinds, in a documented order
                shape_differences(doc[index], item, at, out, allow_null)
            else:  # members of different kinds: each must have the shape of one of them
                tried = []
                for candidate in doc:
                    found: list[str] = []
                    shape_differences(candidate, item, at, found, allow_null)
                    if not found:
                        break
                    tried.append(found)
                else:
                    out.extend(min(tried, key=len))


def _same_shapes(items: list[Any]) -> bool:
    """Whether every documented item has the first one's shape (the usual list of rows)."""
    for item in items[1:]:
        found: list[str] = []
        shape_differences(items[0], item, "", found)
        if found:
            return False
    return True


def _xml_shape(doc: str, actual: str, out: list[str]) -> None:
    try:
        want = ET.fromstring(doc.strip())
    except ET.ParseError:
        return  # documented text that is not XML: status and content type only
    try:
        got = ET.fromstring(actual.strip())
    except ET.ParseError as exc:
        out.append(f"body: the emulator answered {_show(actual)}, not XML ({exc}); documented XML")
        return

    def walk(w: ET.Element, g: ET.Element, where: str) -> None:
        if w.tag != g.tag:
            out.append(f"{where}: the emulator answered element <{g.tag}>, documented <{w.tag}>")
            return
        wanted = [c.tag for c in w]
        have = [c.tag for c in g]
        for tag in dict.fromkeys(wanted):
            if tag not in have:
                out.append(f"{where}/{tag}: documented, missing from the emulator's reply")
        for tag in dict.fromkeys(have):
            if tag not in wanted:
                out.append(f"{where}/{tag}: in the emulator's reply, not documented")
        for child in w:
            match = g.find(child.tag)
            if match is not None:
                walk(child, match, f"{where}/{child.tag}")

    walk(want, got, want.tag)


_LOCATIONS = ("path", "text", "query.", "json.", "form.", "headers.")


def _substitute(value: Any, where: str, subs: Mapping[str, Any],
                captured: Mapping[str, Any]) -> Any:
    """``value`` (found at ``where``: ``path``, ``json.a.b``...) with the hook's substitutions
    (a location, or a documented value such as a call id to replace wherever it appears) and
    ``<any>`` filled from values of the same name captured from earlier replies."""
    if where in subs:
        return subs[where]
    if isinstance(value, str):
        for old, new in subs.items():
            if isinstance(old, str) and not old.startswith(_LOCATIONS) and old in value:
                value = value.replace(old, str(new))
    if isinstance(value, dict):
        return {k: _substitute(v, f"{where}.{k}", subs, captured) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, f"{where}[{i}]", subs, captured) for i, v in enumerate(value)]
    if isinstance(value, str) and ANY in value:
        key = where.rsplit(".", 1)[-1].lower()
        found = captured.get(key)
        if found is None and where.startswith("headers."):
            found = next((captured[k] for k in ("token", "access_token", "accesstoken")
                          if k in captured), None)
        if found is not None:
            return value.replace(ANY, str(found))
    return value


def _capture(data: Any, into: dict[str, Any]) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                into[str(key).lower()] = value
            else:
                _capture(value, into)
    elif isinstance(data, list):
        for item in data:
            _capture(item, into)


def _send(base_url: str, request: Mapping[str, Any], subs: Mapping[str, Any],
          captured: Mapping[str, Any]) -> Any:
    import requests

    path = _substitute(request.get("path", "/"), "path", subs, captured)
    query = _substitute(dict(request.get("query") or {}), "query", subs, captured)
    headers = _substitute(dict(request.get("headers") or {}), "headers", subs, captured)
    kwargs: dict[str, Any] = {"params": {k: _as_text(v) for k, v in query.items()},
                              "headers": {k: str(v) for k, v in headers.items()},
                              "timeout": 5, "allow_redirects": False}
    if "json" in request:
        kwargs["json"] = _substitute(request["json"], "json", subs, captured)
    elif "form" in request:
        form = _substitute(dict(request["form"]), "form", subs, captured)
        kwargs["data"] = {k: _as_text(v) for k, v in form.items()}
    elif "text" in request:
        kwargs["data"] = str(_substitute(request["text"], "text", subs, captured)).encode()
    return requests.request(str(request.get("method", "GET")).upper(), base_url + path,
                            **kwargs)


def _follows(doc: Mapping[str, Any], response: Any, subs: Mapping[Any, Any]) -> list[str]:
    """A reply computed from the model carries the live values the request was sent with (the
    hook's substitutions, e.g. a documented call id -> the prepared call's id), not the
    documented ones: an emulator that replays the vendor's sample is caught here."""
    documented = _leaves(doc.get("json", doc.get("text", "")))
    try:
        answered = _leaves(response.json())
    except ValueError:
        answered = set(re.findall(r"[\w.:+-]+", response.text))
    out = []
    for old, new in subs.items():
        if not isinstance(old, str) or old.startswith(_LOCATIONS) or str(new) == old:
            continue
        if old in documented and old in answered and str(new) not in answered:
            out.append(f"the reply carries the documented {old!r} where the prepared model has "
                       f"{str(new)!r}: it must be computed from the model, not replayed")
    return out


def _leaves(data: Any) -> set[str]:
    """Every scalar of a JSON value (or every word of a text), as text."""
    if isinstance(data, dict):
        return {v for value in data.values() for v in _leaves(value)}
    if isinstance(data, list):
        return {v for value in data for v in _leaves(value)}
    if isinstance(data, str) and not data.lstrip().startswith("<"):
        return {data}
    if isinstance(data, str):
        return set(re.findall(r"[\w.:+-]+", data))
    return {str(data)} if data is not None else set()


def reply_differences(doc: Mapping[str, Any], response: Any,
                      spec_allows_null: Callable[[str], bool] | None = None) -> list[str]:
    """How an emulator's reply differs from the documented one: status, content type, shape.

    A ``null`` where the sample shows a value is accepted where the vendor says the field may
    be null: the reply's ``nullable`` list (``["json.calls[].to"]``, transcribed from the
    vendor's field table) names it, or ``spec_allows_null(where)`` (the vendor spec's response
    schema for this request and status admits null there). A sample alone never does: one
    value in a sample is no evidence that the field can be absent."""
    out: list[str] = []
    status = int(doc.get("status", 200))
    if response.status_code != status:
        out.append(f"status: the emulator answered {response.status_code} "
                   f"({_show(response.text)}), documented {status}")
    wanted_type = next((v for k, v in (doc.get("headers") or {}).items()
                        if k.lower() == "content-type"), None)
    got_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if wanted_type and got_type != wanted_type.split(";")[0].strip().lower():
        out.append(f"content type: the emulator answered {got_type!r}, documented "
                   f"{wanted_type!r}")
    if "json" in doc:
        try:
            body = response.json()
        except ValueError:
            out.append(f"body: the emulator answered {_show(response.text)}, documented JSON")
        else:
            listed = frozenset(doc.get("nullable") or ())

            def allow_null(where: str) -> bool:
                return _generic(where) in listed or bool(
                    spec_allows_null is not None and spec_allows_null(where))

            shape_differences(doc["json"], body, "json", out, allow_null)
    elif "text" in doc:
        _xml_shape(str(doc["text"]), response.text, out)
    return out


@contextlib.contextmanager
def _emulator(fixtures: Any, spec: Any, exchange: Exchange) -> Iterator[Any]:
    options = {**_credentials(spec, exchange), **dict(
        getattr(fixtures, "documented_emulator_options", {}) or {})}
    with fixtures.session(spec, factory_overrides=options) as session:
        yield session


def _credentials(spec: Any, exchange: Exchange) -> dict[str, Any]:
    """The file's config values the emulator factory takes (``password``, ``appid``,
    ``secret``, ``token``...), so that the sample's credentials are the emulator's: found by
    asking the factory, since factories commonly take ``**options``."""
    from ..provider import HTTP_OPTIONS as OPTIONS

    factory = spec.emulator_factory()
    candidates = {k: v for k, v in exchange.file_config.items()
                  if k not in OPTIONS and k not in ("host", "port", "scheme")
                  and v != LOOPBACK}
    while candidates:
        try:
            factory(pbx=None, **candidates)
        except TypeError as exc:
            match = re.search(r"unexpected keyword argument '([^']+)'", str(exc))
            if match is None or match.group(1) not in candidates:
                return {}
            candidates.pop(match.group(1))
            continue
        return candidates
    return {}


def check_emulator(fixtures: Any, spec: Any, exchange: Exchange) -> list[str]:
    """Send the documented requests of ``exchange`` to provider ``spec``'s emulator (after
    ``fixtures.prepare_documented(session, exchange)``); the differences of its replies from the
    documented ones (empty: each has the documented status and shape).

    ``<any>`` values in the requests are filled from what the hook returns (``{"query.token":
    ..., "path": ..., "headers.Authorization": ...}``), else from values of the same name in the
    emulator's earlier replies in this exchange (a login's token)."""
    if exchange.problem:
        return [f"the exchange is malformed: {exchange.problem}"]
    if exchange.operation is None:
        return _check_emulator_events(fixtures, spec, exchange)
    out: list[str] = []
    with _emulator(fixtures, spec, exchange) as session:
        subs = fixtures.prepare_documented(session, exchange) or {}
        captured: dict[str, Any] = {}
        for index, step in enumerate(exchange.wire):
            request = step["request"]
            step_subs = subs[index] if isinstance(subs.get(index), Mapping) else subs
            try:
                response = _send(session.server.url, request, step_subs, captured)
            except Exception as exc:  # the emulator dropped the connection, say
                out.append(f"wire[{index}] {request.get('method', 'GET')} {request.get('path')}: "
                           f"the emulator gave no reply ({type(exc).__name__}: {exc})")
                break
            where = f"wire[{index}] {request.get('method', 'GET')} {request.get('path')}"
            nullable = _spec_nullable(fixtures, spec, response)
            out += [f"{where}: {d}" for d in reply_differences(step["reply"], response,
                                                              nullable)]
            out += [f"{where}: {d}" for d in _follows(step["reply"], response, step_subs)]
            with contextlib.suppress(ValueError):
                _capture(response.json(), captured)
        errors = session.server.errors
        if errors:
            out.append(f"the emulator raised {errors[-1]!r}")
    return out


def _spec_nullable(fixtures: Any, spec: Any, response: Any) -> Callable[[str], bool] | None:
    """``where -> bool``: whether the fixtures' vendor spec admits null at ``where`` in the
    reply schema of the request ``response`` answered (None: no spec, or it does not
    describe the request)."""
    from urllib.parse import urlsplit

    from .spec_evidence import declared, nullable_at

    try:
        found = declared(fixtures, spec)
    except (OSError, ValueError):
        return None  # the session's own spec check reports an unloadable spec
    if found is None:
        return None
    vendor, declaration = found
    sent = response.request
    op, _params, _allowed = vendor.find(str(sent.method), urlsplit(sent.url).path,
                                        declaration.base_path)
    if op is None:
        return None
    ctype = response.headers.get("Content-Type")
    return lambda where: nullable_at(vendor, op, response.status_code, ctype, where)


def _check_emulator_events(fixtures: Any, spec: Any, exchange: Exchange) -> list[str]:
    """The emulator's report for each documented canonical event has the documented body's
    shape (``app.render_event(event) -> (body, headers)``)."""
    from ..results import Event

    if exchange.error is not None or not exchange.events:
        return []  # a body the provider must refuse: nothing for the emulator to render
    from .spec_evidence import declared, webhook_problems

    fields = {f.name for f in attrs.fields(Event)} - {"raw", "provider"}
    documented = (exchange.event or {}).get("json")
    vendor = declared(fixtures, spec)
    described = vendor[0] if vendor is not None and vendor[0].webhooks else None
    out: list[str] = []
    with _emulator(fixtures, spec, exchange) as session:
        render = getattr(session.app, "render_event", None)
        if render is None:
            return [f"the emulator renders no reports (no render_event), so the documented "
                    f"report cannot be compared: {NO_RENDER}"]
        for index, wanted in enumerate(exchange.events):
            event = Event(provider=spec.name, **{k: v for k, v in wanted.items()
                                                   if k in fields})
            rendered = render(event)
            if rendered is None:
                out.append(f"event[{index}] {event.kind}: the emulator does not report it; the "
                           "vendor documents this report")
                continue
            body, _headers = rendered
            if described is not None:  # the vendor's spec describes its webhooks (Telnyx)
                out += [f"event[{index}] {described.title}: {p}"
                        for p in webhook_problems(described, body)]
            if documented is None:
                continue
            try:
                data = json.loads(body)
            except ValueError:
                out.append(f"event[{index}]: the emulator's report is not JSON: {_show(body)}")
                continue
            shape_differences(documented, data, f"event[{index}] json", out)
    return out


#: why an emulator without render_event is skipped on event samples
NO_RENDER = "an emulator that POSTs reports implements render_event"


def describe(exchange: Exchange, differences: Sequence[str], side: str) -> str:
    """The failure message: the exchange, its source, every difference."""
    return (f"{exchange.label}: the {side} differs from the vendor's document:\n  - "
            + "\n  - ".join(differences))

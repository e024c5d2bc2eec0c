"""Wire checks against a vendor's published API description (OpenAPI 3.x, ARI's Swagger 1.1).

An emulator and a provider written from one reading of the vendor agree with each other even
where both misread it. When the vendor publishes a machine-readable description, every request
that reaches the emulator (whichever client sent it) and every reply the emulator gives is
checked against it: the operation (path template and method), its parameters (path, query,
required ones present, no undeclared query parameter), the request body (content type, then the
operation's request schema) and the reply (the response schema of its status, for JSON replies).

A provider declares its spec in its conformance fixtures::

    class Fixtures(ProviderFixtures):
        vendor_spec = "../shared/specs/twilio/twilio_api_v2010.json"
        # or VendorSpec("../shared/specs/asterisk-ari", base_path="/ari", ignore=("/ws*",))

and the suite wraps the emulator application in :class:`SpecCheckedApp`, which records every
violation; a test whose traffic broke the spec fails naming the operation and the field.

Specs are loaded once per process (:func:`load`); the document itself is not validated (it is
the vendor's), and schema validators are built per operation on first use, so the 4 MB Telnyx
spec costs well under a second per run. Schemas are checked with :mod:`jsonschema` and the
document's own ``$ref``\\ s resolved through :mod:`referencing`; OpenAPI 3.0's ``nullable`` is
read as a JSON-Schema null type. Formats are not checked (vendors use private ones such as
Twilio's ``endpoint``).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

__all__ = ["Correction", "SpecCheckedApp", "SpecOperation", "VendorSpec", "apply_corrections",
           "load", "nullable_at", "resolve_path", "webhook_problems"]


@attrs.frozen
class Correction:
    """One declared correction of a vendor spec, applied to the loaded document (never to the
    vendor's file, and never as a derived copy): the spec says something the vendor's own
    documents or behaviour contradict, and ``reason`` says what and where that is shown.

    ``pointer`` is a JSON Pointer into the document (``/paths/~1calls/post/responses/200``);
    ``op`` is ``"replace"`` (the value at ``pointer`` must exist), ``"add"`` (sets a member of
    an existing object, appends with ``-`` to an array) or ``"remove"``. A correction that no
    longer applies (the vendor fixed its spec) fails loading, so it cannot go stale silently.
    """

    pointer: str
    value: Any = None
    reason: str = ""
    op: str = "replace"

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError(f"the correction of {self.pointer!r} gives no reason: say what the "
                             "vendor's spec gets wrong and where that is documented")
        if self.op not in ("replace", "add", "remove"):
            raise ValueError(f"the correction of {self.pointer!r}: op {self.op!r}: expected "
                             "replace, add or remove")
        if not self.pointer.startswith("/"):
            raise ValueError(f"the correction's pointer {self.pointer!r} is not a JSON Pointer "
                             "(it starts with '/')")


def apply_corrections(document: Any, corrections: Iterable[Correction], where: str) -> Any:
    """``document`` with ``corrections`` applied in order (a deep copy: the cached original
    is untouched)."""
    import copy

    document = copy.deepcopy(document)
    for fix in corrections:
        *parents, last = [t.replace("~1", "/").replace("~0", "~")
                          for t in fix.pointer.split("/")[1:]]
        node = document
        try:
            for token in parents:
                node = node[int(token)] if isinstance(node, list) else node[token]
            if isinstance(node, list):
                if fix.op == "add" and last == "-":
                    node.append(copy.deepcopy(fix.value))
                    continue
                index = int(last)
                if fix.op == "remove":
                    del node[index]
                elif fix.op == "add":
                    node.insert(index, copy.deepcopy(fix.value))
                else:
                    node[index] = copy.deepcopy(fix.value)
                continue
            if not isinstance(node, dict):
                raise KeyError(last)
            if fix.op in ("replace", "remove") and last not in node:
                raise KeyError(last)
            if fix.op == "remove":
                del node[last]
            else:
                node[last] = copy.deepcopy(fix.value)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValueError(f"{where}: the correction of {fix.pointer} ({fix.op}; reason: "
                             f"{fix.reason}) does not apply: the document has nothing there "
                             "(has the vendor fixed its spec? then drop the correction)") from None
    return document


@attrs.frozen
class VendorSpec:
    r"""A provider's declaration of its vendor's API description.

    ``path``: the OpenAPI 3.x file, or the folder of ARI Swagger 1.1 resource files (relative
    paths are looked up from the working directory and from the provider package's parents, so
    ``../shared/specs/...`` works from a source checkout). ``base_path``: a prefix the emulator
    serves the API under that the spec's paths do not carry (default: the path of the spec's
    first server URL or ``basePath``). ``ignore``: path globs the vendor does not describe
    (an emulator's own control endpoints) that are not checked. ``corrections``: declared
    :class:`Correction`\ s of the loaded document, each with its reason (OpenAPI files only).
    """

    path: str
    base_path: str | None = None
    ignore: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class SpecOperation:
    """One operation of a vendor spec: where it is and what it takes and answers."""

    name: str  # operationId / nickname, or "METHOD TEMPLATE"
    method: str
    template: str
    regex: re.Pattern[str] = attrs.field(repr=False)
    parameters: tuple[Mapping[str, Any], ...] = attrs.field(repr=False)
    #: content type -> JSON pointer of the request schema
    bodies: Mapping[str, str | None] = attrs.field(repr=False)
    body_required: bool = attrs.field(repr=False)
    #: status ("200", "2XX", "default") -> {content type: pointer}
    responses: Mapping[str, Mapping[str, str | None]] = attrs.field(repr=False)

    @property
    def literal_segments(self) -> int:
        return sum(1 for s in self.template.split("/") if s and "{" not in s)


def _template_regex(template: str) -> re.Pattern[str]:
    out, last = [], 0
    for match in re.finditer(r"\{([^}]+)\}", template):
        out.append(re.escape(template[last:match.start()]))
        out.append(f"(?P<p{len(out)}>[^/]+)")
        last = match.end()
    out.append(re.escape(template[last:]))
    return re.compile("".join(out))


def _names(template: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", template)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema (``type: [T, "null"]``), in place."""
    if isinstance(node, dict):
        if node.get("nullable") is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
            if "type" not in node and "$ref" in node:
                ref = node.pop("$ref")
                node["anyOf"] = [{"$ref": ref}, {"type": "null"}]
        for value in node.values():
            _nullable(value)
    elif isinstance(node, list):
        for value in node:
            _nullable(value)
    return node


class Spec:
    """A loaded vendor spec: its operations, and validators built on first use."""

    def __init__(self, path: Path, document: Mapping[str, Any], operations: list[SpecOperation],
                 base_path: str, draft: str):
        self.path = path
        self.document = document
        self.operations: list[Any] = sorted(operations,
                                            key=lambda o: (-o.literal_segments, o.template))
        self.base_path: str = base_path.rstrip("/")
        self.draft = draft
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._uri = f"urn:telephony-vendor-spec:{re.sub(r'[^A-Za-z0-9]+', '-', str(path))}"
        self._registry: Any = None
        #: webhook name -> (pointer of its body schema, the event_type values it describes)
        self.webhooks: dict[str, tuple[str, tuple[str, ...]]] = {}

    @property
    def title(self) -> str:
        return self.path.name

    def find(self, method: str, path: str, base_path: str | None = None
             ) -> tuple[SpecOperation | None, dict[str, str], list[str]]:
        """The operation serving ``method path`` and its path parameters; else None and the
        methods the path allows."""
        base = (self.base_path if base_path is None else base_path).rstrip("/")
        candidates = [path]
        if base and path.startswith(base + "/"):
            candidates.insert(0, path[len(base):])
        allowed: list[str] = []
        for candidate in candidates:
            for op in self.operations:
                match = op.regex.fullmatch(candidate)
                if match is None:
                    continue
                if op.method != method:
                    allowed.append(op.method)
                    continue
                values = [unquote(v) for v in match.groups()]
                return op, dict(zip(_names(op.template), values, strict=False)), []
        return None, {}, allowed

    def validator(self, pointer: str) -> Any:
        """A validator for the schema at ``pointer`` in the document (refs resolved)."""
        with self._lock:
            found = self._validators.get(pointer)
            if found is not None:
                return found
            import jsonschema
            from referencing import Registry
            from referencing.jsonschema import DRAFT4, DRAFT202012

            if self._registry is None:
                spec = DRAFT4 if self.draft == "draft4" else DRAFT202012
                self._registry = Registry().with_resource(
                    self._uri, spec.create_resource(self.document))
            cls = (jsonschema.Draft4Validator if self.draft == "draft4"
                   else jsonschema.Draft202012Validator)
            found = cls({"$ref": f"{self._uri}#{pointer}"}, registry=self._registry)
            self._validators[pointer] = found
            return found

    def schema_problems(self, pointer: str, value: Any, where: str) -> list[str]:
        out = []
        for error in sorted(self.validator(pointer).iter_errors(value),
                            key=lambda e: list(map(str, e.absolute_path)))[:5]:
            field = where + "".join(f".{p}" if isinstance(p, str) else f"[{p}]"
                                    for p in error.absolute_path)
            out.append(f"{field}: {_short(error.message)}")
        return out

    def at(self, pointer: str) -> Any:
        return _walk(self.document, pointer)


def _walk(node: Any, pointer: str) -> Any:
    for token in pointer.lstrip("/").split("/"):
        if token:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


# -- loading ------------------------------------------------------------------------------------


def resolve_path(path: str | Path, anchors: Iterable[Path] = ()) -> Path:
    """``path`` as given, or relative to an anchor (the provider package) or one of its
    parents, or to the working directory."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    places = [*(p for a in anchors for p in (a, *a.parents)), Path.cwd()]
    for place in places:
        if (place / candidate).exists():
            return (place / candidate).resolve()
    raise FileNotFoundError(
        f"vendor spec {str(path)!r} not found from {Path.cwd()} or the provider package's "
        "folders (tests read vendor specs from ../shared/specs/ next to the project root)")


_LOADED: dict[tuple[Path, tuple[tuple[str, ...], ...]], Spec] = {}
_LOADING = threading.Lock()


def load(path: str | Path, corrections: Iterable[Correction] = ()) -> Spec:
    """The spec at ``path`` (an OpenAPI 3.x JSON file or a folder of ARI Swagger 1.1 files),
    with ``corrections`` applied, parsed once per process."""
    resolved = Path(path).resolve()
    fixes = tuple(corrections)
    key = (resolved, tuple((f.pointer, f.op, json.dumps(f.value, sort_keys=True, default=str),
                            f.reason) for f in fixes))
    with _LOADING:
        if key not in _LOADED:
            if resolved.is_dir():
                if fixes:
                    raise ValueError(f"{resolved}: corrections apply to an OpenAPI file, not "
                                     "to a folder of Swagger 1.1 resources")
                _LOADED[key] = _load_swagger1(resolved)
            else:
                _LOADED[key] = _load_openapi(resolved, fixes)
        return _LOADED[key]


def _ref_target(document: Mapping[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local ``$ref``\\ s of a parameter/requestBody/response object."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 10:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            break
        pointer = ref[1:]
        node = _walk(document, pointer)
        seen += 1
    return node, pointer


def _load_openapi(path: Path, corrections: tuple[Correction, ...] = ()) -> Spec:
    document = json.loads(path.read_text(encoding="utf-8"))
    if corrections:
        document = apply_corrections(document, corrections, str(path))
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        raise ValueError(f"{path}: not an OpenAPI 3.x document (openapi: {version!r})")
    draft = "draft4" if version.startswith("3.0") else "2020-12"
    if draft == "draft4":
        _nullable(document)
    servers = document.get("servers") or [{}]
    base = urlsplit(str(servers[0].get("url", ""))).path
    operations = []
    for template, item in (document.get("paths") or {}).items():
        item, item_ptr = _ref_target(document, item, f"/paths/{_escape(template)}")
        shared = item.get("parameters") or []
        for method in ("get", "put", "post", "delete", "patch", "head", "options"):
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_ptr = f"{item_ptr}/{method}"
            params: dict[tuple[str, str], Mapping[str, Any]] = {}
            for index, raw in enumerate([*shared, *(op.get("parameters") or [])]):
                base_ptr = (f"{item_ptr}/parameters/{index}" if index < len(shared)
                            else f"{op_ptr}/parameters/{index - len(shared)}")
                param, param_ptr = _ref_target(document, raw, base_ptr)
                if isinstance(param, dict) and "name" in param:
                    params[(param["name"], param.get("in", "query"))] = {
                        **param, "schema_ptr": f"{param_ptr}/schema" if "schema" in param
                        else None}
            body, body_ptr = _ref_target(document, op.get("requestBody"), f"{op_ptr}/requestBody")
            bodies = {ctype: (f"{body_ptr}/content/{_escape(ctype)}/schema"
                              if "schema" in media else None)
                      for ctype, media in ((body or {}).get("content") or {}).items()}
            responses: dict[str, dict[str, str | None]] = {}
            for status, raw in (op.get("responses") or {}).items():
                reply, reply_ptr = _ref_target(document, raw, f"{op_ptr}/responses/{status}")
                responses[str(status)] = {
                    ctype: (f"{reply_ptr}/content/{_escape(ctype)}/schema"
                            if "schema" in media else None)
                    for ctype, media in ((reply or {}).get("content") or {}).items()}
            operations.append(SpecOperation(
                name=str(op.get("operationId") or f"{method.upper()} {template}"),
                method=method.upper(), template=template, regex=_template_regex(template),
                parameters=tuple(params.values()), bodies=bodies,
                body_required=bool((body or {}).get("required")), responses=responses))
    spec = Spec(path, document, operations, base, draft)
    for name, item in (document.get("webhooks") or {}).items():
        op = (item or {}).get("post") or {}
        body, body_ptr = _ref_target(document, op.get("requestBody"),
                                     f"/webhooks/{_escape(name)}/post/requestBody")
        media = ((body or {}).get("content") or {}).get("application/json")
        if media and "schema" in media:
            pointer = f"{body_ptr}/content/application~1json/schema"
            spec.webhooks[name] = (pointer, _event_types(document, media["schema"]))
    return spec


def _event_types(document: Mapping[str, Any], schema: Any, depth: int = 0) -> tuple[str, ...]:
    """The ``event_type`` values a webhook schema admits (under ``data``, as Telnyx nests it)."""
    node, _ = _ref_target(document, schema, "")
    if not isinstance(node, dict) or depth > 4:
        return ()
    props = node.get("properties") or {}
    if "event_type" in props:
        kind, _ = _ref_target(document, props["event_type"], "")
        values = (kind or {}).get("enum") or ([kind["const"]] if "const" in (kind or {}) else [])
        return tuple(str(v) for v in values)
    found: tuple[str, ...] = ()
    for key in ("data", "payload"):
        if key in props:
            found += _event_types(document, props[key], depth + 1)
    for branch in node.get("allOf") or []:
        found += _event_types(document, branch, depth + 1)
    return found


def webhook_problems(spec: Spec, body: bytes) -> list[str]:
    """How a webhook body breaks the spec's description of its event (OpenAPI 3.1
    ``webhooks``, chosen by ``data.event_type``); the empty list when it keeps it."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        return [f"the webhook body is not JSON ({exc})"]
    kind = None
    if isinstance(data, dict):
        inner = data.get("data") if isinstance(data.get("data"), dict) else data
        kind = inner.get("event_type")
    matches = [(name, ptr) for name, (ptr, kinds) in spec.webhooks.items() if kind in kinds]
    if not matches:
        return [f"event_type {kind!r}: no webhook of the spec describes it"]
    name, pointer = matches[0]
    return [f"webhook {name}: {p}" for p in spec.schema_problems(pointer, data, "json")]


_SWAGGER_TYPES = {"string": "string", "int": "integer", "long": "integer", "integer": "integer",
                  "double": "number", "float": "number", "number": "number",
                  "boolean": "boolean", "Date": "string", "object": "object",
                  "containers": "object", "binary": "string"}


def _swagger_type(kind: str, models: Mapping[str, Any]) -> dict[str, Any]:
    kind = kind.strip()
    if kind.startswith("List[") and kind.endswith("]"):
        return {"type": "array", "items": _swagger_type(kind[5:-1], models)}
    if kind in models:
        return {"$ref": f"#/$defs/{kind}"}
    if kind == "void":
        return {}
    return {"type": _SWAGGER_TYPES[kind]} if kind in _SWAGGER_TYPES else {}


def _swagger_schema(node: Mapping[str, Any], models: Mapping[str, Any]) -> dict[str, Any]:
    schema = _swagger_type(str(node.get("type") or node.get("dataType") or ""), models)
    values = (node.get("allowableValues") or {}).get("values")
    if values and schema.get("type") == "string":
        schema["enum"] = list(values)
    return schema


def _load_swagger1(folder: Path) -> Spec:
    """ARI's Swagger 1.1/1.2 resource files, turned into one document with JSON-schema models
    under ``$defs`` (models of every file, since events.json's models are used by others)."""
    files = sorted(folder.glob("*.json"))
    raw = {f.name: json.loads(f.read_text(encoding="utf-8")) for f in files}
    all_models: dict[str, Any] = {}
    for data in raw.values():
        all_models.update(data.get("models") or {})
    defs = {}
    for name, model in all_models.items():
        props = model.get("properties") or {}
        defs[name] = {"type": "object",
                      "properties": {k: _swagger_schema(v, all_models) for k, v in props.items()},
                      "required": sorted(k for k, v in props.items() if v.get("required"))}
    document: dict[str, Any] = {"$defs": defs, "operations": {}}
    operations = []
    base = ""
    for fname, data in raw.items():
        base = base or urlsplit(str(data.get("basePath", ""))).path
        for api in data.get("apis") or []:
            template = str(api.get("path", ""))
            for op in api.get("operations") or []:
                method = str(op.get("httpMethod", "GET")).upper()
                nickname = str(op.get("nickname") or f"{method} {template}")
                key = _escape(f"{fname}:{nickname}:{method}:{template}")
                entry: dict[str, Any] = {"response": _swagger_type(
                    str(op.get("responseClass") or "void"), all_models)}
                params = []
                body_ptr = None
                body_required = False
                for index, p in enumerate(op.get("parameters") or []):
                    where = {"path": "path", "query": "query", "body": "body",
                             "header": "header", "form": "formData"}.get(p.get("paramType"),
                                                                            "query")
                    schema = _swagger_schema(p, all_models)
                    if p.get("allowMultiple") and schema.get("type") != "array":
                        schema = {"anyOf": [schema, {"type": "string"}]}
                    entry[f"p{index}"] = schema
                    if where == "body":
                        body_ptr = f"/operations/{key}/p{index}"
                        body_required = bool(p.get("required"))
                        continue
                    params.append({"name": p.get("name"), "in": where,
                                   "required": bool(p.get("required")) or where == "path",
                                   "schema_ptr": f"/operations/{key}/p{index}",
                                   "swagger": True})
                document["operations"][key.replace("~1", "/").replace("~0", "~")] = entry
                responses: dict[str, dict[str, str | None]] = {
                    "2XX": {"application/json": f"/operations/{key}/response"
                            if entry["response"] else None}}
                for error in op.get("errorResponses") or []:
                    responses[str(error.get("code"))] = {}
                operations.append(SpecOperation(
                    name=f"{nickname} ({fname})", method=method, template=template,
                    regex=_template_regex(template), parameters=tuple(params),
                    bodies={"application/json": body_ptr} if body_ptr else {},
                    body_required=body_required, responses=responses))
    return Spec(folder, document, operations, base, "2020-12")


# -- checking traffic ---------------------------------------------------------------------------


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A query/form/path value (text on the wire) as the JSON type its schema wants."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in kinds and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if "array" in kinds:
        return value.split(",")
    return value


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _content_match(declared: Mapping[str, Any], media: str) -> str | None:
    for ctype in declared:
        if ctype.lower() == media or fnmatch.fnmatch(media, ctype.lower()):
            return ctype
    return None


def request_problems(spec: Spec, method: str, path: str, query: list[tuple[str, str]],
                     headers: Mapping[str, str], body: bytes, base_path: str | None = None
                     ) -> tuple[SpecOperation | None, list[str]]:
    """The operation a request is for, and how the request breaks it."""
    op, path_values, allowed = spec.find(method, path, base_path)
    if op is None:
        if allowed:
            return None, [f"{method} {path}: the spec allows only {sorted(set(allowed))} on "
                          "this path"]
        return None, [f"{method} {path}: no operation of the spec has this path"]
    out: list[str] = []
    lowered = {k.lower(): v for k, v in headers.items()}
    sent = {}
    for key, value in query:
        sent.setdefault(key, []).append(value)
    declared_query = set()
    for param in op.parameters:
        name, where = str(param["name"]), param.get("in", "query")
        pointer = param.get("schema_ptr")
        schema = spec.at(pointer) if pointer else {}
        if where == "path":
            value = path_values.get(name)
            if value is not None and pointer:
                out += spec.schema_problems(pointer, _coerce(value, schema), f"path.{name}")
            continue
        if where == "query":
            declared_query.add(name)
            values = sent.get(name) or sent.get(f"{name}[]")
            if values is None:
                if param.get("required"):
                    out.append(f"query.{name}: required by the spec, not sent")
                continue
            if pointer:
                value = values if schema.get("type") == "array" else values[-1]
                if isinstance(value, str):
                    value = _coerce(value, schema)
                out += spec.schema_problems(pointer, value, f"query.{name}")
        elif (where == "header" and name.lower() not in lowered and param.get("required")
              and name.lower() != "authorization"):
            out.append(f"headers.{name}: required by the spec, not sent")
    for key in sent:
        if key not in declared_query and key.removesuffix("[]") not in declared_query:
            out.append(f"query.{key}: sent, the spec declares no such parameter (parameters: "
                       f"{', '.join(sorted(declared_query)) or 'none'})")
    media = _media(lowered.get("content-type"))
    if not body:
        if op.body_required:
            out.append(f"body: required by the spec ({', '.join(op.bodies)}), none sent")
        return op, out
    if not op.bodies:
        out.append(f"body: sent {len(body)} bytes ({media or 'no content type'}), the spec "
                   "takes no body")
        return op, out
    ctype = _content_match(op.bodies, media)
    if ctype is None:
        out.append(f"content type: sent {media or 'none'!r}, the spec takes "
                   f"{', '.join(op.bodies)}")
        return op, out
    pointer = op.bodies[ctype]
    if pointer is None:
        return op, out
    out += _body_problems(spec, pointer, media, body, "body")
    return op, out


def _body_problems(spec: Spec, pointer: str, media: str, body: bytes, where: str) -> list[str]:
    if media == "application/x-www-form-urlencoded":
        schema = spec.at(pointer)
        props = schema.get("properties") or {} if isinstance(schema, dict) else {}
        form: dict[str, Any] = {}
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            prop = props.get(key) or {}
            if prop.get("type") == "array":
                form.setdefault(key, []).append(value)
            else:
                form[key] = _coerce(value, prop)
        return spec.schema_problems(pointer, form, "form")
    if media.endswith("json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            return [f"{where}: not JSON ({exc}) though sent as {media}"]
        return spec.schema_problems(pointer, data, "json")
    return []


def reply_problems(spec: Spec, op: SpecOperation, status: int, content_type: str | None,
                   body: bytes) -> list[str]:
    """How a reply breaks the response the spec declares for ``op`` and ``status``."""
    declared = (op.responses.get(str(status)) if str(status) in op.responses
                else op.responses.get(f"{str(status)[0]}XX", op.responses.get("default")))
    if declared is None:
        if status >= 400 and not any(k[0] in "45d" for k in op.responses):
            return []  # the spec describes no error reply at all (Twilio's): nothing to check
        return [f"status {status}: not a response the spec declares (declared: "
                f"{', '.join(sorted(op.responses)) or 'none'})"]
    media = _media(content_type)
    if not declared or not body or status in (204, 304):
        return []
    ctype = _content_match(declared, media)
    if ctype is None:
        return [f"content type: answered {media or 'none'!r}, the spec declares "
                f"{', '.join(declared)}"]
    pointer = declared[ctype]
    return [] if pointer is None else _body_problems(spec, pointer, media, body, "reply")


def _admits_null(node: Any, spec: Spec, depth: int = 0) -> bool:
    node = _resolved(node, spec)
    if not isinstance(node, Mapping) or depth > 20:
        return False
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind) or node.get("nullable"):
        return True
    if "enum" in node and None in (node.get("enum") or ()):
        return True
    return any(_admits_null(sub, spec, depth + 1) for key in ("anyOf", "oneOf")
               for sub in node.get(key) or ())


def _resolved(node: Any, spec: Spec) -> Any:
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return None
        node = spec.at(ref[1:])
        seen += 1
    return node


def _children(node: Any, spec: Spec, step: str) -> list[Any]:
    """The subschemas ``step`` (a property name, or ``[]``) leads to from ``node``."""
    node = _resolved(node, spec)
    if not isinstance(node, Mapping):
        return []
    found: list[Any] = []
    for part in node.get("allOf") or ():
        found += _children(part, spec, step)
    for key in ("anyOf", "oneOf"):
        for part in node.get(key) or ():
            found += _children(part, spec, step)
    if step == "[]":
        if isinstance(node.get("items"), Mapping):
            found.append(node["items"])
    elif isinstance((node.get("properties") or {}).get(step), Mapping):
        found.append(node["properties"][step])
    return found


def nullable_at(spec: Spec, op: SpecOperation, status: int, content_type: str | None,
                where: str) -> bool:
    """Whether ``op``'s reply schema for ``status`` admits ``null`` at ``where`` (a documented
    exchange's path: ``json.calls[0].to``): its ``type`` lists null, it is OpenAPI 3.0
    ``nullable``, its enum holds null, or an ``anyOf``/``oneOf`` branch does. A path the
    schema does not describe admits nothing."""
    declared = (op.responses.get(str(status)) if str(status) in op.responses
                else op.responses.get(f"{str(status)[0]}XX", op.responses.get("default")))
    if not declared:
        return False
    ctype = _content_match(declared, _media(content_type))
    pointer = declared.get(ctype) if ctype is not None else None
    if pointer is None:
        return False
    steps = re.findall(r"\.([^.\[\]]+)|(\[\d*\])", where.removeprefix("json"))
    nodes: list[Any] = [spec.at(pointer)]
    for name, index in steps:
        nodes = [child for node in nodes for child in _children(node, spec, "[]" if index
                                                                   else name)]
        if not nodes:
            return False
    return any(_admits_null(node, spec) for node in nodes)


class SpecCheckedApp:
    """WSGI middleware around an emulator application: every request and reply is checked
    against the vendor spec; violations are kept in :attr:`violations` (the suite fails a test
    whose traffic broke the spec). Everything else is the wrapped application's (``pbx``,
    ``errors``, ``expire_tokens``, ``connect_url``...)."""

    def __init__(self, app: Any, spec: Spec, declaration: VendorSpec):
        self.__dict__["_app"] = app
        self.__dict__["_spec"] = spec
        self.__dict__["_declaration"] = declaration
        self.__dict__["violations"] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._app, name, value)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = unquote(urlsplit(environ.get("RAW_URI") or environ.get("PATH_INFO", "/")).path)
        ignored = any(fnmatch.fnmatchcase(path, g) for g in self._declaration.ignore)
        body = environ["wsgi.input"].read() if environ.get("wsgi.input") else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        op = None
        if not ignored:
            op, found = request_problems(
                self._spec, method, path, parse_qsl(environ.get("QUERY_STRING", ""),
                                                    keep_blank_values=True),
                headers, body, self._declaration.base_path)
            self._record(op, method, path, "request", found)
        captured: list[Any] = []

        def capture(status: str, reply_headers: list[tuple[str, str]], exc_info: Any = None):
            captured[:] = [status, reply_headers]
            return start_response(status, reply_headers, exc_info)

        chunks = list(self._app(environ, capture))
        if op is not None and captured:
            status = int(str(captured[0]).split(" ", 1)[0])
            ctype = next((v for k, v in captured[1] if k.lower() == "content-type"), None)
            self._record(op, method, path, f"reply {status}",
                         reply_problems(self._spec, op, status, ctype, b"".join(chunks)))
        return chunks

    def _record(self, op: SpecOperation | None, method: str, path: str, what: str,
                found: list[str]) -> None:
        if not found:
            return
        name = op.name if op is not None else "(no operation)"
        with self._app.lock if hasattr(self._app, "lock") else _NOLOCK:
            self.violations.extend(f"{self._spec.title}: operation {name} ({method} {path}), "
                                   f"{what}: {problem}" for problem in found)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NOLOCK = _NoLock()


@functools.cache
def _anchor_dirs(package: str | None) -> tuple[Path, ...]:
    from .documented import _package_dir

    found = _package_dir(package)
    return (found,) if found is not None else ()


def declared(fixtures: Any, spec: Any) -> tuple[Spec, VendorSpec] | None:
    """The loaded spec the fixtures declare for provider ``spec`` (None when none)."""
    raw = getattr(fixtures, "vendor_spec", None)
    if not raw:
        return None
    declaration = raw if isinstance(raw, VendorSpec) else VendorSpec(str(raw))
    path = resolve_path(declaration.path, _anchor_dirs(getattr(spec, "package", None)))
    return load(path, declaration.corrections), declaration

"""A small base for emulator applications, so each vendor emulator is a thin wire adapter.

A vendor emulator translates its vendor's HTTP API onto the shared PBX model (``self.pbx``)::

    class AcmeEmulator(EmulatorApp):
        '''Demo credentials: user ``api``, password ``acme-demo``.'''

        @route("POST", "/api/calls")
        def dial(self, request):
            body = self.read_json(request)
            call = self.pbx.dial(body["from"], body["to"])
            return {"id": call.id}                  # a dict becomes a JSON 200

        @route("DELETE", "/api/calls/{call_id}")
        def hangup(self, request, call_id):
            ...
            return self.json_response({"ok": True}, status=202)

        def connect_url(self, base_url):
            return f"acme://api:acme-demo@{base_url.split('://', 1)[1]}?scheme=http"

Unknown paths answer 404 and known paths with another method 405 (with ``Allow``), both as
JSON. A handler that raises is answered with HTTP 500; the exception is logged with its
traceback and kept in :attr:`EmulatorApp.errors` so a test can fail on it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, unquote, urlsplit

import attrs
from werkzeug.wrappers import Request, Response

from ..redaction import get_logger, redact

__all__ = ["Abort", "EmulatorApp", "Request", "Response", "route"]

log: logging.Logger = get_logger("telephony_core.emulation.app")

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(path))?\}")
_ROUTES_ATTR = "_emulator_routes"


F = TypeVar("F", bound=Callable[..., Any])


def route(method: str | Iterable[str], pattern: str) -> Callable[[F], F]:
    """Mark a method of an :class:`EmulatorApp` subclass as the handler of ``method pattern``.

    ``pattern`` is a path with ``{name}`` parameters (one path segment) or ``{name:path}``
    (the rest of the path, slashes included); they are passed to the handler as keyword
    arguments, percent-decoded (matching happens on the path as sent, so ``%2F`` inside a
    segment does not split it). A method may carry several ``@route`` decorators.
    """
    methods = (method,) if isinstance(method, str) else tuple(method)

    def mark(fn: F) -> F:
        marks = list(getattr(fn, _ROUTES_ATTR, ()))
        marks.append((tuple(m.upper() for m in methods), pattern))
        setattr(fn, _ROUTES_ATTR, marks)
        return fn

    return mark


class Abort(Exception):
    """Raise from a handler to answer ``response`` at once (a vendor error reply)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


@attrs.frozen
class _Route:
    methods: tuple[str, ...]
    pattern: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]

    @property
    def literal(self) -> bool:
        return not _PARAM.search(self.pattern)


def _raw_path(request: Request) -> str:
    """The path as sent, still percent-encoded, so an encoded ``/`` stays inside its segment."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return urlsplit(raw).path or "/"
    return quote(request.path)


def _compile(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("/"):
        raise ValueError(f"a route pattern must start with '/', not {pattern!r}")
    out, last = [], 0
    for match in _PARAM.finditer(pattern):
        out.append(re.escape(pattern[last:match.start()]))
        body = ".+" if match.group(2) else "[^/]+"
        out.append(f"(?P<{match.group(1)}>{body})")
        last = match.end()
    out.append(re.escape(pattern[last:]))
    return re.compile("".join(out))


class EmulatorApp:
    """Base of emulator WSGI applications (werkzeug :class:`Request`/:class:`Response`).

    Routes come from ``@route`` decorated methods, from the class table ``routes``
    (``{("GET", "/path/{id}"): "method_name"}``) and from :meth:`add_route`. Literal paths are
    tried before patterns; patterns in the order they were declared.

    A handler is called as ``handler(request, **params)`` and returns a werkzeug ``Response``,
    or data (turned into a JSON 200), or ``(data, status)``. Handlers run concurrently (one
    thread per connection): guard shared state with :attr:`lock`.

    Subclasses document their demo credentials in their class docstring (``telephony emulate``
    points users there) and implement :meth:`connect_url`; those with sessions implement
    :meth:`expire_tokens` (used by ``Fault.expired_token()``).
    """

    #: Optional class-level route table: (method, pattern) -> name of the handler method.
    routes: ClassVar[Mapping[tuple[str, str], str]] = {}

    @staticmethod
    def route(method: str | Iterable[str], pattern: str) -> Callable[[F], F]:
        """The module's :func:`route`, reachable as ``self.route`` in subclasses."""
        return route(method, pattern)

    def __init__(self, pbx: Any = None):
        self.pbx = pbx
        self.lock: threading.RLock = threading.RLock()
        self.errors: list[BaseException] = []
        self._routes: list[_Route] = []
        seen: set[str] = set()
        for klass in type(self).__mro__:
            for name, value in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                for methods, pattern in getattr(value, _ROUTES_ATTR, ()):
                    self.add_route(methods, pattern, getattr(self, name))
        for (method, pattern), name in self.routes.items():
            self.add_route(method, pattern, getattr(self, name))

    def add_route(self, method: str | Iterable[str], pattern: str,
                  handler: Callable[..., Any]) -> None:
        """Serve ``method pattern`` with ``handler(request, **params)``."""
        methods = (method,) if isinstance(method, str) else tuple(method)
        self._routes.append(_Route(tuple(m.upper() for m in methods), pattern,
                                   _compile(pattern), handler))

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Find the handler for ``request`` and turn what it returns into a Response."""
        path = request.path
        raw = _raw_path(request)
        allowed: list[str] = []
        ordered = [r for r in self._routes if r.literal] + [
            r for r in self._routes if not r.literal]
        for candidate in ordered:
            match = candidate.regex.fullmatch(raw)
            if match is None:
                continue
            methods = candidate.methods
            if "GET" in methods and "HEAD" not in methods:
                methods = (*methods, "HEAD")  # werkzeug drops the body of a HEAD reply
            if request.method not in methods:
                allowed += [m for m in methods if m not in allowed]
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return self._run(candidate, request, params)
        if allowed:
            response = self.json_response(
                {"error": "method_not_allowed",
                 "message": f"{request.method} is not allowed on {path}",
                 "allowed": allowed}, status=405)
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return self.json_response({"error": "not_found",
                                   "message": f"no route for {request.method} {path}"}, 404)

    def _run(self, candidate: _Route, request: Request, params: dict[str, str]) -> Response:
        try:
            result = candidate.handler(request, **params)
        except Abort as abort:
            return abort.response
        except Exception as exc:
            log.exception("emulator %s: handler for %s %s raised", type(self).__name__,
                          request.method, redact(request.path))
            with self.lock:
                self.errors.append(exc)
            return self.json_response({"error": "internal_error",
                                       "message": f"the emulator raised {type(exc).__name__}"},
                                      status=500)
        return self.to_response(result)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def to_response(result: Any) -> Response:
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int):
            return EmulatorApp.json_response(result[0], status=result[1])
        return EmulatorApp.json_response(result)

    @staticmethod
    def json_response(data: Any, status: int = 200,
                      headers: Mapping[str, str] | None = None) -> Response:
        """``data`` as a JSON reply."""
        return Response(json.dumps(data), status=status, headers=dict(headers or {}),
                        mimetype="application/json")

    @staticmethod
    def text_response(text: str | bytes, status: int = 200,
                      content_type: str = "text/plain; charset=utf-8",
                      headers: Mapping[str, str] | None = None) -> Response:
        """A reply of any other media type (XML for BroadWorks-style APIs, plain text...)."""
        return Response(text, status=status, headers=dict(headers or {}),
                        content_type=content_type)

    @staticmethod
    def read_json(request: Request) -> Any:
        """The request body as JSON; a body that is not JSON is answered 400 (via Abort)."""
        try:
            return json.loads(request.get_data() or b"null")
        except ValueError:
            raise Abort(EmulatorApp.json_response(
                {"error": "bad_request", "message": "the body is not valid JSON"}, 400)) from None

    # -- what subclasses provide -------------------------------------------------------------

    def connect_url(self, base_url: str) -> str:
        """The provider URL that connects a client to this emulator served at ``base_url``
        (``http://127.0.0.1:PORT``), with the emulator's demo credentials and
        ``?scheme=http``, e.g. ``yeastar://api:DEMO@127.0.0.1:PORT?scheme=http``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement connect_url()")

    def expire_tokens(self) -> None:
        """Invalidate every session token issued so far (emulators with sessions override)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} routes={len(self._routes)}>"

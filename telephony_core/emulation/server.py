"""Serving an emulator: any WSGI application over real HTTP/1.1 sockets on loopback.

The server is written on :mod:`socketserver` and :mod:`http.server` rather than on werkzeug's
development server because faults need the raw socket: to reset a connection (``SO_LINGER`` 0)
before or after the application ran, to send fewer bytes than ``Content-Length`` announces.
Each connection gets its own thread and is kept alive between requests, so a
``requests.Session`` reuses its connections as it would against a real PBX.

The application's reply is collected completely before anything is written, so a fault can
replace it; emulator replies are small, so nothing streams.
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.server
import io
import json
import logging
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_to_bytes, urlsplit

import attrs

from ..config import is_loopback
from ..errors import ConfigurationError
from ..redaction import get_logger, redact
from .faults import Fault, FaultKind
from .recorded import RecordedRequest

__all__ = ["EmulatorServer", "WsgiApp"]

log: logging.Logger = get_logger("telephony_core.emulation.server")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_NO_BODY_STATUSES = frozenset({204, 304})
_HOP_HEADERS = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive"})


@attrs.define
class _Injected:
    fault: Fault
    path: str | None
    method: str | None
    remaining: int | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is None:
            return True
        if "*" in self.path:
            return fnmatch.fnmatchcase(path, self.path)
        return path == self.path


@attrs.frozen
class _Reply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # so a garbled request line still gets a status line
    server_version = "telephony-emulator"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: _TcpServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._track(self.connection, False)

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, OSError, ValueError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # it has answered 400 itself
            return
        try:
            self.server.owner._serve(self)
        except (ConnectionError, TimeoutError, OSError) as exc:  # the client went away
            log.debug("connection lost while serving %s: %s", self.command, exc)
            self.close_connection = True

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise ConnectionError(f"bad Content-Length {length!r}") from None
        return self._read_exactly(size) if size > 0 else b""

    def _read_exactly(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) < size:  # the client went away mid-body: nothing to record or process
            raise ConnectionError(f"the body ended after {len(data)} of {size} bytes")
        return data

    def _read_chunked(self) -> bytes:
        out = io.BytesIO()
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("the connection closed inside a chunked body")
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise ConnectionError(f"bad chunk size line {line[:40]!r}") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return out.getvalue()
            out.write(self._read_exactly(size))
            self.rfile.readline(65537)

    def reset(self) -> None:
        """Close the connection with a TCP RST (SO_LINGER 0), leaving any unread bytes."""
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the socket closes for real only once its file objects are closed
        sock.close()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), redact(format % args))


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 16 clients opening connections at once must not be refused

    def __init__(self, owner: EmulatorServer, address: tuple[str, int],
                 tls: ssl.SSLContext | None = None):
        self.owner = owner
        self.tls = tls
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # the handshake happens on the connection's own thread, at its first read, so a
            # client that never finishes it holds up no one else
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("emulator server: unexpected error on a connection from %s",
                      client_address)


class EmulatorServer:
    """Serve a WSGI application on loopback in a background thread, with a request log and
    fault injection::

        with EmulatorServer(app) as server:
            requests.get(server.url + "/ping")
            server.inject(Fault.reset_after_read(), path="/dial", times=1)

    ``port=0`` picks a free port. Connections are kept alive (HTTP/1.1) and served by one
    thread each, so concurrent clients work. ``host`` must be a loopback address unless
    ``allow_public`` is true.

    Lifecycle of a request: its request line arrives (``attempts`` += 1, the first matching
    fault is taken); its body is read and it is recorded in ``requests``; the application is
    called (unless the fault says otherwise); the reply is written (or the fault replaces it).
    A request whose body the client cuts short is attempted but neither recorded nor processed.
    An exception in the application is logged with its traceback, kept in ``errors`` and
    answered with HTTP 500.
    """

    def __init__(self, app: WsgiApp, host: str = "127.0.0.1", port: int = 0, *,
                 allow_public: bool = False, tls: ssl.SSLContext | None = None):
        if not is_loopback(host) and not allow_public:
            raise ConfigurationError(
                f"host {host!r} is not a loopback address: an emulator serves demo credentials, "
                "so it listens on 127.0.0.1 unless allow_public=True", key="host")
        self._app = app
        self._tls = tls
        self._host = "127.0.0.1" if host == "localhost" else host
        self._wanted_port = int(port)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._attempts = 0
        self._faults: list[_Injected] = []
        self._connections: set[socket.socket] = set()
        self._recorded = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _TcpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifetime ------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._server is not None:
            raise RuntimeError("the emulator server is already running")
        self._stopping.clear()
        self._server = _TcpServer(self, (self._host, self._wanted_port), self._tls)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"emulator-{self.port}", daemon=True)
        self._thread.start()
        log.debug("emulator serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop accepting, wake delayed replies, close open connections. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    close = stop

    def __enter__(self) -> EmulatorServer:
        return self if self.running else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- where ---------------------------------------------------------------------------

    @property
    def app(self) -> WsgiApp:
        return self._app

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator server is not running; start() it first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https`` when serving TLS; brackets around an IPv6 host)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self._tls is not None else "http"

    # -- what it saw -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the log of requests read completely, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def attempts(self) -> int:
        """Requests whose request line arrived, including those a fault dropped unread."""
        with self._lock:
            return self._attempts

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised while serving, each answered with HTTP 500: those that escaped the
        WSGI application, then those an :class:`EmulatorApp` caught in its handlers
        (``app.errors``). A test that expects a clean run asserts this is empty."""
        with self._lock:
            own = list(self._errors)
        return own + list(getattr(self._app, "errors", None) or [])

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests for one path (and method)."""
        return [r for r in self.requests
                if r.path == path and (method is None or r.method == method.upper())]

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` requests are recorded; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._recorded:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._recorded.wait(left)
            return True

    def clear(self) -> None:
        """Empty the request log, the attempt count and the error lists (faults stay)."""
        with self._lock:
            self._requests.clear()
            self._errors.clear()
            self._attempts = 0
        app_errors = getattr(self._app, "errors", None)
        if isinstance(app_errors, list):
            app_errors.clear()

    # -- faults ----------------------------------------------------------------------------

    def inject(self, fault: Fault, path: str | None = None, times: int | None = None, *,
               method: str | None = None) -> None:
        """Apply ``fault`` to the next ``times`` requests for ``path`` (``None``: until
        :meth:`clear_faults`).

        ``path`` is matched exactly against the request path without its query (a ``*`` in it
        makes it a glob); ``None`` matches every path. ``method`` restricts it to one method.
        When several injected faults match, the one injected first applies; one request gets
        at most one fault.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"inject() takes a Fault, not {type(fault).__name__}")
        if path is not None and ("?" in path or not path.startswith(("/", "*"))):
            raise ValueError(f"path must be a request path such as '/api/dial' (no query), "
                             f"not {path!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 (or None for 'until cleared'), not {times}")
        if fault.kind is FaultKind.EXPIRED_TOKEN and not callable(
                getattr(self._app, "expire_tokens", None)):
            raise TypeError(f"{type(self._app).__name__} has no expire_tokens(), so "
                            "Fault.expired_token() cannot be applied to it")
        with self._lock:
            self._faults.append(_Injected(fault, path, method.upper() if method else None,
                                          times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many injected faults are still active."""
        with self._lock:
            return len(self._faults)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for entry in self._faults:
            if entry.matches(method, path):
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._faults.remove(entry)
                return entry.fault
        return None

    # -- serving ---------------------------------------------------------------------------

    def _track(self, sock: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def _serve(self, handler: _Handler) -> None:
        method = handler.command
        target = urlsplit(handler.path)
        path = unquote(target.path) or "/"
        with self._lock:
            self._attempts += 1
            fault = self._take_fault(method, path)
        kind = fault.kind if fault else None
        if kind is FaultKind.RESET_BEFORE_READ:
            log.debug("fault %s: %s %s dropped unread", fault, method, path)
            handler.reset()
            return
        body = handler.read_body()
        record = RecordedRequest(
            method=method, path=path, raw_path=handler.path,
            query_list=tuple(parse_qsl(target.query, keep_blank_values=True)),
            headers=dict(handler.headers.items()), body=body,
            fault=str(fault) if fault else None,
            reached_app=fault is None or fault.reaches_app,
            client_port=int(handler.client_address[1]))
        with self._recorded:
            self._requests.append(record)
            self._recorded.notify_all()
        if fault is not None and kind is FaultKind.HTTP_ERROR:
            headers = {"Content-Type": _guess_type(fault.body), **fault.headers}
            self._write(handler, _Reply(fault.status, _reason(fault.status),
                                        list(headers.items()), fault.body))
            return
        if fault is not None and kind is FaultKind.REDIRECT:
            headers = {"Content-Type": "text/plain; charset=utf-8", **fault.headers}
            self._write(handler, _Reply(fault.status, _reason(fault.status),
                                        list(headers.items()), b"moved\n"))
            return
        if kind is FaultKind.EXPIRED_TOKEN:
            self._app.expire_tokens()  # type: ignore[attr-defined]
        reply = self._call_app(handler, method, target, body)
        if fault is not None and kind is FaultKind.DELAY:
            self._stopping.wait(fault.seconds)
        if kind is FaultKind.RESET_AFTER_READ:
            log.debug("fault %s: %s %s processed, reply dropped", fault, method, path)
            handler.reset()
            return
        if fault is not None and kind in _WIRE_FAULT_WRITERS:
            log.debug("fault %s: %s %s processed", fault, method, path)
            handler.close_connection = True
            _WIRE_FAULT_WRITERS[kind](self, handler, reply, fault)
            return
        if kind is FaultKind.MALFORMED_BODY:
            reply = attrs.evolve(reply, body=b"<malformed>" + reply.body[: len(reply.body) // 2])
        if kind is FaultKind.TRUNCATED_BODY:
            full = reply.body or b'{"truncated": true}'
            self._write(handler, attrs.evolve(reply, body=full), send=len(full) // 2)
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_WR)
            return
        self._write(handler, reply)

    def _environ(self, handler: _Handler, method: str, target: Any, body: bytes) -> dict:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(target.path or "/").decode("latin-1"),
            "QUERY_STRING": target.query,
            "REQUEST_URI": handler.path,
            "RAW_URI": handler.path,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self._host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": handler.request_version,
            "REMOTE_ADDR": handler.client_address[0],
            "REMOTE_PORT": str(handler.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "telephony.emulator_server": self,
        }
        for name, value in handler.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _call_app(self, handler: _Handler, method: str, target: Any, body: bytes) -> _Reply:
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        try:
            result = self._app(self._environ(handler, method, target, body), start_response)
            try:
                for chunk in result:
                    chunks.append(bytes(chunk))
            finally:
                if hasattr(result, "close"):
                    result.close()
            if not started:
                raise RuntimeError("the WSGI application returned without calling "
                                   "start_response")
        except Exception as exc:
            log.exception("emulator application failed on %s %s", method, redact(target.path))
            with self._lock:
                self._errors.append(exc)
            data = json.dumps({"error": "internal_error",
                               "message": f"the emulator raised {type(exc).__name__}"}).encode()
            return _Reply(500, "Internal Server Error",
                          [("Content-Type", "application/json")], data)
        code, _, reason = str(started[0]).partition(" ")
        return _Reply(int(code), reason or _reason(int(code)), list(started[1]), b"".join(chunks))

    def _head(self, handler: _Handler, reply: _Reply, extra: list[str] | None = None) -> bytes:
        """The status line and headers of ``reply`` (hop-by-hop headers replaced by ``extra``)."""
        lines = [f"HTTP/1.1 {reply.status} {reply.reason}"]
        lines += [f"{n}: {v}" for n, v in reply.headers if n.lower() not in _HOP_HEADERS]
        lines += extra or []
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _garbage(self, handler: _Handler, reply: _Reply, fault: Fault) -> None:
        junk = b"\x15\x03\x01\x00\x02\x02\x50 this is not a reply\r\n\r\n"
        sock = handler.connection
        if isinstance(sock, ssl.SSLSocket):  # below TLS: the client's TLS layer must choke
            with contextlib.suppress(OSError):
                raw = socket.socket(fileno=os.dup(sock.fileno()))
                try:
                    raw.sendall(b"HTTP/1.1 200 OK not TLS at all\r\n\r\n")
                    raw.shutdown(socket.SHUT_RDWR)
                finally:
                    raw.close()
            return
        handler.wfile.write(junk)
        handler.wfile.flush()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)

    def _truncated_head(self, handler: _Handler, reply: _Reply, fault: Fault) -> None:
        handler.wfile.write(f"HTTP/1.1 {reply.status} {reply.reason}\r\nContent-Le".encode())
        handler.wfile.flush()
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_WR)

    def _trickle(self, handler: _Handler, reply: _Reply, fault: Fault) -> None:
        data = self._head(handler, reply, [f"Content-Length: {len(reply.body)}"]) + reply.body
        for i in range(len(data)):
            handler.wfile.write(data[i:i + 1])
            handler.wfile.flush()
            if self._stopping.wait(fault.seconds):
                return

    def _stall(self, handler: _Handler, reply: _Reply, fault: Fault) -> None:
        handler.wfile.write(self._head(handler, reply, [f"Content-Length: {len(reply.body)}"]))
        handler.wfile.flush()
        if not self._stopping.wait(fault.seconds):
            handler.wfile.write(reply.body)

    def _oversize(self, handler: _Handler, reply: _Reply, fault: Fault) -> None:
        """Chunked, with no Content-Length: the client has to count to notice."""
        ok = _Reply(200, "OK", [("Content-Type", "application/json")], b"")
        handler.wfile.write(self._head(handler, ok, ["Transfer-Encoding: chunked"]))
        block = b" " * 65536
        left = fault.size
        while left > 0 and not self._stopping.is_set():
            piece = block[:left]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            left -= len(piece)
        handler.wfile.write(b"0\r\n\r\n")

    def _write(self, handler: _Handler, reply: _Reply, send: int | None = None) -> None:
        """Write the reply in one piece; ``send`` bytes of the body only (truncation)."""
        lines = [f"HTTP/1.1 {reply.status} {reply.reason}"]
        names = set()
        declared_length = None
        for name, value in reply.headers:
            if name.lower() == "content-length":
                declared_length = value
            if name.lower() in _HOP_HEADERS:
                continue
            names.add(name.lower())
            lines.append(f"{name}: {value}")
        if "date" not in names:
            lines.append(f"Date: {formatdate(usegmt=True)}")
        if "server" not in names:
            lines.append(f"Server: {handler.server_version}")
        body = reply.body
        if reply.status in _NO_BODY_STATUSES or reply.status < 200:
            body = b""
        elif handler.command == "HEAD":  # the length a GET would have had, no body
            lines.append(f"Content-Length: {declared_length or len(body)}")
            body = b""
        else:
            lines.append(f"Content-Length: {len(body)}")
        if handler.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        handler.wfile.write(head + (body if send is None else body[:send]))
        handler.log_request(reply.status, len(body))

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<EmulatorServer {type(self._app).__name__} {where}>"


_WIRE_FAULT_WRITERS: dict[FaultKind, Callable[..., None]] = {
    FaultKind.GARBAGE_REPLY: EmulatorServer._garbage,
    FaultKind.TRUNCATED_HEAD: EmulatorServer._truncated_head,
    FaultKind.TRICKLE: EmulatorServer._trickle,
    FaultKind.STALL: EmulatorServer._stall,
    FaultKind.OVERSIZE: EmulatorServer._oversize,
}


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _guess_type(body: bytes) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"

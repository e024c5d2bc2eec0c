"""EmulatorServer over real sockets: request log, every fault, concurrency, lifetime."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from telephony_core.emulation import EmulatorApp, EmulatorServer, Fault, route
from telephony_core.errors import ConfigurationError, TransportError
from telephony_core.http import HttpTransport, MalformedReply, WireRequest

SHORT = 0.3  # an injected delay
TIMEOUT = 0.1  # a client read timeout below it


class CountingApp(EmulatorApp):
    """Counts what it processed: the stand-in for "the model changed"."""

    def __init__(self):
        super().__init__()
        self.processed: list[str] = []
        self.expired = 0

    @route(("GET", "POST", "PUT", "DELETE"), "/{name:path}")
    def anything(self, request, name):
        with self.lock:
            self.processed.append(f"{request.method} /{name}")
        return {"path": "/" + name, "method": request.method, "n": len(self.processed)}

    def expire_tokens(self):
        self.expired += 1


@pytest.fixture
def app():
    return CountingApp()


@pytest.fixture
def server(app):
    with EmulatorServer(app, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture
def session():
    with requests.Session() as s:
        s.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=16, max_retries=0)
        s.mount("http://", adapter)
        yield s


# -- basics ----------------------------------------------------------------------------------


def test_url_port_and_app(server, app, session):
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0
    assert server.app is app
    assert session.get(server.url + "/ping").json() == {"path": "/ping", "method": "GET", "n": 1}


def test_refuses_a_non_loopback_host(app):
    with pytest.raises(ConfigurationError, match="not a loopback address"):
        EmulatorServer(app, host="0.0.0.0")


def test_request_log_method_path_query_headers_json(server, session):
    session.post(server.url + "/api/a%20b", params=[("k", "1"), ("k", "2"), ("x", "")],
                 json={"caller": "1002", "n": [1, 2]}, headers={"X-Trace": "abc"})
    (rec,) = server.requests
    assert rec.method == "POST"
    assert rec.path == "/api/a b"
    assert rec.raw_path == "/api/a%20b?k=1&k=2&x="
    assert rec.query == {"k": "2", "x": ""}
    assert rec.query_list == (("k", "1"), ("k", "2"), ("x", ""))
    assert rec.headers["x-trace"] == "abc"
    assert rec.header("X-TRACE") == "abc"
    assert rec.content_type == "application/json"
    assert rec.json() == {"caller": "1002", "n": [1, 2]}
    assert rec.fault is None and rec.reached_app


def test_request_log_urlencoded_form(server, session):
    session.post(server.url + "/form", data={"to": "+41", "text": "héllo & bye"})
    (rec,) = server.requests
    assert rec.form() == {"to": "+41", "text": "héllo & bye"}
    assert rec.files() == {}


def test_request_log_multipart_form(server, session):
    session.post(server.url + "/upload", data={"name": "moh"},
                 files={"file": ("moh.wav", b"RIFF....", "audio/wav")})
    (rec,) = server.requests
    assert rec.content_type == "multipart/form-data"
    assert rec.form() == {"name": "moh"}
    assert rec.files() == {"file": b"RIFF...."}


def test_chunked_request_body_is_read(server, session):
    session.post(server.url + "/chunked", data=iter([b'{"a":', b" 1}"]))
    (rec,) = server.requests
    assert rec.header("Transfer-Encoding") == "chunked"
    assert rec.json() == {"a": 1}


def test_clear_empties_log_and_attempts(server, session):
    session.get(server.url + "/one")
    assert server.attempts == 1 and len(server.requests) == 1
    server.clear()
    assert server.attempts == 0 and server.requests == []
    session.get(server.url + "/two")
    assert [r.path for r in server.requests] == ["/two"]


def test_requests_is_a_copy(server, session):
    session.get(server.url + "/one")
    log = server.requests
    log.clear()
    assert len(server.requests) == 1


def test_wait_for_requests(server, session):
    assert not server.wait_for_requests(1, timeout=0.05)
    threading.Timer(0.05, lambda: session.get(server.url + "/late")).start()
    assert server.wait_for_requests(1, timeout=2)


def test_keep_alive_reuses_one_connection(server, session):
    for _ in range(5):
        assert session.get(server.url + "/k").status_code == 200
    assert len({r.client_port for r in server.requests}) == 1


def test_wsgi_app_exception_is_500_and_kept():
    def broken(environ, start_response):
        raise KeyError("boom")

    with EmulatorServer(broken) as srv:
        reply = requests.get(srv.url + "/x", timeout=2)
        assert reply.status_code == 500
        assert reply.json()["error"] == "internal_error"
        assert [type(e) for e in srv.errors] == [KeyError]


# -- faults: what the client sees and what the server recorded --------------------------------


def test_delay_times_out_the_client_but_the_request_is_processed(server, app, session):
    server.inject(Fault.delay(SHORT), path="/dial", times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(server.url + "/dial", json={}, timeout=(1, TIMEOUT))
    assert app.processed == ["POST /dial"]  # processed before the reply was held back
    (rec,) = server.requests
    assert rec.fault == "delay(0.3s)" and rec.reached_app
    assert server.attempts == 1
    # the fault expired: the next dial is answered at once
    assert session.post(server.url + "/dial", json={}, timeout=(1, 1)).status_code == 200


def test_delay_shorter_than_the_timeout_is_answered_late(server, session):
    server.inject(Fault.delay(0.15), times=1)
    started = time.monotonic()
    assert session.get(server.url + "/slow", timeout=2).json()["n"] == 1
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("warm", [False, True], ids=["new-connection", "kept-alive"])
def test_reset_before_read_drops_the_request_unseen(server, app, session, warm):
    if warm:  # the reset then hits a connection the session reuses
        session.get(server.url + "/warm", timeout=2)
        server.clear()
        app.processed.clear()
    server.inject(Fault.reset_before_read(), path="/dial", times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        session.post(server.url + "/dial", json={"caller": "1002"}, timeout=2)
    assert app.processed == []
    assert server.requests == []
    assert server.attempts == 1
    assert session.post(server.url + "/dial", json={}, timeout=2).status_code == 200
    assert app.processed == ["POST /dial"]
    assert server.attempts == 2


def test_reset_after_read_processes_then_drops_the_reply(server, app, session):
    server.inject(Fault.reset_after_read(), path="/dial", times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        session.post(server.url + "/dial", json={"caller": "1002"}, timeout=2)
    assert app.processed == ["POST /dial"]
    (rec,) = server.requests
    assert rec.json() == {"caller": "1002"}
    assert rec.fault == "reset_after_read" and rec.reached_app
    assert server.attempts == 1


def test_http_error_answers_without_calling_the_app(server, app, session):
    server.inject(Fault.http_error(503, body=b"maintenance", headers={"Retry-After": "3"}),
                  path="/dial", times=1)
    reply = session.post(server.url + "/dial", json={}, timeout=2)
    assert reply.status_code == 503
    assert reply.content == b"maintenance"
    assert reply.headers["Retry-After"] == "3"
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert app.processed == []
    (rec,) = server.requests
    assert rec.fault == "http_error(503)" and not rec.reached_app
    assert server.attempts == 1


def test_http_error_default_body_is_json(server, session):
    server.inject(Fault.http_error(429), times=1)
    reply = session.get(server.url + "/x", timeout=2)
    assert reply.status_code == 429
    assert reply.json() == {"error": "injected fault", "status": 429}


def test_malformed_body_keeps_status_and_breaks_json(server, app, session):
    server.inject(Fault.malformed_body(), times=1)
    reply = session.get(server.url + "/list", timeout=2)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        reply.json()
    assert app.processed == ["GET /list"]
    assert server.requests[0].fault == "malformed_body"


def test_truncated_body_breaks_the_read(server, app, session):
    server.inject(Fault.truncated_body(), times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session.get(server.url + "/list", timeout=2)
    assert app.processed == ["GET /list"]
    assert server.requests[0].fault == "truncated_body"
    assert session.get(server.url + "/list", timeout=2).json()["n"] == 2


def test_expired_token_calls_expire_tokens_then_serves(server, app, session):
    server.inject(Fault.expired_token(), times=1)
    assert session.get(server.url + "/x", timeout=2).status_code == 200
    assert app.expired == 1
    assert app.processed == ["GET /x"]
    session.get(server.url + "/x", timeout=2)
    assert app.expired == 1


def test_expired_token_needs_an_app_that_can_expire():
    def plain(environ, start_response):
        start_response("200 OK", [])
        return [b""]

    with EmulatorServer(plain) as srv, pytest.raises(TypeError, match="expire_tokens"):
        srv.inject(Fault.expired_token())


@pytest.mark.parametrize("bad", [lambda: Fault.delay(-1), lambda: Fault.http_error(99)])
def test_fault_arguments_are_checked(bad):
    with pytest.raises(ValueError):
        bad()


def test_faults_are_per_path_and_method(server, session):
    server.inject(Fault.http_error(500), path="/a", times=1, method="POST")
    assert session.get(server.url + "/a", timeout=2).status_code == 200
    assert session.post(server.url + "/b", timeout=2).status_code == 200
    assert session.post(server.url + "/a", timeout=2).status_code == 500
    assert session.post(server.url + "/a", timeout=2).status_code == 200


def test_fault_path_glob(server, session):
    server.inject(Fault.http_error(502), path="/api/*/dial")
    assert session.get(server.url + "/api/v1/dial", timeout=2).status_code == 502
    assert session.get(server.url + "/api/v1/hangup", timeout=2).status_code == 200


def test_fault_expires_after_times(server, session):
    server.inject(Fault.http_error(503), times=2)
    statuses = [session.get(server.url + "/x", timeout=2).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert server.pending_faults == 0


def test_fault_without_times_lasts_until_cleared(server, session):
    server.inject(Fault.http_error(503))
    assert [session.get(server.url + "/x", timeout=2).status_code for _ in range(4)] == [503] * 4
    server.clear_faults()
    assert session.get(server.url + "/x", timeout=2).status_code == 200


def test_first_injected_fault_wins(server, session):
    server.inject(Fault.http_error(501), times=1)
    server.inject(Fault.http_error(502), times=1)
    assert [session.get(server.url + "/x", timeout=2).status_code for _ in range(3)] == [
        501, 502, 200]


def test_inject_rejects_zero_times_and_paths_with_a_query(server):
    with pytest.raises(ValueError, match="times"):
        server.inject(Fault.http_error(500), times=0)
    with pytest.raises(ValueError, match="no query"):
        server.inject(Fault.http_error(500), path="/dial?token=x")
    with pytest.raises(TypeError, match="Fault"):
        server.inject("delay")


# -- faults through the core transport: what providers will see --------------------------------


@pytest.mark.parametrize(("fault", "app_saw_it"), [
    (Fault.reset_before_read(), False),
    (Fault.reset_after_read(), True),
    (Fault.delay(SHORT), True),
    (Fault.truncated_body(), True),
])
def test_transport_reports_request_sent(server, app, fault, app_saw_it):
    transport = HttpTransport(server.url, timeout=TIMEOUT, connect_timeout=1)
    server.inject(fault, times=1)
    try:
        with pytest.raises(TransportError) as info:
            transport.send(WireRequest("POST", "/dial", json={"caller": "1002"}))
    finally:
        transport.close()
    assert info.value.request_sent is True  # it may have happened: never re-send a dial
    assert (app.processed == ["POST /dial"]) is app_saw_it
    assert server.attempts == 1


def test_transport_malformed_reply(server):
    transport = HttpTransport(server.url, timeout=2, connect_timeout=1)
    server.inject(Fault.malformed_body(), times=1)
    try:
        reply = transport.send(WireRequest("GET", "/list"))
    finally:
        transport.close()
    with pytest.raises(MalformedReply):
        reply.json()


# -- concurrency and lifetime ------------------------------------------------------------------


def test_sixteen_threads_through_one_session(server, session):
    errors: list[BaseException] = []
    answers: list[int] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            for i in range(20):
                reply = session.get(f"{server.url}/t{t}", params={"i": i}, timeout=5)
                with lock:
                    answers.append(reply.status_code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert answers == [200] * 320
    log = server.requests
    assert len(log) == 320 and server.attempts == 320
    for t in range(16):
        seen = sorted(int(r.query["i"]) for r in log if r.path == f"/t{t}")
        assert seen == list(range(20))
    assert len({r.client_port for r in log}) <= 16  # connections were kept alive and reused


def test_requests_are_served_concurrently():
    def slow(environ, start_response):
        time.sleep(0.2)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with EmulatorServer(slow) as srv:
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(
            requests.get(srv.url, timeout=5).status_code)) for _ in range(8)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [200] * 8
        assert time.monotonic() - started < 1.2  # 8 x 0.2 s one after the other would be 1.6 s


def test_stop_cuts_a_delay_short_and_frees_the_port(app):
    srv = EmulatorServer(app).start()
    port = srv.port
    srv.inject(Fault.delay(30))
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(requests.get(srv.url + "/x", timeout=10).status_code)
        except requests.RequestException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert srv.wait_for_requests(1, timeout=2)
    started = time.monotonic()
    srv.stop()
    worker.join(timeout=5)
    assert time.monotonic() - started < 2
    assert len(outcome) == 1  # the client got its (late) answer or lost the connection at once
    assert not srv.running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    srv.stop()  # twice is fine


def test_repr_names_app_and_url(server):
    assert repr(server) == f"<EmulatorServer CountingApp {server.url}>"


def test_a_body_cut_short_by_the_client_is_neither_recorded_nor_processed(server, app):
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(b"POST /dial HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b""  # the server closed without answering
    assert server.attempts == 1
    assert server.requests == [] and app.processed == []


def test_garbage_request_line_is_answered_400_and_not_counted(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert server.attempts == 0

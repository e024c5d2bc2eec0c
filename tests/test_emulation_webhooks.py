"""WebhookSender against a real receiver: re-sent until 200, in order, gives up, timeouts."""

from __future__ import annotations

import socket

import pytest

from telephony_core.emulation import EmulatorApp, EmulatorServer, Fault, WebhookSender, route


class Receiver(EmulatorApp):
    """Fails the first ``fail_first`` posts (HTTP 500), and any post whose body asks for it."""

    def __init__(self, fail_first: int = 0, status: int = 500):
        super().__init__()
        self.fail_first = fail_first
        self.status = status
        self.accepted: list[bytes] = []

    @route("POST", "/hook")
    def hook(self, request):
        body = request.get_data()
        with self.lock:
            if self.fail_first > 0 or b"always-fail" in body:
                self.fail_first -= 1
                return {"error": "not now"}, self.status
            self.accepted.append(body)
        return {"ok": True}


def serve(app):
    return EmulatorServer(app).start()


def test_resent_until_200():
    app = Receiver(fail_first=2)
    with serve(app) as server, WebhookSender(server.url + "/hook", interval=0.02) as sender:
        sender.send({"event": "ring", "id": 1})
        assert sender.wait(timeout=5)
        assert (sender.delivered, sender.failed, sender.attempts) == (1, 0, 3)
        posts = server.requests
        assert [r.json() for r in posts] == [{"event": "ring", "id": 1}] * 3
        assert all(r.content_type == "application/json" for r in posts)
        assert app.accepted == [b'{"event": "ring", "id": 1}']
        assert sender.history[0].status == 200 and sender.history[0].attempts == 3


def test_only_200_counts_as_delivered():
    app = Receiver(fail_first=1, status=202)
    with serve(app) as server, WebhookSender(server.url + "/hook", interval=0.02) as sender:
        sender.send({"n": 1})
        assert sender.wait(timeout=5)
        assert sender.attempts == 2 and len(server.requests) == 2


def test_reports_arrive_in_order_despite_failures():
    app = Receiver(fail_first=3)
    with serve(app) as server, WebhookSender(server.url + "/hook", interval=0.02) as sender:
        for n in range(6):
            sender.send({"seq": n})
        assert sender.wait(timeout=5)
        assert sender.delivered == 6
        assert [int(b.decode().split(":")[1].strip(" }")) for b in app.accepted] == list(range(6))
        seqs = [r.json()["seq"] for r in server.requests]
        assert seqs == sorted(seqs)  # a report never overtakes the one before it
        assert seqs[:4] == [0, 0, 0, 0]


def test_gives_up_after_max_attempts_and_moves_on():
    app = Receiver()
    with serve(app) as server, WebhookSender(server.url + "/hook", interval=0.01,
                                             max_attempts=3) as sender:
        sender.send({"what": "always-fail"})
        sender.send({"what": "fine"})
        assert sender.wait(timeout=5)
        assert (sender.delivered, sender.failed, sender.attempts) == (1, 1, 4)
        assert [r.json()["what"] for r in server.requests] == ["always-fail"] * 3 + ["fine"]
        assert [d.delivered for d in sender.history] == [False, True]
        assert sender.history[0].status == 500


def test_per_request_timeout_counts_as_a_failed_attempt():
    app = Receiver()
    with serve(app) as server, WebhookSender(server.url + "/hook", interval=0.01,
                                             timeout=0.1) as sender:
        server.inject(Fault.delay(0.3), path="/hook", times=1)
        sender.send({"n": 1})
        assert sender.wait(timeout=5)
        assert sender.attempts == 2 and sender.delivered == 1
        # the receiver processed both: exactly what real redeliveries look like
        assert len(app.accepted) == 2


def test_unreachable_receiver_gives_up():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with WebhookSender(f"http://127.0.0.1:{port}/hook", interval=0.01, max_attempts=2,
                           timeout=0.5) as sender:
            sender.send({"n": 1})
            assert sender.wait(timeout=5)
            assert (sender.delivered, sender.failed, sender.attempts) == (0, 1, 2)
            assert sender.history[0].status is None


def test_form_and_raw_bodies():
    app = Receiver()
    with serve(app) as server, WebhookSender(server.url + "/hook") as sender:
        sender.send({"event": "answer", "legs": [1, 2]}, form=True)
        sender.send(b"<xml/>", headers={"Content-Type": "application/xml", "X-Sig": "s1"})
        assert sender.wait(timeout=5)
        form, raw = server.requests
        assert form.content_type == "application/x-www-form-urlencoded"
        assert form.form() == {"event": "answer", "legs": "[1, 2]"}
        assert raw.body == b"<xml/>" and raw.header("x-sig") == "s1"


def test_wait_times_out_while_undelivered_and_close_stops():
    app = Receiver()
    with serve(app) as server:
        sender = WebhookSender(server.url + "/hook", interval=0.05, max_attempts=1000)
        sender.send({"what": "always-fail"})
        assert not sender.wait(timeout=0.2)
        assert sender.pending == 1
        sender.close()
        attempts = sender.attempts
        assert sender.delivered == 0
        with pytest.raises(RuntimeError, match="closed"):
            sender.send({"n": 2})
        assert server.wait_for_requests(attempts + 1, timeout=0.2) is False  # no more posts


def test_max_attempts_must_be_positive():
    with pytest.raises(ValueError, match="max_attempts"):
        WebhookSender("http://127.0.0.1:1/hook", max_attempts=0)

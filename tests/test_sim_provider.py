"""The sim provider through the public API: every operation, events round-trip, set-up option."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import timedelta

import pytest

import telephony_core
from telephony_core.errors import ConfigurationError, PayloadError, ProviderError
from telephony_core.results import Ack, CallInfo, CallRef, MusicOnHold, SmsReceipt
from telephony_core.sim.provider import event_to_json


@pytest.fixture
def client():
    with telephony_core.connect("sim://") as c:
        yield c


def test_connect_with_nothing_configured_is_the_simulator(client, monkeypatch):
    assert client.name == "sim" and set(client.operations) == set(telephony_core.OPERATIONS)
    with telephony_core.connect("sim://") as named:
        assert named.name == "sim"


def test_every_operation(client):
    pbx = client.provider.pbx
    ref = client.dial("ext:1000", "ext:1001")
    # the provider's clock starts at the wall time of connect (whole seconds): the id's
    # first part is that epoch second, the second the model's counter
    assert isinstance(ref, CallRef) and re.fullmatch(r"\d{10}\.101", ref.call_id)
    assert abs(int(ref.call_id.split(".")[0]) - time.time()) < 60
    assert client.list_calls(ids=[f"call:{ref.call_id}"])[0].call_id == ref.call_id
    pbx.answer("ext:1000")
    pbx.answer("ext:1001")
    assert isinstance(client.hold("ext:1000"), Ack) and client.list_calls()[0].state == "held"
    client.unhold(f"call:{ref.call_id}")
    client.mute("ext:1001")
    client.unmute("ext:1001")
    client.monitor("ext:1005", "ext:1001", "barge")
    assert client.transfer("ext:1000", "ivr:6500").call_id == ref.call_id
    [info] = client.list_calls(direction="outbound", ids=[f"call:{ref.call_id}"])
    assert isinstance(info, CallInfo) and (info.caller, info.callee) == ("ext:1001", "ivr:6500")
    client.hangup(f"call:{ref.call_id}")
    offered = pbx.incoming("5559999", "5551000")
    client.accept_call(f"call:{offered.id}")
    offered2 = pbx.incoming("5559998", "5551000")
    client.reject_call(f"call:{offered2.id}")
    moh = client.set_music_on_hold({"extension": "1000"}, use_internal_source=True,
                                   internal_source={"selection": "custom", "file": "a.wav"})
    assert isinstance(moh, MusicOnHold) and moh.internal_source.file == "a.wav"
    assert client.get_music_on_hold({"extension": "1000"}).use_internal_source is True
    sms = client.send_sms("tel:41000", "hi")
    assert isinstance(sms, SmsReceipt) and sms.status == "sent"
    prompt = client.play_prompt("ext:1002", ["hello111"], auto_answer=True, reference="x")
    assert prompt.call_id in pbx.calls


def test_refusals_are_typed_errors_that_say_why(client):
    with pytest.raises(ProviderError) as info:
        client.hold("ext:1000")
    assert (info.value.category, info.value.code) == ("not_found", "call_not_found")
    assert "extension 1000 is in no call" in str(info.value)


def test_the_sim_narrows_what_its_model_refuses(client):
    with pytest.raises(PayloadError, match=r"\$.supervisor"):
        client.monitor("sip:boss@example.com", "ext:1000", "listen")
    with pytest.raises(PayloadError, match=r"\$.to"):
        client.play_prompt("ivr:6500", ["hello111"])


def test_events_round_trip_through_parse_event(client):
    pbx = client.provider.pbx
    client.play_prompt("tel:41000", ["hello111"], reference="order-7")
    pbx.answer("tel:41000")
    pbx.clock.advance(5)
    for event in pbx.events:
        [parsed] = client.parse_event(event_to_json(event))
        assert parsed == event  # kind, call id, parties, time, reference, data
    assert pbx.events[-1].kind == "cdr" and pbx.events[-1].reference == "order-7"


def test_setup_option(tmp_path):
    setup = tmp_path / "mine.toml"
    setup.write_text('[[extensions]]\nnumber = "7"\n[[extensions]]\nnumber = "8"\n')
    with telephony_core.connect(f"sim://?setup={setup}") as c:
        c.dial("ext:7", "ext:8")
        with pytest.raises(ProviderError, match="extension 1000 does not exist"):
            c.dial("ext:1000", "ext:8")
    with pytest.raises(ConfigurationError, match="cannot read"):
        telephony_core.connect("sim", setup=str(tmp_path / "none.toml"))


# -- events delivered: webhook_url and client.events() ------------------------------------------

from telephony_core.emulation import EmulatorApp, EmulatorServer, WebhookReceiver, route  # noqa: E402
from telephony_core.sim.clock import EPOCH  # noqa: E402
from telephony_core.sim.model import Pbx  # noqa: E402


def _dial_and_finish(client):
    """A call from dial to hang-up: ringing, answered (both), hangup, cdr."""
    ref = client.dial("ext:1000", "ext:1001", reference="order-9")
    pbx = client.provider.pbx
    pbx.answer("ext:1000")
    pbx.answer("ext:1001")
    client.hangup(f"call:{ref.call_id}")
    return ref


KINDS = ["call.ringing", "call.answered", "call.ringing", "call.answered", "call.hangup", "cdr"]


def test_events_are_posted_to_webhook_url_in_order_with_the_call_id_and_wall_time():
    receiver = WebhookReceiver()
    with EmulatorServer(receiver) as server:
        with telephony_core.connect("sim://", webhook_url=server.url + "/hooks/sim") as client:
            ref = _dial_and_finish(client)
            assert client.provider.poster.flush(5)
            events = [e for body in receiver.bodies for e in client.parse_event(body)]
        assert [e.kind for e in events] == KINDS
        assert {e.call_id for e in events} == {ref.call_id}
        assert {e.reference for e in events} == {"order-9"}
        for event in events:  # the sim's clock and CallRef.accepted_at agree
            assert abs(event.at - ref.accepted_at) < timedelta(seconds=5)
        assert all(r.path == "/hooks/sim" and r.method == "POST" for r in server.requests)
        assert server.requests[0].headers["Content-Type"] == "application/json"


def test_posting_never_blocks_the_operation_that_caused_it():
    import threading

    class Stuck(EmulatorApp):
        """Holds every post until released."""

        def __init__(self):
            super().__init__()
            self.release = threading.Event()
            self.bodies = []

        @route("POST", "/hook")
        def hook(self, request):
            self.release.wait(10)
            self.bodies.append(request.get_data())
            return {}

    app = Stuck()
    with EmulatorServer(app) as server:
        with telephony_core.connect("sim://", webhook_url=server.url + "/hook") as client:
            _dial_and_finish(client)  # returns while the first post is still held
            assert app.bodies == [] and client.provider.poster.pending == len(KINDS)
            app.release.set()
        # close flushed what was queued (within its bound)
        assert [json.loads(b)["kind"] for b in app.bodies] == KINDS


class Flaky(EmulatorApp):
    """Answers 500 to the first ``fail`` posts, then 200; or always 500 with ``fail=-1``."""

    def __init__(self, fail: int):
        super().__init__()
        self.fail = fail
        self.seen: list[str] = []

    @route("POST", "/hook")
    def hook(self, request):
        self.seen.append(json.loads(request.get_data())["kind"])
        if self.fail < 0 or len(self.seen) <= self.fail:
            return self.json_response({"error": "down"}, status=500)
        return {}


def test_a_failed_post_is_retried_then_later_events_follow_in_order():
    app = Flaky(fail=2)
    with EmulatorServer(app) as server, \
            telephony_core.connect("sim://", webhook_url=server.url + "/hook") as client:
        client.dial("ext:1000", "ext:1001")
        client.provider.pbx.answer("ext:1000")
        assert client.provider.poster.flush(5)
        assert client.provider.poster.delivered == 3
    # the first event three times (two failures, then 200), then the rest once each
    assert app.seen == ["call.ringing"] * 3 + ["call.answered", "call.ringing"]


def test_an_undeliverable_event_is_dropped_with_one_warning_that_shows_no_token(caplog):
    app = Flaky(fail=-1)
    with EmulatorServer(app) as server:
        url = server.url + "/hook?token=s3cr3t-hook-token"
        with telephony_core.connect("sim://", webhook_url=url) as client:
            poster = client.provider.poster
            poster.backoff = 0.01
            with caplog.at_level(logging.DEBUG, logger="telephony_core"):
                client.dial("ext:1000", "ext:1001")
                assert poster.flush(5)
                assert "s3cr3t" not in repr(client) + repr(poster)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and app.seen == ["call.ringing"] * poster.attempts
    assert "call.ringing" in warnings[0].getMessage() and "HTTP 500" in warnings[0].getMessage()
    assert "s3cr3t" not in caplog.text and poster.dropped == 1


def test_closing_delivers_what_is_queued_within_a_bound():
    receiver = WebhookReceiver()
    with EmulatorServer(receiver) as server:
        client = telephony_core.connect("sim://", webhook_url=server.url + "/h")
        _dial_and_finish(client)
        client.close()
        assert len(receiver.bodies) == len(KINDS)
        assert client.provider.poster.pending == 0
    # nothing listening: close gives up after its bound instead of hanging
    client = telephony_core.connect("sim://", webhook_url="http://127.0.0.1:9/none")
    client.provider.FLUSH_SECONDS = 0.5
    client.dial("ext:1000", "ext:1001")
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("bad", ["/relative/path", "ftp://h/x", "http:///nohost",
                                 "http://h:0/x"])
def test_a_bad_webhook_url_is_refused_at_configuration(bad):
    with pytest.raises(ConfigurationError, match="webhook_url") as info:
        telephony_core.connect("sim://", webhook_url=bad)
    assert "absolute" in str(info.value) and info.value.key == "webhook_url"


def test_client_events_yields_the_models_events_with_the_call_id():
    with telephony_core.connect("sim://") as client:
        ref = _dial_and_finish(client)
        events = list(client.events(timeout=0.2))
    assert [e.kind for e in events] == KINDS
    assert {e.call_id for e in events} == {ref.call_id}
    assert all(abs(e.at - ref.accepted_at) < timedelta(seconds=5) for e in events)


def test_client_events_waits_for_events_from_another_thread_and_ends_on_close():
    import threading

    client = telephony_core.connect("sim://")
    seen = []

    def read():
        seen.extend(e.kind for e in client.events())  # no timeout: ends when closed

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)
    client.dial("ext:1000", "ext:1001")
    time.sleep(0.1)
    client.close()
    reader.join(2)
    assert not reader.is_alive() and seen == ["call.ringing"]


def test_async_client_events_on_sim():
    async def main():
        async with telephony_core.connect_async("sim://") as client:
            ref = await client.dial("ext:1000", "ext:1001")

            async def later():
                await asyncio.sleep(0.05)
                client.provider.pbx.answer("ext:1000")

            task = asyncio.create_task(later())
            kinds = [(e.kind, e.call_id) async for e in client.events(timeout=0.3)]
            await task
            return ref, kinds

    ref, kinds = asyncio.run(main())
    assert kinds == [("call.ringing", ref.call_id), ("call.answered", ref.call_id),
                     ("call.ringing", ref.call_id)]


def test_the_models_own_clock_still_starts_at_its_fixed_epoch():
    """Emulators and the equivalence suite keep repeatable ids; only sim:// starts at now."""
    assert Pbx.default().clock.now() == EPOCH
    assert Pbx.default().dial("ext:1000", "ext:1001").id == "1495700000.101"


@pytest.mark.parametrize("body, field", [
    (b"{}", "'kind' is missing"), (b'{"kind": "call.exploded"}', "'kind' is unknown"),
    (b'{"kind": "cdr", "parties": "ext:1000"}', "'parties'"),
    (b'{"kind": "cdr", "data": []}', "'data'"), (b'{"kind": "cdr", "call_id": 7}', "'call_id'"),
    (b"[1]", "JSON object"), (b"not json", "not JSON")])
def test_an_unreadable_webhook_body_is_an_event_error_naming_the_field(client, body, field):
    from telephony_core.errors import EventError

    with pytest.raises(EventError, match=field):
        client.parse_event(body, {"Content-Type": "application/json"})


def test_the_sim_pages_snippets_run():
    """docs/providers/sim.md's Python runs as a reader would paste it (fresh interpreter)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs/providers/sim.md").read_text()
    code = "\n".join(re.findall(r"^```python\n(.*?)^```", page, re.S | re.M))
    assert "client.events(" in code
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEPHONY_")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[::3] == KINDS


def test_the_async_client_posts_too_and_aclose_delivers_what_is_queued():
    receiver = WebhookReceiver()

    async def main(url):
        async with telephony_core.connect_async("sim://", webhook_url=url) as client:
            ref = await client.dial("ext:1000", "ext:1001")
            client.provider.pbx.answer("ext:1000")
            return ref

    with EmulatorServer(receiver) as server:
        ref = asyncio.run(main(server.url + "/hook"))
        kinds = [(json.loads(b)["kind"], json.loads(b)["call_id"]) for b in receiver.bodies]
    assert kinds == [("call.ringing", ref.call_id), ("call.answered", ref.call_id),
                     ("call.ringing", ref.call_id)]


def test_a_redirect_is_not_followed_and_counts_as_a_failed_post():
    class Moved(EmulatorApp):
        def __init__(self):
            super().__init__()
            self.paths = []

        @route("POST", "/{path:path}")
        def hook(self, request, path):
            self.paths.append(path)
            return self.json_response({}, status=307, headers={"Location": "/elsewhere"})

    app = Moved()
    with EmulatorServer(app) as server, \
            telephony_core.connect("sim://", webhook_url=server.url + "/hook") as client:
        client.provider.poster.backoff = 0.01
        client.dial("ext:1000", "ext:1001")
        assert client.provider.poster.flush(5)
        assert client.provider.poster.dropped == 1
    assert app.paths == ["hook"] * client.provider.poster.attempts


def test_unread_events_beyond_the_buffer_drop_the_oldest():
    from telephony_core.results import Event
    from telephony_core.sim.stream import SimEventStream

    stream = SimEventStream(buffer=3)
    for n in range(5):
        stream.put(Event("cdr", "sim", call_id=str(n)))
    stream.close()
    stream.put(Event("cdr", "sim", call_id="after close"))
    assert [e.call_id for e in stream.events()] == ["2", "3", "4"]  # then ends: closed
    assert list(stream.events(timeout=0.01)) == []  # every later reader ends at once too

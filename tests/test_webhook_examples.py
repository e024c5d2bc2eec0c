"""The webhook guide's Flask and FastAPI examples, served on 127.0.0.1 and driven by the
emulators' real webhook deliveries (Yeastar event reports; Twilio signed status callbacks).

What this proves about examples/webhooks/: the events a PBX reports reach the application's
handlers once each even when a report is re-sent; kinds without a handler and unreadable bodies
are acknowledged (the emulator's sender gives nothing up); a forged Twilio callback is refused
with 403 and reaches no handler; behind a proxy the public URL is what signatures are checked
against, and a forged copy does not make the genuine report look like a repeat.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from telephony_core.emulation import emulated

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "webhooks"))
import fastapi_app
import flask_app

HOOK = "/telephony/events"


class Late:
    """A WSGI/ASGI app whose real app is set after the server is listening (the client needs
    the server's URL, the app needs the client)."""

    app = None

    def __call__(self, *args):
        return self.app(*args)


class LateAsgi(Late):
    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


def serve_flask():
    from werkzeug.serving import make_server

    late = Late()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)

    return f"http://127.0.0.1:{server.server_port}", late, stop


def serve_fastapi():
    import uvicorn

    late = LateAsgi()
    server = uvicorn.Server(uvicorn.Config(late, host="127.0.0.1", port=0, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop():
        server.should_exit = True
        thread.join(5)

    return f"http://127.0.0.1:{port}", late, stop


FRAMEWORKS = {"flask": (flask_app, serve_flask), "fastapi": (fastapi_app, serve_fastapi)}


@pytest.fixture(params=sorted(FRAMEWORKS))
def web(request):
    module, serve = FRAMEWORKS[request.param]
    url, late, stop = serve()
    try:
        yield module, url, late
    finally:
        stop()


def test_yeastar_reports_reach_the_handlers_once_each(web, caplog):
    module, url, late = web
    seen = []
    handlers = {"call.answered": seen.append, "call.hangup": seen.append}
    with emulated("yeastar", client_options={"report_url": url + HOOK}) as emu:
        late.app = module.create_app(emu.client, handlers)
        emu.client.dial("ext:1000", "ext:1001")
        emu.app.pbx.answer("ext:1000")
        emu.app.pbx.answer("ext:1001")
        emu.client.hangup("ext:1000")
        assert emu.app.sender.wait(5)
        sender = emu.app.sender
        first = sender.history[0]
        # the PBX re-sends a report it thinks was lost: acknowledged, not handled again
        again = requests.post(url + HOOK, data=first.body, headers=dict(first.headers), timeout=5)
        garbage = requests.post(url + HOOK, data=b"{not json", timeout=5,
                                headers={"Content-Type": "application/json"})
        # what the PBX reported, each report once (the guide's ANSWER and ANSWERED coexist)
        expected = [e.kind for d in sender.history
                    for e in emu.client.parse_event(d.body, dict(d.headers)) if e.kind in handlers]
    assert sender.failed == 0 and sender.delivered == len(sender.history) >= 4
    assert (again.status_code, garbage.status_code) == (200, 200)
    assert [e.kind for e in seen] == expected
    assert expected[0] == "call.answered" and expected.count("call.hangup") == 1
    assert seen[-1].parties == ("ext:1000", "ext:1001")
    assert "unreadable webhook body" in caplog.text


def test_twilio_signed_callbacks_are_verified_and_forgeries_refused(web):
    from telephony_twilio.conformance import CALLEE, CALLER

    module, url, late = web
    seen = []
    handlers = {"call.answered": seen.append, "call.hangup": seen.append}
    with emulated("twilio", client_options={"status_callback": url + HOOK}) as emu:
        late.app = module.create_app(emu.client, handlers)
        ref = emu.client.dial(caller=CALLER, callee=CALLEE)
        emu.app.pbx.answer(CALLER)
        emu.app.pbx.answer(CALLEE)
        emu.client.hangup(call=f"call:{ref.call_id}")
        for sender in emu.app.senders.values():
            assert sender.wait(5)
            assert sender.failed == 0
            body, headers = sender.history[-1].body, dict(sender.history[-1].headers)
        forged = requests.post(url + HOOK, timeout=5, headers=headers,
                               data=body.replace(b"completed", b"in-progress") + b"&x=1")
    assert forged.status_code == 403
    assert [e.kind for e in seen] == ["call.answered", "call.hangup"]
    assert {e.call_id for e in seen} == {ref.call_id}


def test_behind_a_proxy_the_public_url_is_what_the_signature_is_checked_against(web):
    """The vendor signed the public URL; the app is reached at 127.0.0.1. With public_url the
    example verifies against the public URL: a callback signed for it is taken, one signed for
    any other URL is refused."""
    from urllib.parse import urlencode

    from telephony_twilio.emulator import DEMO
    from telephony_twilio.signature import compute_signature

    module, url, late = web
    public = "https://app.example.com/telephony/events?tenant=7"
    params = {"CallSid": "CA" + "5" * 32, "CallStatus": "completed", "To": "+14155550100"}
    body = urlencode(params).encode()
    seen = []
    with emulated("twilio") as emu:
        late.app = module.create_app(emu.client, {"call.hangup": seen.append},
                                     public_url=public)
        answers = [requests.post(url + HOOK, data=body, timeout=5, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": compute_signature(DEMO["auth_token"], signed_for,
                                                    params.items())}).status_code
            for signed_for in (url + HOOK, public)]
    assert answers == [403, 200]
    assert [e.kind for e in seen] == ["call.hangup"]


def test_the_public_url_is_harmless_for_providers_that_do_not_sign_it():
    """url= is for providers whose signatures cover the URL; a provider without one (Yeastar)
    reads the body as before instead of failing on an argument it does not take."""
    import json

    with emulated("yeastar") as emu:
        body = json.dumps({"action": "ANSWERED", "callid": "1495700000.101",
                           "members": [{"ext": {"extid": "1000"}}]}).encode()
        plain = emu.client.parse_event(body, {"Content-Type": "application/json"})
        behind_proxy = emu.client.parse_event(body, {"Content-Type": "application/json"},
                                              url="https://app.example.com/telephony/events")
    assert [e.kind for e in behind_proxy] == [e.kind for e in plain] == ["call.answered"]

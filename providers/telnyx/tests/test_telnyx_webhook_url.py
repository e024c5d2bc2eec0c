"""The ``webhook_url`` option: sent as DialCall's and SendMessage's ``webhook_url`` (spec3.json
CallRequest, CreateMessageRequest), and honoured by the emulator the way Telnyx documents it:
a call's webhooks go to the URL its DialCall named, a message's to the URL its SendMessage
named, everything else to the Call Control App's URL (the emulator factory's)."""

from __future__ import annotations

import threading

import pytest
import requests

from telephony_core.emulation import EmulatorApp, EmulatorServer, Request, route

DIAL = {"caller": "tel:+41000", "callee": "tel:+41001", "caller_id": "+15550100"}


class Hooks(EmulatorApp):
    """An application's webhook endpoint: keeps each body with its headers."""

    def __init__(self):
        super().__init__()
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Condition()

    @route("POST", "/{path:path}")
    def take(self, request: Request, path: str):
        with self.arrived:
            self.received.append((request.get_data(), dict(request.headers)))
            self.arrived.notify_all()
        return {"ok": True}

    def wait_for(self, count: int, seconds: float = 5) -> list[tuple[bytes, dict[str, str]]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, seconds)
            return list(self.received)


@pytest.fixture
def endpoints():
    """Two endpoints: the application's (webhook_url) and the portal's (the factory's)."""
    app, portal = Hooks(), Hooks()
    with EmulatorServer(app) as app_server, EmulatorServer(portal) as portal_server:
        yield (app, app_server.url + "/telnyx/events?tenant=7"), (
            portal, portal_server.url + "/portal")


def test_dial_names_the_url_and_every_leg_reports_there(world_with, endpoints):
    (app, url), (portal, portal_url) = endpoints
    with world_with(webhook_url=url, emulator_options={"webhook_url": portal_url}) as w:
        ref = w.client.dial(**DIAL)
        assert w.sent("/v2/calls")[0]["webhook_url"] == url
        w.pbx.answer("tel:+41000")
        events = w.deliver()                     # the bridge step is sent with the URL too
        assert w.sent("/v2/calls")[1]["webhook_url"] == url
        w.pbx.answer("tel:+41001")
        w.client.hangup(f"call:{ref.call_id}")
        delivered = app.wait_for(len(w.app.webhooks))
        assert len(delivered) == len(w.app.webhooks)
        parsed = [e for body, headers in delivered for e in w.client.parse_event(body, headers)]
    assert len(events) >= 3 and portal.received == []
    assert set(w.app.delivered_to) == {url}
    assert {"call.ringing", "call.answered", "call.hangup"} <= {e.kind for e in parsed}
    assert {e.call_id for e in parsed} == {ref.call_id}   # the callee leg's too (root)


def test_without_the_option_webhooks_go_to_the_app_url_of_the_portal(world_with, endpoints):
    (app, _), (portal, portal_url) = endpoints
    with world_with(emulator_options={"webhook_url": portal_url}) as w:
        ref = w.client.dial(**DIAL)
        assert "webhook_url" not in w.sent("/v2/calls")[0]
        w.pbx.answer("tel:+41000")
        delivered = portal.wait_for(2)
        (event,) = w.client.parse_event(*delivered[-1])
    assert app.received == [] and event.call_id == ref.call_id


def test_send_sms_names_the_url_and_message_sent_arrives_there(world_with, endpoints):
    (app, url), (portal, portal_url) = endpoints
    with world_with(webhook_url=url, sms_from="+15550100",
                    emulator_options={"webhook_url": portal_url}) as w:
        receipt = w.client.send_sms(to="tel:+41000", text="hi")
        assert w.sent("/v2/messages")[0]["webhook_url"] == url
        ((body, headers),) = app.wait_for(1)
        (event,) = w.client.parse_event(body, headers)
    assert portal.received == []
    assert (event.kind, event.data["message_id"], event.data["status"]) == (
        "sms.status", receipt.message_id, "sent")


@pytest.mark.parametrize("change, field", [
    ({"webhook_url": "/relative"}, "webhook_url"),
    ({"webhook_url": "https://app.example.com/x", "webhook_url_method": "GET"},
     "webhook_url_method")])
def test_the_emulator_refuses_a_url_it_cannot_post_to(world, change, field):
    reply = requests.post(world.server.url + "/v2/calls", timeout=5, json={
        "connection_id": world.app.connection_id, "to": "+41000", "from": "+15550100",
        **change}, headers={"Authorization": f"Bearer {world.app.api_key}"})
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["source"]["pointer"] == f"/{field}"
    assert world.pbx.snapshot()["calls"] == []


def test_play_prompt_and_supervisor_legs_name_the_url_too(world_with, endpoints):
    """Every POST /calls carries it: a play_prompt's leg and a monitor's supervisor leg,
    whose webhooks (call_id: the supervised call, from client_state) reach the same URL."""
    (app, url), _ = endpoints
    with world_with(webhook_url=url) as w:
        ref = w.client.play_prompt("tel:+41000", ["hello111"], caller_id="+15550100")
        w.pbx.answer("tel:+41000")
        w.client.monitor("sip:1005@sip.telnyx.com", f"call:{ref.call_id}", "listen")
        w.client.hangup(f"call:{ref.call_id}")
        assert [b["webhook_url"] for b in w.sent("/v2/calls")] == [url, url]
        delivered = app.wait_for(len(w.app.webhooks))
        assert len(delivered) == len(w.app.webhooks)
        events = [e for body, headers in delivered for e in w.client.parse_event(body, headers)]
    assert {e.call_id for e in events} == {ref.call_id}
    assert any(e.data.get("flow") == "monitor" for e in events)

"""WebhookReceiver: the application's side of a webhook, as tests and emulators use it."""

from __future__ import annotations

import json

from telephony_core.emulation import EmulatorServer, WebhookReceiver, WebhookSender


def test_it_records_every_body_on_any_path_in_order():
    receiver = WebhookReceiver()
    with EmulatorServer(receiver) as server:
        with WebhookSender(server.url + "/events/pbx") as sender:
            for n in range(3):
                sender.send({"n": n})
            assert sender.wait(5)
        assert [json.loads(body) for body in receiver.bodies] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert receiver.arrived.is_set()
        assert [r.path for r in server.requests] == ["/events/pbx"] * 3

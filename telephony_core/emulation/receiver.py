"""The application's side of a webhook, for tests: records every report a provider POSTs."""

from __future__ import annotations

import threading

from .app import EmulatorApp, Request, route

__all__ = ["WebhookReceiver"]


class WebhookReceiver(EmulatorApp):
    """Serve it with :class:`EmulatorServer` and give ``server.url + "/any/path"`` to an emulator
    as its webhook URL; ``bodies`` holds every body received, in order, answered with HTTP 200."""

    def __init__(self):
        super().__init__()
        self.bodies: list[bytes] = []
        self.arrived: threading.Event = threading.Event()

    @route("POST", "/{path:path}")
    def receive(self, request: Request, path: str) -> dict[str, bool]:
        with self.lock:
            self.bodies.append(request.get_data())
        self.arrived.set()
        return {"ok": True}

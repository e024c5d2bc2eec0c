"""A Flask webhook receiver: ``flask --app examples/webhooks/flask_app.py run``.

It connects with ``TELEPHONY_URL`` (or ``TELEPHONY_PROFILE``) and takes the provider's reports at
``POST /telephony/events``. Behind a proxy set ``PUBLIC_WEBHOOK_URL`` to the URL the vendor
posts to. See docs/webhooks.md.
"""

from __future__ import annotations

import os

from flask import Flask, request

import telephony_core
from telephony_core import Client
from telephony_core.results import Event

try:
    from .receiver import Handlers, WebhookEndpoint
except ImportError:  # run as a script or by ``flask --app``
    from receiver import Handlers, WebhookEndpoint  # type: ignore[no-redef]


def create_app(client: Client, handlers: Handlers, public_url: str | None = None) -> Flask:
    endpoint = WebhookEndpoint(client, handlers, public_url=public_url)
    app = Flask(__name__)

    @app.post("/telephony/events")
    def events() -> tuple[str, int]:
        status = endpoint.take(request.get_data(), dict(request.headers))
        return "", status

    return app


def log_event(event: Event) -> None:
    print(event.kind, event.call_id, event.parties)


if os.environ.get("TELEPHONY_URL") or os.environ.get("TELEPHONY_PROFILE"):
    app = create_app(telephony_core.connect(),
                     {"call.answered": log_event, "call.hangup": log_event},
                     public_url=os.environ.get("PUBLIC_WEBHOOK_URL"))

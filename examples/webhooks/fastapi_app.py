"""A FastAPI webhook receiver: ``uvicorn fastapi_app:app`` (from examples/webhooks/).

It connects with ``TELEPHONY_URL`` (or ``TELEPHONY_PROFILE``) and takes the provider's reports at
``POST /telephony/events``. Behind a proxy set ``PUBLIC_WEBHOOK_URL`` to the URL the vendor
posts to. See docs/webhooks.md.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

import telephony_core
from telephony_core import Client
from telephony_core.results import Event

try:
    from .receiver import Handlers, WebhookEndpoint
except ImportError:  # run from this folder
    from receiver import Handlers, WebhookEndpoint  # type: ignore[no-redef]


def create_app(client: Client, handlers: Handlers, public_url: str | None = None) -> FastAPI:
    endpoint = WebhookEndpoint(client, handlers, public_url=public_url)
    app = FastAPI()

    @app.post("/telephony/events")
    async def events(request: Request) -> Response:
        body = await request.body()
        # The client is synchronous (follow-ups may send requests): keep it off the event loop.
        status = await run_in_threadpool(endpoint.take, body, dict(request.headers))
        return Response(status_code=status)

    return app


def log_event(event: Event) -> None:
    print(event.kind, event.call_id, event.parties)


if os.environ.get("TELEPHONY_URL") or os.environ.get("TELEPHONY_PROFILE"):
    app = create_app(telephony_core.connect(),
                     {"call.answered": log_event, "call.hangup": log_event},
                     public_url=os.environ.get("PUBLIC_WEBHOOK_URL"))

"""What both examples share: taking one webhook delivery, whatever the framework.

The framework code (flask_app.py, fastapi_app.py) only moves bytes and headers in and a status
out; everything telephony-specific is here, so it reads the same in any framework.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping

from telephony_core import Client
from telephony_core.errors import EventError, SignatureError, TelephonyError
from telephony_core.events import Deduplicator
from telephony_core.results import Event
from telephony_core.web import webhook_status

log = logging.getLogger("webhooks")

#: What the application does with an event, by event kind. Kinds without a handler are
#: acknowledged and ignored: providers add kinds, and a vendor re-sends what is refused.
Handlers = Mapping[str, Callable[[Event], None]]


class WebhookEndpoint:
    """Turns one delivery into events, runs the handlers, and says which HTTP status to answer.

    ``public_url`` is the URL the vendor posts to, as the vendor sees it: behind a reverse proxy
    or tunnel the URL your framework reports (``http://127.0.0.1:8000/...``) is not the one the
    vendor signed (Twilio signs the full public URL).
    """

    def __init__(self, client: Client, handlers: Handlers, *, public_url: str | None = None):
        self.client = client
        self.handlers = handlers
        self.public_url = public_url
        # Vendors re-send a report until they get a 2xx, so the same body can arrive twice:
        # drop byte-identical repeats before anything runs (follow-ups included).
        self.seen = Deduplicator(key=lambda body: hashlib.sha256(body).digest())

    def take(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The status to answer the vendor for this delivery (answer at once: vendors time
        out after a few seconds, so slow work belongs in a queue, not in a handler)."""
        url = {"url": self.public_url} if self.public_url else {}  # what the vendor signed
        try:
            # Read (and verify) before remembering the body: a forged copy of a real report
            # must not make the real one look like a repeat.
            self.client.parse_event(body, headers, **url)
            if not self.seen.is_new(body):
                return 200                               # a re-sent report: already taken
            # parse again and send the provider's follow-up steps, once per report
            events = self.client.handle_event(body, headers, **url)
        except SignatureError as exc:
            log.warning("refused a webhook: %s", exc)    # not from the vendor
            return webhook_status(exc)                   # 403
        except EventError as exc:
            log.error("unreadable webhook body: %s", exc)
            return webhook_status(exc)                   # 200: a re-send would fail the same
        except TelephonyError as exc:
            # The events were read but a follow-up step the provider sends failed; a re-sent
            # report would be dropped as a repeat, so log it and acknowledge.
            log.error("webhook follow-up failed: %s", exc)
            return 200
        for event in events:
            handler = self.handlers.get(event.kind)
            if handler is None:
                log.debug("no handler for %s events; ignored", event.kind)
                continue
            handler(event)
        return 200

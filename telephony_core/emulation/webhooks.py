"""Event reports the way a PBX sends them: POSTed in the background, re-sent until HTTP 200.

Real systems (Yeastar's event reports, TeleCMI's webhooks) deliver one report at a time, in
order, and re-send a report the application did not acknowledge. :class:`WebhookSender`
reproduces that, so an application's webhook endpoint and its deduplication can be tested
against redeliveries.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
import requests

from ..redaction import get_logger, redact

__all__ = ["Delivery", "WebhookSender"]

log: logging.Logger = get_logger("telephony_core.emulation.webhooks")


@attrs.frozen
class Delivery:
    """One queued report and what became of it (``status`` of the last attempt, or None)."""

    body: bytes = attrs.field(repr=False)
    headers: Mapping[str, str] = attrs.field(repr=False)
    attempts: int = 0
    delivered: bool = False
    status: int | None = None


class WebhookSender:
    """POST reports to ``url`` from one background thread, in the order they were sent.

    Each report is re-sent every ``interval`` seconds until the receiver answers one of
    ``accept`` (HTTP 200 by default), at most ``max_attempts`` times; then the sender gives it
    up (counted in :attr:`failed`) and moves on to the next. ``timeout`` bounds each POST.
    """

    def __init__(self, url: str, *, interval: float = 0.2, max_attempts: int = 20,
                 timeout: float = 2.0, accept: Iterable[int] = (200,)):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.url = url
        self.interval: float = float(interval)
        self.max_attempts: int = int(max_attempts)
        self.timeout: float = float(timeout)
        self.accept: frozenset[int] = frozenset(accept)
        self._session = requests.Session()
        self._session.trust_env = False
        self._queue: collections.deque[tuple[bytes, dict[str, str]]] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = threading.Event()
        self._delivered = 0
        self._failed = 0
        self._attempts = 0
        self.history: list[Delivery] = []
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def send(self, body: Mapping[str, Any] | bytes | str, headers: Mapping[str, str] | None = None,
             form: bool = False) -> None:
        """Queue one report: a dict is sent as JSON (or urlencoded with ``form=True``), bytes
        or text as they are (set the Content-Type in ``headers``)."""
        if self._closed.is_set():
            raise RuntimeError("the webhook sender is closed")
        wire_headers = dict(headers or {})
        if isinstance(body, Mapping):
            if form:
                payload = urlencode({k: v if isinstance(v, str) else json.dumps(v)
                                     for k, v in body.items()}).encode()
                wire_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            else:
                payload = json.dumps(body).encode()
                wire_headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = bytes(body)
        with self._cond:
            self._queue.append((payload, wire_headers))
            self._cond.notify_all()

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every queued report was delivered or given up; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    @property
    def delivered(self) -> int:
        """Reports the receiver acknowledged."""
        return self._delivered

    @property
    def failed(self) -> int:
        """Reports given up after ``max_attempts``."""
        return self._failed

    @property
    def attempts(self) -> int:
        """POSTs made, re-sends included."""
        return self._attempts

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (1 if self._busy else 0)

    def close(self) -> None:
        """Stop after the POST in flight; reports still queued are dropped."""
        self._closed.set()
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout=self.timeout + 1)
        self._session.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed.is_set())
                if self._closed.is_set():
                    return
                payload, headers = self._queue.popleft()
                self._busy = True
            try:
                outcome = self._deliver(payload, headers)
                with self._cond:
                    self.history.append(outcome)
                    if outcome.delivered:
                        self._delivered += 1
                    else:
                        self._failed += 1
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, payload: bytes, headers: dict[str, str]) -> Delivery:
        status: int | None = None
        attempt = 0
        while attempt < self.max_attempts and not self._closed.is_set():
            if attempt:
                self._closed.wait(self.interval)
                if self._closed.is_set():
                    break
            attempt += 1
            with self._cond:
                self._attempts += 1
            try:
                reply = self._session.post(self.url, data=payload, headers=headers,
                                           timeout=self.timeout)
                status = reply.status_code
                reply.close()
            except requests.RequestException as exc:
                status = None
                log.debug("webhook attempt %d failed: %s", attempt, redact(type(exc).__name__))
                continue
            if status in self.accept:
                return Delivery(payload, headers, attempt, True, status)
            log.debug("webhook attempt %d answered HTTP %s; will re-send", attempt, status)
        log.warning("webhook report given up after %d attempts (last status %s)", attempt, status)
        return Delivery(payload, headers, attempt, False, status)

    def __repr__(self) -> str:
        return (f"<WebhookSender delivered={self._delivered} failed={self._failed} "
                f"attempts={self._attempts}>")

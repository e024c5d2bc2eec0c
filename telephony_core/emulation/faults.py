"""Faults an :class:`~telephony_core.emulation.EmulatorServer` injects into chosen requests.

Every fault says exactly two things, because the conformance suite relies on them to prove that a
non-idempotent operation (a dial, an SMS) reaches the emulator at most once:

* ``reaches_app``: whether the emulator application sees the request, so whether the model may
  change;
* what the client observes on the wire.

A request is *attempted* (``server.attempts``) as soon as its request line arrives; it is
*recorded* (``server.requests``) once its head and body have been read completely.

=====================  ========  =========  =====================================================
fault                  recorded  app runs   the client (requests) sees
=====================  ========  =========  =====================================================
delay(s)               yes       yes, now   the reply after ``s`` s, or ``ReadTimeout`` before
reset_before_read()    no        no         ``ConnectionError`` (reset); body never read
reset_after_read()     yes       yes        ``ConnectionError`` (reset) instead of the reply
http_error(status)     yes       no         ``status`` with the fault's body
malformed_body()       yes       yes        app's status, body not JSON (``JSONDecodeError``)
truncated_body()       yes       yes        ``ChunkedEncodingError`` (half the body, then EOF)
expired_token()        yes       yes        whatever the app answers after ``expire_tokens()``
=====================  ========  =========  =====================================================

Through the core's transport every fault but ``http_error`` and ``expired_token`` becomes a
``TransportError`` with ``request_sent=True`` (``MalformedReply`` for malformed_body), so a
non-idempotent operation ends in ``OutcomeUnknown`` and is never re-sent.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping

import attrs

__all__ = ["Fault", "FaultKind"]


class FaultKind(enum.Enum):
    DELAY = "delay"
    RESET_BEFORE_READ = "reset_before_read"
    RESET_AFTER_READ = "reset_after_read"
    HTTP_ERROR = "http_error"
    MALFORMED_BODY = "malformed_body"
    TRUNCATED_BODY = "truncated_body"
    EXPIRED_TOKEN = "expired_token"


#: Faults after which the application has processed the request (the model may have changed).
_REACHES_APP = frozenset({FaultKind.DELAY, FaultKind.RESET_AFTER_READ, FaultKind.MALFORMED_BODY,
                          FaultKind.TRUNCATED_BODY, FaultKind.EXPIRED_TOKEN})


@attrs.frozen
class Fault:
    """One way of misbehaving. Build it with the class methods; inject it with
    :meth:`EmulatorServer.inject`.
    """

    kind: FaultKind
    seconds: float = 0.0
    status: int = 0
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def reaches_app(self) -> bool:
        """True when the application processes the request despite the fault."""
        return self.kind in _REACHES_APP

    @property
    def recorded(self) -> bool:
        """True when the request ends up in ``server.requests`` (its body was read)."""
        return self.kind is not FaultKind.RESET_BEFORE_READ

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer late: the request is read, recorded and processed by the application at once
        (the model changes now), then the server waits ``seconds`` before sending the
        application's reply.

        With a client read timeout shorter than ``seconds`` the client sees
        ``requests.exceptions.ReadTimeout`` although the operation happened: the situation
        ``OutcomeUnknown`` exists for. The wait is cut short when the server stops.
        """
        if not seconds >= 0:
            raise ValueError(f"a delay must be a number of seconds >= 0, not {seconds!r}")
        return cls(FaultKind.DELAY, seconds=float(seconds))

    @classmethod
    def reset_before_read(cls) -> Fault:
        """Drop the request unseen: the server reads the request line and headers (it must, to
        know the path), reads none of the body, and closes the connection with a TCP RST
        (``SO_LINGER`` 0).

        The application never sees the request, the model does not change, and the request is
        *not* recorded in ``server.requests``; it counts in ``server.attempts``. The client sees
        ``requests.exceptions.ConnectionError`` (connection reset or remote disconnected).
        """
        return cls(FaultKind.RESET_BEFORE_READ)

    @classmethod
    def reset_after_read(cls) -> Fault:
        """Lose the reply: the request is read completely, recorded and processed by the
        application (the model changes), then the connection is closed with a TCP RST instead
        of the reply. The client sees ``requests.exceptions.ConnectionError`` and cannot tell
        whether the operation happened.
        """
        return cls(FaultKind.RESET_AFTER_READ)

    @classmethod
    def http_error(cls, status: int, body: bytes | str | None = None,
                   headers: Mapping[str, str] | None = None) -> Fault:
        """Refuse: the request is read and recorded, the application is *not* called (the model
        does not change) and the server answers ``status`` with ``body``.

        Without a body the answer is ``{"error": "injected fault", "status": STATUS}`` as JSON.
        The content type is ``application/json`` when the body parses as JSON, else
        ``text/plain``; ``headers`` add to or override that (``Retry-After`` for a 429...).
        """
        if not 100 <= int(status) <= 599:
            raise ValueError(f"an HTTP status must be between 100 and 599, not {status!r}")
        if body is None:
            body = json.dumps({"error": "injected fault", "status": int(status)}).encode()
        elif isinstance(body, str):
            body = body.encode("utf-8")
        return cls(FaultKind.HTTP_ERROR, status=int(status), body=bytes(body),
                   headers=dict(headers or {}))

    @classmethod
    def malformed_body(cls) -> Fault:
        """Garble the reply: the request is read, recorded and processed by the application
        (the model changes); the reply keeps the application's status and headers but its body
        is replaced by bytes that are not valid JSON (``<malformed>`` followed by half of the
        real body), with a correct ``Content-Length``. The client gets a complete HTTP answer
        whose ``.json()`` raises ``requests.exceptions.JSONDecodeError``.
        """
        return cls(FaultKind.MALFORMED_BODY)

    @classmethod
    def truncated_body(cls) -> Fault:
        """Cut the reply short: the request is read, recorded and processed by the application
        (the model changes); the reply announces the full ``Content-Length`` but only half of
        the body is sent before the server closes the connection (an orderly FIN, not a RST).
        Reading the body raises ``requests.exceptions.ChunkedEncodingError`` in the client.
        """
        return cls(FaultKind.TRUNCATED_BODY)

    @classmethod
    def expired_token(cls) -> Fault:
        """Expire sessions: before this request the server calls ``app.expire_tokens()``, then
        serves it normally (recorded, processed by the application). What the client sees is
        the application's answer to a stale token: it is the emulator's to implement.
        :meth:`EmulatorServer.inject` refuses this fault for an application without
        ``expire_tokens``.
        """
        return cls(FaultKind.EXPIRED_TOKEN)

    def __str__(self) -> str:
        if self.kind is FaultKind.DELAY:
            return f"delay({self.seconds:g}s)"
        if self.kind is FaultKind.HTTP_ERROR:
            return f"http_error({self.status})"
        return self.kind.value

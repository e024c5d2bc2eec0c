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
garbage_reply()        yes       yes        bytes that are not a reply: over TLS not even TLS
                                            (``SSLError`` while reading), else not HTTP
truncated_head()       yes       yes        ``HTTP/1.1 200 OK`` and half a header, then EOF
redirect(status, to)   yes       no         ``status`` (301-308) with ``Location: to``
trickle(s)             yes       yes        the reply, one byte every ``s`` seconds
stall(s)               yes       yes        the reply's head, then nothing for ``s`` seconds
oversize(n)            yes       yes        200 with a body of ``n`` bytes (streamed)
=====================  ========  =========  =====================================================

Through the core's transport every fault but ``http_error``, ``expired_token`` and ``redirect``
becomes a ``TransportError`` with ``request_sent=True`` (``MalformedReply`` for malformed_body),
so a non-idempotent operation ends in ``OutcomeUnknown`` and is never re-sent; a redirect is a
``TransportError`` with reason ``redirect``, never followed. ``trickle`` and ``stall`` end by the
operation's deadline; ``oversize`` beyond ``max_reply_bytes`` is refused unread.

:data:`WIRE_FAULTS` lists one instance of each, for suites that try every fault.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping

import attrs

__all__ = ["WIRE_FAULTS", "Fault", "FaultKind"]


class FaultKind(enum.Enum):
    DELAY = "delay"
    RESET_BEFORE_READ = "reset_before_read"
    RESET_AFTER_READ = "reset_after_read"
    HTTP_ERROR = "http_error"
    MALFORMED_BODY = "malformed_body"
    TRUNCATED_BODY = "truncated_body"
    EXPIRED_TOKEN = "expired_token"
    GARBAGE_REPLY = "garbage_reply"
    TRUNCATED_HEAD = "truncated_head"
    REDIRECT = "redirect"
    TRICKLE = "trickle"
    STALL = "stall"
    OVERSIZE = "oversize"


#: Faults after which the application has processed the request (the model may have changed).
_REACHES_APP = frozenset({FaultKind.DELAY, FaultKind.RESET_AFTER_READ, FaultKind.MALFORMED_BODY,
                          FaultKind.TRUNCATED_BODY, FaultKind.EXPIRED_TOKEN,
                          FaultKind.GARBAGE_REPLY, FaultKind.TRUNCATED_HEAD, FaultKind.TRICKLE,
                          FaultKind.STALL, FaultKind.OVERSIZE})


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

    @classmethod
    def garbage_reply(cls) -> Fault:
        """Answer with bytes that are not a reply: the request is read, recorded and processed
        (the model changes). Over TLS the bytes go to the TCP socket below TLS, so the client's
        TLS layer fails *while reading the reply* (an ``SSLError`` after the request left: the
        case that must not count as "never sent"); over plain HTTP they are not HTTP either.
        """
        return cls(FaultKind.GARBAGE_REPLY)

    @classmethod
    def truncated_head(cls) -> Fault:
        """Cut the reply inside its head: the request is processed (the model changes), then
        ``HTTP/1.1 200 OK`` and half of a header line are sent and the connection is closed.
        Python's ``http.client`` reads that as a complete 200 with an empty body unless the
        client checks; a client that keeps its promises reports a truncated reply.
        """
        return cls(FaultKind.TRUNCATED_HEAD)

    @classmethod
    def redirect(cls, status: int = 307, location: str = "http://127.0.0.1:9/elsewhere") -> Fault:
        """Answer ``status`` (301, 302, 303, 307 or 308) with ``Location: location`` without
        calling the application. A client that followed it would re-send the request (and its
        credentials) to ``location``, or turn a POST into a GET; it must do neither.
        """
        if int(status) not in (300, 301, 302, 303, 305, 307, 308):
            raise ValueError(f"a redirect status is 301, 302, 303, 307 or 308, not {status!r}")
        return cls(FaultKind.REDIRECT, status=int(status), headers={"Location": location})

    @classmethod
    def trickle(cls, seconds_per_byte: float = 0.2) -> Fault:
        """Send the application's reply one byte every ``seconds_per_byte``: each socket read
        gets a byte in time, so only a wall-clock deadline ends the exchange. Stops when the
        client goes away or the server stops.
        """
        if not seconds_per_byte > 0:
            raise ValueError(f"seconds_per_byte must be > 0, not {seconds_per_byte!r}")
        return cls(FaultKind.TRICKLE, seconds=float(seconds_per_byte))

    @classmethod
    def stall(cls, seconds: float = 30.0) -> Fault:
        """Send the reply's head (with its Content-Length), then nothing for ``seconds``, then
        the body: a client whose read timeout is longer than its deadline's time left must still
        end by the deadline.
        """
        if not seconds >= 0:
            raise ValueError(f"a stall must be a number of seconds >= 0, not {seconds!r}")
        return cls(FaultKind.STALL, seconds=float(seconds))

    @classmethod
    def oversize(cls, size: int = 16 * 1024 * 1024) -> Fault:
        """Answer 200 with a JSON-ish body of ``size`` bytes, streamed in chunks (the server
        does not hold it). The request is processed (the model changes) first.
        """
        if int(size) < 1:
            raise ValueError(f"size must be at least 1 byte, not {size!r}")
        return cls(FaultKind.OVERSIZE, status=200, seconds=0.0, body=str(int(size)).encode())

    @property
    def size(self) -> int:
        """The body size of an :meth:`oversize` fault."""
        return int(self.body or b"0")

    def __str__(self) -> str:
        if self.kind is FaultKind.DELAY:
            return f"delay({self.seconds:g}s)"
        if self.kind is FaultKind.HTTP_ERROR:
            return f"http_error({self.status})"
        if self.kind is FaultKind.REDIRECT:
            return f"redirect({self.status})"
        if self.kind in (FaultKind.TRICKLE, FaultKind.STALL):
            return f"{self.kind.value}({self.seconds:g}s)"
        if self.kind is FaultKind.OVERSIZE:
            return f"oversize({self.size})"
        return self.kind.value


#: One of each wire fault of issue 12, as the fault suites try them. The redirects send the
#: client to another port of loopback, where nothing listens (port 9, discard).
WIRE_FAULTS: tuple[Fault, ...] = (
    Fault.garbage_reply(), Fault.truncated_head(),
    Fault.redirect(301), Fault.redirect(302), Fault.redirect(303), Fault.redirect(307),
    Fault.redirect(308), Fault.trickle(0.2), Fault.stall(30.0), Fault.oversize(16 * 1024 * 1024),
)

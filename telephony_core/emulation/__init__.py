"""The kit every vendor emulator is built with (needs the ``emulation`` extra: werkzeug).

* :class:`EmulatorServer` serves a WSGI application over real HTTP/1.1 on loopback, logs
  requests (:class:`RecordedRequest`) and injects :class:`Fault`\\ s per request or per path;
* :class:`EmulatorApp` is the base of emulator applications (routing, JSON replies, 404/405/500);
* :class:`WebhookSender` POSTs event reports the way a PBX does (background, in order, re-sent
  until HTTP 200);
* :func:`emulated` starts a provider's emulator and connects a client to it.

``import telephony_core`` never imports this package.
"""

from .app import Abort, EmulatorApp, Request, Response, route
from .faults import WIRE_FAULTS, Fault, FaultKind
from .harness import Emulation, emulated, start_emulator
from .receiver import WebhookReceiver
from .recorded import RecordedRequest
from .server import EmulatorServer
from .webhooks import Delivery, WebhookSender

__all__ = [
    "WIRE_FAULTS",
    "Abort",
    "Delivery",
    "Emulation",
    "EmulatorApp",
    "EmulatorServer",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "Request",
    "Response",
    "WebhookReceiver",
    "WebhookSender",
    "emulated",
    "route",
    "start_emulator",
]

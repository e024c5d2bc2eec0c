"""``emulated(name)``: a provider's emulator served on loopback with a client connected to it.

The one harness used by provider tests, the demo and the conformance suite::

    with emulated("yeastar") as emu:
        emu.client.dial(caller="ext:1002", callee="tel:41000")
        assert emu.server.requests_to("/api/v1.0.0/call/dial")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .. import registry
from ..client import Client, connect
from .server import EmulatorServer

__all__ = ["Emulation", "emulated", "start_emulator"]


@attrs.frozen
class Emulation:
    """A running emulator: its ``server``, its ``app``, and a ``client`` connected to it."""

    name: str
    server: EmulatorServer
    app: Any
    client: Client

    @property
    def url(self) -> str:
        """The provider URL the client was connected with (it holds demo credentials)."""
        return self.app.connect_url(self.server.url)

    def connect(self, **client_options: Any) -> Client:
        """Another client for the same emulator (close it yourself)."""
        return connect(self.url, **client_options)


def start_emulator(name: str, pbx: Any = None, *, host: str = "127.0.0.1", port: int = 0,
                   allow_public: bool = False, **factory_options: Any) -> EmulatorServer:
    """Build provider ``name``'s emulator application and serve it (the caller stops it)."""
    spec = registry.get(name)
    app = spec.emulator_factory()(pbx=pbx, **factory_options)
    return EmulatorServer(app, host=host, port=port, allow_public=allow_public).start()


@contextlib.contextmanager
def emulated(name: str, pbx: Any = None, *, client_options: Mapping[str, Any] | None = None,
             **factory_options: Any) -> Iterator[Emulation]:
    """Serve provider ``name``'s emulator on 127.0.0.1 and connect a client to it.

    ``pbx`` and ``factory_options`` go to the emulator factory the provider's spec names;
    ``client_options`` (``timeout``, ``retries``, ``deadline``...) to
    :func:`telephony_core.connect`. On exit the client is closed (it may log out through the
    emulator), then the server stopped.
    """
    server = start_emulator(name, pbx, **factory_options)
    try:
        app: Any = server.app  # the provider's emulator: it says how to connect to it
        client = connect(app.connect_url(server.url), **dict(client_options or {}))
        try:
            yield Emulation(name, server, app, client)
        finally:
            client.close()
    finally:
        server.stop()

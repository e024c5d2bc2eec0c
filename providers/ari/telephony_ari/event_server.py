"""The ARI emulator's event WebSocket: one small ``websockets`` server per process beside the
emulation kit's HTTP server (the kit's server speaks HTTP only), serving ``GET /ari/events
?app=NAME[&subscribeAll=true]`` (events.json ``eventWebsocket``) for every ARI emulator of the
process, each found by its Stasis application name."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from telephony_core.redaction import get_logger

if TYPE_CHECKING:
    from .emulator import AriEmulator

__all__ = ["Hub"]

log = get_logger("telephony_ari.emulator.events")


class Hub:
    """The one event-WebSocket server of this process (``GET /ari/events?app=NAME``,
    events.json ``eventWebsocket``): it finds the emulator by application name and checks
    that emulator's credentials before upgrading."""

    _instance: Hub | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.apps: weakref.WeakValueDictionary[str, AriEmulator] = \
            weakref.WeakValueDictionary()
        quiet = get_logger("telephony_ari.emulator.websocket")
        self.server = serve(self._serve, "127.0.0.1", 0, process_request=self._check,
                            logger=quiet, compression=None)
        self.port = int(self.server.socket.getsockname()[1])
        threading.Thread(target=self.server.serve_forever, daemon=True,
                         name="ari-emulator-events").start()

    @classmethod
    def get(cls) -> Hub:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def register(self, emulator: AriEmulator) -> None:
        self.apps[emulator.app] = emulator

    def _target(self, path: str) -> tuple[AriEmulator | None, bool]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        app = (query.get("app") or [""])[0]
        every = (query.get("subscribeAll") or ["false"])[0] == "true"
        if parts.path != "/ari/events":
            return None, every
        return self.apps.get(app), every

    def _check(self, connection: Any, request: Any) -> Any:
        emulator, every = self._target(request.path)
        if emulator is None:
            return connection.respond(400, "Invalid application provided in param [app].\n")
        if not emulator.authorized(request.headers.get("Authorization")):
            return connection.respond(401, "Authentication required\n")
        emulator.attach(connection, every)  # the app is registered with the upgrade
        return None

    def _serve(self, connection: Any) -> None:
        emulator, _ = self._target(connection.request.path)
        if emulator is None:
            return
        emulator.activate(connection)
        del emulator  # hold no strong reference while waiting
        try:
            for _ in connection:  # ARI clients send nothing; wait for the close
                pass
        except Exception:  # closed by either side
            log.debug("an event stream connection ended")
        finally:
            target, _ = self._target(connection.request.path)
            if target is not None:
                target.detach(connection)

"""The APIO provider: GET/PUT of a user's music_on_hold service over the core's transport."""

from __future__ import annotations

import base64

from telephony_core.errors import ProviderError
from telephony_core.http import HttpProvider, Route, WireReply, WireRequest
from telephony_core.redaction import redact

from .translate import from_apio, moh_path, to_apio

__all__ = ["ApioProvider"]


class ApioProvider(HttpProvider):
    """Authenticates every request (HTTP basic by default, or a bearer token)."""

    routes = {
        "get_music_on_hold": Route(
            lambda self, p: WireRequest("GET", moh_path(p["scope"])),
            lambda self, data, p: from_apio(data)),
        "set_music_on_hold": Route(
            lambda self, p: WireRequest("PUT", moh_path(p["scope"]), json=to_apio(p)),
            lambda self, data, p: from_apio(data)),
    }

    def __init__(self, spec, config):
        super().__init__(spec, config)
        if config.get("auth") == "bearer":
            token = config.secret("token") or config.secret("password")
            self._authorization = f"Bearer {token}"
        else:
            pair = f"{config.get('username', '')}:{config.secret('password') or ''}"
            self._authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        self.add_secret(self._authorization.split(" ", 1)[1])  # base64 of user:password too

    def authorize(self, request: WireRequest) -> WireRequest:
        return request.with_headers({"Authorization": self._authorization})

    def decode(self, reply: WireReply, op):
        if reply.status == 404:
            raise ProviderError("the Music On Hold service is not assigned to that user "
                                "(APIO answered 404)", code="service_not_assigned",
                                category="not_found", vendor_code="404")
        if reply.status == 400:
            raise ProviderError(f"APIO refused the update (HTTP 400): {redact(reply.text[:200])}",
                                code="update_failed", category="invalid", vendor_code="400")
        return super().decode(reply, op)

"""The APIO provider: GET/PUT of a user's music_on_hold service over the core's transport."""

from __future__ import annotations

from typing import Any

from telephony_core.errors import AuthenticationError, ConfigurationError, ProviderError
from telephony_core.http import HttpProvider, MalformedReply, Route, WireReply, WireRequest
from telephony_core.redaction import redact

from .translate import DEFAULT_PREFIX, from_apio, moh_path, to_apio

__all__ = ["ApioProvider"]


class ApioProvider(HttpProvider):
    """Authenticates every request with the user's M2M token as a bearer token.

    APIO core accepts bearer tokens only (../shared/vendor-docs/apio-core/openapi.yaml:
    ``securitySchemes: BearerAuth``). Its login (``POST /api/v01/auth/login``) gives an access
    token that lives minutes and a refresh token (``GET /api/v01/auth/access_token``); that flow
    waits for the core's shared session mechanism, so until then only the M2M token, which
    never expires, is accepted. No APIO deployment found documents HTTP Basic."""

    routes = {
        "get_music_on_hold": Route(
            lambda self, p: WireRequest("GET", moh_path(p["scope"], self.prefix)),
            lambda self, data, p: from_apio(_object(data))),
        "set_music_on_hold": Route(
            lambda self, p: WireRequest("PUT", moh_path(p["scope"], self.prefix),
                                        json=to_apio(p)),
            lambda self, data, p: from_apio(_object(data))),
    }

    def __init__(self, spec, config):
        token = config.secret("token")
        if not token:
            raise ConfigurationError(
                "APIO needs the user's M2M token (option 'token'): APIO core accepts bearer "
                "tokens only, and logging in with a username and password (access and refresh "
                "tokens) is not available in this version", key="token", provider=spec.name)
        super().__init__(spec, config)
        self.prefix = config.get("path_prefix", DEFAULT_PREFIX)
        self._authorization = f"Bearer {token}"

    def authorize(self, request: WireRequest) -> WireRequest:
        return request.with_headers({"Authorization": self._authorization})

    def decode(self, reply: WireReply, op):
        if reply.status == 401:
            raise AuthenticationError("APIO refused the token (HTTP 401): an M2M token is "
                                      "invalid once regenerated (a password reset, a revoked "
                                      "account, a new token)")
        if reply.status == 404:
            raise ProviderError("the Music On Hold service is not assigned to that user "
                                "(APIO answered 404)", code="service_not_assigned",
                                category="not_found", vendor_code="404")
        if reply.status == 400:
            raise ProviderError(f"APIO refused the update (HTTP 400): {redact(reply.text[:200])}",
                                code="update_failed", category="invalid", vendor_code="400")
        return super().decode(reply, op)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedReply("the APIO reply is not a JSON object")
    return data

"""The APIO provider: GET/PUT of a user's music_on_hold service, sans-IO (plugin API 2).

APIO core accepts bearer tokens only (../shared/vendor-docs/apio-core/openapi.yaml:
``securitySchemes: BearerAuth``; auth.md). The session is declared here and run by the core
(single flight, renewal before expiry, one re-login on a 401): either the user's M2M token
(never expires: no request at all), or a login with username and password
(``POST /api/v01/auth/login`` -> an access token valid for minutes and a refresh token valid for
days), renewed with the refresh token (``GET /api/v01/auth/access_token``) before it expires.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Generator
from typing import Any

from telephony_core.errors import AuthenticationError, ConfigurationError, ProviderError
from telephony_core.redaction import redact
from telephony_core.wire import (
    HttpProvider,
    MalformedReply,
    Route,
    Token,
    WireReply,
    WireRequest,
)

from .translate import DEFAULT_PREFIX, from_apio, moh_path, to_apio

__all__ = ["ApioProvider"]

LOGIN, REFRESH = "/api/v01/auth/login", "/api/v01/auth/access_token"


class ApioProvider(HttpProvider):
    """Bearer authentication: the M2M token, or APIO core's login and refresh tokens."""

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
        self._m2m = config.secret("token")
        self._user, self._password = config.get("username"), config.secret("password")
        if not self._m2m and not (self._user and self._password):
            raise ConfigurationError(
                "APIO needs the user's M2M token (option 'token'), or 'username' and 'password' "
                "to log in to APIO core", key="token", provider=spec.name)
        super().__init__(spec, config)
        self.prefix = config.get("path_prefix", DEFAULT_PREFIX)

    # -- the session (run by the core) -------------------------------------------------------

    def login(self) -> Generator[WireRequest, WireReply, Token]:
        if self._m2m:  # used as it is: no login, never renewed
            return Token(self._m2m)
        reply = yield WireRequest("POST", LOGIN, json={"username": self._user,
                                                       "password": self._password})
        if reply.status in (401, 403):
            raise AuthenticationError(f"APIO core refused the username or password "
                                      f"(HTTP {reply.status})")
        data = _object(self.decode(reply, None))
        if "2fa_payload" in data:
            raise AuthenticationError(
                "APIO core asks this user for a second factor (2fa_payload), which an API "
                "client cannot give: use the user's M2M token (option 'token')")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationError("APIO core's login answered without an access_token")
        extra = tuple(v for v in (data.get("token"),) if isinstance(v, str) and v)
        return Token(access, expires_in=_lifetime(access),
                     refresh=refresh if isinstance(refresh, str) and refresh else None,
                     secrets=extra)

    def refresh(self, token: Token) -> Generator[WireRequest, WireReply, Token] | None:
        if self._m2m or not token.refresh:
            return None
        return self._refresh(token.refresh)

    def _refresh(self, refresh: str) -> Generator[WireRequest, WireReply, Token]:
        reply = yield WireRequest("GET", REFRESH, headers={"Authorization": f"Bearer {refresh}"})
        if reply.status in (401, 403):  # "expired or revoked, a new login should take place"
            raise AuthenticationError("APIO core refused the refresh token")
        data = _object(self.decode(reply, None))
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationError("APIO core's refresh answered without an access_token")
        # "A new refresh token is sent only when the refresh token is about to expire."
        renewed = data.get("refresh_token")
        return Token(access, expires_in=_lifetime(access),
                     refresh=renewed if isinstance(renewed, str) and renewed else refresh)

    def token_is_dead(self, reply: WireReply) -> bool:
        """A 401 on an access token: one new login and one re-send. An M2M token does not
        come back to life by logging in, so its 401 is an authentication error at once."""
        return reply.status == 401 and not self._m2m

    # -- replies -----------------------------------------------------------------------------

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


def _lifetime(jwt: str) -> float | None:
    """Seconds the access token has left, from its ``exp`` claim (read, not verified: the
    server verifies it); None when it is not a JWT with one (then a 401 renews it)."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return max(0.0, float(claims["exp"]) - time.time())
    except (IndexError, ValueError, KeyError, TypeError):
        return None

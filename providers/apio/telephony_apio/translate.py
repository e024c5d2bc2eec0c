"""Pure translation between canonical music-on-hold payloads and APIO's JSON (seed 004)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from telephony_core.results import MusicOnHold, MusicSource

__all__ = ["DEFAULT_PREFIX", "from_apio", "moh_path", "to_apio"]

_SELECTION_TO_APIO = {"custom": "Custom", "group": "Group"}


#: where the BroadWorks resources sit behind an APIO core (Netaxis' own UI, rockwelln/apio_pv_ui
#: src/utils.js: API_BASE_URL "/api/v01/p2"); a provisioning gateway reached directly serves them
#: at "/api/v1" (seed 004). Deployment-dependent, hence the ``path_prefix`` option.
DEFAULT_PREFIX = "/api/v01/p2"


def moh_path(scope: Mapping[str, str], prefix: str = DEFAULT_PREFIX) -> str:
    """The service's path; ``/users/`` (seed 004's PUT example says ``/user/``: a typo)."""
    tenant, group, user = (quote(scope[k], safe="") for k in ("tenant", "group", "user"))
    return (f"{prefix.rstrip('/')}/tenants/{tenant}/groups/{group}/users/{user}"
            "/services/music_on_hold/")


def _source_to_apio(source: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"messageSourceSelection": _SELECTION_TO_APIO[source["selection"]]}
    if "file" in source:
        audio: dict[str, Any] = {"name": "DELETE" if source["file"] is None else source["file"]}
        if source.get("media_type") and source["file"] is not None:
            audio["mediaType"] = source["media_type"]
        out["audioFile"] = audio
    return out


def to_apio(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The PUT body: only the fields the caller gave (every APIO field is optional)."""
    body: dict[str, Any] = {}
    if "active" in payload:
        body["isActive"] = payload["active"]
    if "source" in payload:
        body["source"] = _source_to_apio(payload["source"])
    if "use_internal_source" in payload:
        body["useAlternateSourceForInternalCalls"] = payload["use_internal_source"]
    if "internal_source" in payload:
        body["internalSource"] = _source_to_apio(payload["internal_source"])
    return body


def _source_from_apio(source: Mapping[str, Any] | None) -> MusicSource | None:
    if not source:
        return None
    audio = source.get("audioFile") or {}
    return MusicSource(str(source.get("messageSourceSelection", "")).lower(),
                       audio.get("name"), audio.get("mediaType"))


def from_apio(reply: Mapping[str, Any]) -> MusicOnHold:
    return MusicOnHold(reply.get("isActive"), _source_from_apio(reply.get("source")),
                       _source_from_apio(reply.get("internalSource")),
                       reply.get("useAlternateSourceForInternalCalls"), raw=dict(reply))

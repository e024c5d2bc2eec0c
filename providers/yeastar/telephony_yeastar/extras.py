"""What a Yeastar user expects beyond the catalogue, as documented provider extras:
``client.provider.list_extensions()`` and ``client.provider.download_recording(name)``.

They are not catalogue operations: the catalogue adds an operation only where two systems
support it, and no other provider here lists extensions or serves recordings yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from telephony_core.errors import PayloadError, PayloadProblem

__all__ = ["EXTENSION_STATES", "ExtensionInfo", "check_recording_name", "extension_info"]

#: query-extension-list.md's statuses -> a word an application can act on
EXTENSION_STATES = {"Registered": "idle", "Idle": "idle", "Ringing": "ringing", "Busy": "busy",
                    "Hold": "held", "Unavailable": "unregistered",
                    "Malfunction": "unavailable", "Fxsnoport": "unavailable"}
#: cdr.md's recording names: 20170914092747-1505352445.265-102-1000-Inbound.wav
_RECORDING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$")


@attrs.frozen
class ExtensionInfo:
    """One row of ``extensionlist/query``: ``status`` is the PBX's word, ``state`` one of
    idle, ringing, busy, held, unregistered, unavailable (``unknown`` for a word the guide does
    not list)."""

    number: str
    name: str | None
    status: str
    state: str
    type: str | None
    port: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


def extension_info(row: Mapping[str, Any]) -> ExtensionInfo:
    status = str(row.get("status") or "")
    # the guide's own sample writes one "unavailable" in lower case: compare without case
    state = {k.lower(): v for k, v in EXTENSION_STATES.items()}.get(status.lower(), "unknown")
    return ExtensionInfo(str(row.get("extnumber")), row.get("username") or None, status, state,
                         row.get("type") or None,
                         row.get("port") or None, raw=dict(row))


def check_recording_name(name: Any) -> str:
    """A recording file name as a NewCdr report gives it: refused before any traffic when it
    is not one (a path, an empty string, a non-string)."""
    if not isinstance(name, str) or not _RECORDING.match(name) or ".." in name:
        raise PayloadError([PayloadProblem(
            "$.recording", "expected the file name a NewCdr report gives in 'recording' (e.g. "
                           "20170914092747-1505352445.265-102-1000-Inbound.wav): letters, "
                           "digits, '.', '-', '_', '+', no path")],
            provider="yeastar", operation="download_recording")
    return name

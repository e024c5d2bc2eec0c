"""What the provider knows about calls, so that one call id serves every operation.

A Yeastar call through a trunk has two ids: the ``callid`` dial and the reports give, and the
trunk leg's own id (for an outbound call a different number: the guide's ringing.md has
``callid ...365`` with ``outboundid ...366``, keypress.md ``...315``/``...316``). Only the leg
id works with ``outbound/hangup``, ``outbound/transfer_*`` and ``outbound/query``, and only an
extension number works with hold, mute and monitor. :class:`CallMemory` keeps what this client
learnt from its own dials and the reports it parsed; :func:`match_outbound` picks a call's row
out of ``outbound/query``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from telephony_core.results import Event

__all__ = ["CallMemory", "match_outbound", "successor"]


def successor(call_id: str) -> str | None:
    """``1495771030.365`` -> ``1495771030.366`` (the outbound leg's id in the guide's samples)."""
    head, _, tail = call_id.rpartition(".")
    return f"{head}.{int(tail) + 1}" if head and tail.isdigit() else None


class CallMemory:
    """callid -> facts (``ext``: the first extension, ``tel``: the number, ``outbound_id``,
    ``internal``), the most recent 4096 calls. Thread-safe: parse_event runs in webhook
    threads while operations run in others."""

    def __init__(self, size: int = 4096):
        self._facts: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def remember(self, call_id: str, **facts: str | None) -> None:
        with self._lock:
            entry = self._facts.setdefault(call_id, {})
            entry.update({k: v for k, v in facts.items() if v})
            self._facts.move_to_end(call_id)
            while len(self._facts) > self._size:
                self._facts.popitem(last=False)

    def forget(self, call_id: str) -> None:
        """The call ended: its id must not lead to an extension's next call."""
        with self._lock:
            self._facts.pop(call_id, None)

    def facts(self, call_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._facts.get(call_id, {}))

    def learn_dial(self, call_id: str, payload: Mapping[str, Any]) -> None:
        """A dial or play_prompt this client made: its extension and number."""
        parties = [payload.get("caller"), payload.get("callee"), payload.get("to")]
        ext = next((p for p in parties if isinstance(p, str) and p.startswith("ext:")), None)
        tel = next((p for p in parties if isinstance(p, str) and p.startswith("tel:")), None)
        self.remember(call_id, ext=ext, tel=tel, internal="yes" if ext and not tel else None)

    def learn_event(self, event: Event) -> None:
        """A call report: its parties, the outbound leg's id, whether it is internal (two or
        more extensions and no trunk leg)."""
        if event.call_id and event.kind in ("call.hangup", "call.failed", "cdr"):
            self.forget(event.call_id)
            return
        if not event.call_id or not event.kind.startswith("call."):
            return
        ext = next((p for p in event.parties if p.startswith("ext:")), None)
        tel = next((p for p in event.parties if p.startswith("tel:")), None)
        trunk_leg = event.data.get("outbound_id") or event.data.get("inbound_id")
        internal = len(event.parties) > 1 and all(p.startswith("ext:") for p in event.parties)
        self.remember(event.call_id, ext=ext, tel=tel,
                      outbound_id=event.data.get("outbound_id"),
                      internal="yes" if internal and not trunk_leg else None)


def match_outbound(call_id: str, rows: list[dict[str, Any]],
                   known: Mapping[str, str]) -> dict[str, Any] | None:
    """The ``outbound/query`` row of call ``call_id``, matched in order by: the leg's own id
    (the application passed it); the leg id a report of the call gave; the one row with the
    extension and number this client dialled or a report named; the id one above the callid
    (the guide's samples), unless that row is to another number. None when
    nothing matches: acting on a guess could hang up someone else's call."""
    by_id = {str(r["outboundid"]): r for r in rows}
    for candidate in (call_id, known.get("outbound_id")):
        if candidate and candidate in by_id:
            return by_id[candidate]
    ext, tel = known.get("ext"), known.get("tel")
    if ext and tel:
        matching = [r for r in rows if f"ext:{r.get('from')}" == ext
                    and f"tel:{r.get('to')}" == tel]
        if len(matching) == 1:
            return matching[0]
    row = by_id.get(successor(call_id) or "")
    if row is not None and (not tel or f"tel:{row.get('to')}" == tel):
        return row  # the extension may have changed (a transfer); the number does not
    return None

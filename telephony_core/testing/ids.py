"""The Ids contract of the call model (docs/conformance.md, "Ids"), checked on what providers
return: a ``call_id`` is the vendor's id as it is, never ``call:ID``.

Payloads name a call ``call:ID``; results and events carry the bare id, so an application
written once writes ``client.hangup(f"call:{ref.call_id}")`` and matches a webhook with
``event.call_id == ref.call_id`` on every provider. A provider that returned ``call:ID`` would
make that application send ``call:call:ID``; the outcome and fault properties (through
``check_result``) and the documented exchanges check every id so a provider cannot drift.
"""

from __future__ import annotations

from typing import Any

from ..results import CallInfo, CallRef

__all__ = ["IDS_CONTRACT", "call_id_problem", "result_ids_problem"]

#: what the Ids contract says (docs/conformance.md, "Ids"), quoted by every call_id check
IDS_CONTRACT = ("docs/conformance.md, 'Ids': a call_id is the vendor's id as it is, without "
                "the 'call:' prefix payloads use; an application acts on the call with "
                "f\"call:{ref.call_id}\", which would otherwise send 'call:call:...'")


def call_id_problem(where: str, call_id: object, *, nullable: bool) -> str | None:
    """Why ``call_id`` (of a CallRef, CallInfo or Event, named by ``where``) breaks the Ids
    contract, or None. ``nullable``: None is allowed (a CallRef of a provider that only
    acknowledges, an Event about no call); a CallInfo always names its call."""
    if call_id is None:
        return None if nullable else (
            f"{where}.call_id is None: a listed call always has an id (return the vendor's "
            "id as it is)")
    if not isinstance(call_id, str):
        allowed = "a string or None" if nullable else "a string"
        return (f"{where}.call_id is {type(call_id).__name__} {call_id!r}: expected {allowed} "
                f"({IDS_CONTRACT})")
    if not call_id:
        return (f"{where}.call_id is an empty string: give the vendor's id, or None when there "
                "is none" if nullable else f"{where}.call_id is an empty string: give the "
                "vendor's id")
    if call_id.startswith("call:"):
        return (f"{where}.call_id is {call_id!r}: return {call_id[5:]!r} ({IDS_CONTRACT})")
    return None


def result_ids_problem(result: Any) -> str | None:
    """The first call_id of ``result`` (a CallRef, or a CallInfo or a list of them) that breaks
    the Ids contract."""
    items = result if isinstance(result, list) else [result]
    for index, item in enumerate(items):
        if isinstance(item, CallRef | CallInfo):
            where = type(item).__name__ + (f"[{index}]" if isinstance(result, list) else "")
            problem = call_id_problem(where, item.call_id, nullable=isinstance(item, CallRef))
            if problem:
                return problem
    return None

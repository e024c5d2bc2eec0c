"""The operation catalogue: capabilities, operations, their kinds and result types.

This is the contract applications code against. Operation *kinds* decide retries (not the HTTP
method a provider happens to use): a ``dial`` is never re-sent once it may have left.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from . import results
from .errors import UnknownOperation

__all__ = ["OPERATIONS", "Capability", "Kind", "Operation", "operation"]


class Capability(enum.StrEnum):
    DIAL = "dial"
    TRANSFER = "transfer"
    HOLD = "hold"
    MONITOR = "monitor"
    PLAY_PROMPT = "play_prompt"
    MUSIC_ON_HOLD = "music_on_hold"
    SMS = "sms"
    CALL_CONTROL = "call_control"
    EVENTS = "events"


#: Operation names grouped by what they return (for the typed overloads of ``invoke``).
CallRefOperation = Literal["dial", "transfer", "play_prompt"]
AckOperation = Literal["hold", "unhold", "mute", "unmute", "hangup", "monitor", "accept_call",
                       "reject_call"]
MusicOnHoldOperation = Literal["get_music_on_hold", "set_music_on_hold"]


class Kind(enum.StrEnum):
    """How safe an operation is to repeat; decides the retry policy."""

    READ = "read"
    IDEMPOTENT = "idempotent"
    NON_IDEMPOTENT = "non-idempotent"

    @property
    def retryable(self) -> bool:
        return self is not Kind.NON_IDEMPOTENT


@attrs.frozen
class Operation:
    name: str
    capability: Capability
    kind: Kind
    result: type
    summary: str
    returns_list: bool = False

    @property
    def schema(self) -> dict[str, Any]:
        """The canonical payload schema, bundled (a fresh copy)."""
        from . import schemas  # jsonschema loads only when a schema is needed

        return schemas.load(self.name)


def _ops(*rows: tuple) -> Mapping[str, Operation]:
    return {row[0]: Operation(*row) for row in rows}


C, K, R = Capability, Kind, results
OPERATIONS: Mapping[str, Operation] = _ops(
    ("dial", C.DIAL, K.NON_IDEMPOTENT, R.CallRef, "ring the caller, then connect it to the callee"),
    ("transfer", C.TRANSFER, K.NON_IDEMPOTENT, R.CallRef, "move a live call elsewhere (blind)"),
    ("hold", C.HOLD, K.IDEMPOTENT, R.Ack, "put a call on hold"),
    ("unhold", C.HOLD, K.IDEMPOTENT, R.Ack, "take a call off hold"),
    ("monitor", C.MONITOR, K.NON_IDEMPOTENT, R.Ack, "listen to, whisper into or barge into a call"),
    ("play_prompt", C.PLAY_PROMPT, K.NON_IDEMPOTENT, R.CallRef, "call and play prompts"),
    ("get_music_on_hold", C.MUSIC_ON_HOLD, K.READ, R.MusicOnHold, "read music-on-hold settings"),
    ("set_music_on_hold", C.MUSIC_ON_HOLD, K.IDEMPOTENT, R.MusicOnHold, "change music on hold"),
    ("send_sms", C.SMS, K.NON_IDEMPOTENT, R.SmsReceipt, "send a text message"),
    ("hangup", C.CALL_CONTROL, K.IDEMPOTENT, R.Ack, "end a call"),
    ("mute", C.CALL_CONTROL, K.IDEMPOTENT, R.Ack, "mute a party"),
    ("unmute", C.CALL_CONTROL, K.IDEMPOTENT, R.Ack, "unmute a party"),
    ("list_calls", C.CALL_CONTROL, K.READ, R.CallInfo, "list live calls", True),
    ("accept_call", C.CALL_CONTROL, K.IDEMPOTENT, R.Ack, "let an offered inbound call proceed"),
    ("reject_call", C.CALL_CONTROL, K.IDEMPOTENT, R.Ack, "refuse an offered inbound call"),
)
del C, K, R


def operation(name: str) -> Operation:
    """Look an operation up by name, or raise :class:`UnknownOperation` listing the real ones."""
    try:
        return OPERATIONS[name]
    except (KeyError, TypeError):
        raise UnknownOperation(str(name), OPERATIONS) from None


def operations_of(capability: Capability | str) -> tuple[str, ...]:
    cap = Capability(capability)
    return tuple(name for name, op in OPERATIONS.items() if op.capability is cap)

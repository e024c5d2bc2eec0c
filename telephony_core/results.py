"""Immutable result and event classes that every provider returns.

Each keeps the provider's own reply in ``raw`` for the rare field the canonical shape does not
carry. ``raw`` is left out of ``repr`` and equality: vendor replies can hold secrets (Yeastar's
``extension/query`` returns SIP passwords) and are noise when comparing results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

__all__ = [
    "EVENT_KINDS",
    "Ack",
    "CallInfo",
    "CallRef",
    "CallState",
    "Direction",
    "Event",
    "EventKind",
    "Leg",
    "MonitorMode",
    "MusicOnHold",
    "MusicSource",
    "SmsReceipt",
]

CallState = Literal["ringing", "talking", "held", "waiting", "unknown"]
#: Which way a call goes, as list_calls reports it.
Direction = Literal["inbound", "outbound", "internal"]
#: Which leg of a call an id names (for providers whose ids do not say).
Leg = Literal["inbound", "outbound"]
#: How a supervisor joins a call.
MonitorMode = Literal["listen", "whisper", "barge"]
#: The event kinds the core knows; providers may add their own, so Event.kind stays a str.
EventKind = Literal["call.offered", "call.ringing", "call.answered", "call.failed", "call.hangup",
                    "call.transferred", "call.dtmf", "prompt.finished", "cdr",
                    "extension.status", "sms.status", "system"]
CALL_STATES: tuple[str, ...] = ("ringing", "talking", "held", "waiting", "unknown")

EVENT_KINDS: tuple[str, ...] = (
    "call.offered", "call.ringing", "call.answered", "call.failed", "call.hangup",
    "call.transferred", "call.dtmf", "prompt.finished", "cdr", "extension.status",
    "sms.status", "system",
)


#: the time a result was made (``datetime.now(UTC)`` as a C-level partial: every CallRef
#: calls it, and a Python function here would add a frame to every dial)
_now: Callable[[], datetime] = functools.partial(datetime.now, UTC)


def _raw_field():
    return attrs.field(default=None, repr=False, eq=False, kw_only=True)


@attrs.frozen
class CallRef:
    """A call the provider accepted to place. ``call_id`` is None for ack-only providers."""

    provider: str
    call_id: str | None
    accepted_at: datetime = attrs.field(factory=_now)
    raw: Any = _raw_field()


@attrs.frozen
class Ack:
    """The provider accepted a command that has no other result."""

    provider: str
    raw: Any = _raw_field()


@attrs.frozen
class CallInfo:
    """One live call as ``list_calls`` sees it."""

    call_id: str
    direction: Direction | str | None
    caller: str | None
    callee: str | None
    state: CallState = attrs.field(validator=attrs.validators.in_(CALL_STATES))
    trunk: str | None = None
    raw: Any = _raw_field()


@attrs.frozen
class SmsReceipt:
    provider: str
    message_id: str | None
    status: str
    raw: Any = _raw_field()


@attrs.frozen
class MusicSource:
    """Where music on hold comes from: a ``custom`` file, the ``group``'s, or the ``default``."""

    selection: str
    file: str | None = None
    media_type: str | None = None

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"selection": self.selection, "file": self.file}
        if self.media_type is not None:
            out["media_type"] = self.media_type
        return out


@attrs.frozen
class MusicOnHold:
    active: bool | None
    source: MusicSource | None = None
    internal_source: MusicSource | None = None
    use_internal_source: bool | None = None
    raw: Any = _raw_field()


def _refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"{type(self).__name__} is immutable: events are values, build a new one "
                    "with attrs.evolve")


class FrozenDict(dict[str, Any]):
    """A read-only, hashable dict: ``Event.data``. Still a dict, so ``json.dumps`` and
    comparisons with plain dicts work."""

    def __setitem__(self, key: str, value: Any) -> None:
        _refuse(self)

    def __delitem__(self, key: str) -> None:
        _refuse(self)

    def __ior__(self, other: Any) -> FrozenDict:  # type: ignore[override,misc]
        return _refuse(self)  # type: ignore[no-any-return]

    def clear(self) -> None:
        _refuse(self)

    def pop(self, *args: Any) -> Any:  # type: ignore[override]
        return _refuse(self)

    def popitem(self) -> tuple[str, Any]:
        return _refuse(self)  # type: ignore[no-any-return]

    def setdefault(self, *args: Any) -> Any:  # type: ignore[override]
        return _refuse(self)

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _refuse(self)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenDict, (dict(self),)

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A read-only, hashable list, for lists inside ``Event.data``."""

    def __setitem__(self, index: Any, value: Any) -> None:  # type: ignore[override]
        _refuse(self)

    def __delitem__(self, index: Any) -> None:  # type: ignore[override]
        _refuse(self)

    def __iadd__(self, other: Any) -> FrozenList:  # type: ignore[override,misc]
        return _refuse(self)  # type: ignore[no-any-return]

    def __imul__(self, other: Any) -> FrozenList:  # type: ignore[override,misc]
        return _refuse(self)  # type: ignore[no-any-return]

    def append(self, value: Any) -> None:
        _refuse(self)

    def extend(self, values: Any) -> None:
        _refuse(self)

    def insert(self, index: Any, value: Any) -> None:
        _refuse(self)

    def pop(self, index: Any = -1) -> Any:
        return _refuse(self)

    def remove(self, value: Any) -> None:
        _refuse(self)

    def clear(self) -> None:
        _refuse(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        _refuse(self)

    def reverse(self) -> None:
        _refuse(self)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenList, (list(self),)

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenList:
        return self


_ATOMS = frozenset({str, int, float, bool, type(None), FrozenDict, FrozenList})


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dicts and lists become their read-only, hashable forms."""
    if type(value) in _ATOMS:  # the common case, first and cheap
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    return value


_EMPTY = FrozenDict()


def _freeze_mapping(value: Mapping[str, Any] | None) -> FrozenDict:
    return freeze(value) if value else _EMPTY


@attrs.frozen
class Event:
    """A canonical event parsed from a provider's webhook or report.

    ``parties`` are canonical addresses in the order the provider gave them; ``reference`` is
    the application's correlation string echoed back by providers that support one.
    """

    kind: str = attrs.field(validator=attrs.validators.in_(EVENT_KINDS))
    provider: str
    call_id: str | None = None
    parties: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    at: datetime | None = None
    reference: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_freeze_mapping)
    raw: Any = _raw_field()

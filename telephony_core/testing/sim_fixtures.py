"""What the conformance suite needs to know about the built-in ``sim`` provider.

Its default set-up (``telephony_core/sim/default.toml``) gives the addresses that exist; the
samples put the model in the state an operation needs. ``telephony conformance sim`` and the
core's tests use this class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .base import ProviderFixtures, Session

__all__ = ["SimFixtures", "clear_calls", "offered", "talking"]


def clear_calls(pbx: Any) -> None:
    """End every call of the model, so that a sample's preparation can run again and again
    (the outcomes property prepares before each example)."""
    for call_id in list(getattr(pbx, "calls", {}) or {}):
        try:
            pbx.hangup(f"call:{call_id}")
        except Exception:  # an ended or offered call: nothing to hang up
            continue


def talking(session: Session) -> dict[str, Any]:
    """ext:1000 talking to ext:1001, for the operations that need a live call."""
    clear_calls(session.pbx)
    session.client.dial(caller="ext:1000", callee="ext:1001", auto_answer=True)
    session.pbx.answer("ext:1001")
    return {"call": "ext:1000"}


def offered(session: Session) -> dict[str, Any]:
    """An external caller ringing in and offered to the application (accept/reject it)."""
    call = session.pbx.incoming("5551234", "41000")
    return {"call": f"call:{call.id}"}


class SimFixtures(ProviderFixtures):
    provider = "sim"
    known_addresses: ClassVar[tuple[str, ...]] = (
        "ext:1000", "ext:1001", "ext:1002", "ext:1003", "ext:1004", "ext:1005", "tel:41000",
        "ivr:6500", "queue:6700", "ringgroup:6200", "group:extGroup-1")
    samples: ClassVar[Mapping[str, Any]] = {
        "dial": {"caller": "ext:1000", "callee": "tel:41000"},
        "hold": talking, "unhold": talking, "mute": talking, "unmute": talking,
        "hangup": talking, "transfer": lambda s: {**talking(s), "to": "ext:1002"},
        "monitor": lambda s: {"supervisor": "ext:1005", "mode": "listen", **talking(s)},
        "list_calls": {},
        "get_music_on_hold": {"scope": {"tenant": "foo", "group": "foogroup", "user": "foouser"}},
        "send_sms": {"to": "tel:41000", "text": "hello", "sender": "GSM-trunk"},
        "accept_call": offered, "reject_call": offered,
    }

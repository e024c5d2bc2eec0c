"""What the conformance suite needs to know about the built-in ``sim`` provider.

Its default set-up (``telephony_core/sim/default.toml``) gives the addresses that exist; the
samples put the model in the state an operation needs. ``telephony conformance sim`` and the
core's tests use this class.
"""

from __future__ import annotations

from typing import Any

from .base import ProviderFixtures, Session

__all__ = ["SimFixtures", "talking"]


def talking(session: Session) -> dict[str, Any]:
    """ext:1000 talking to ext:1001, for the operations that need a live call."""
    session.client.dial(caller="ext:1000", callee="ext:1001", auto_answer=True)
    session.pbx.answer("ext:1001")
    return {"call": "ext:1000"}


class SimFixtures(ProviderFixtures):
    provider = "sim"
    known_addresses = ("ext:1000", "ext:1001", "ext:1002", "ext:1003", "ext:1004", "ext:1005",
                       "tel:41000", "ivr:6500", "queue:6700", "ringgroup:6200",
                       "group:extGroup-1")
    samples = {
        "dial": {"caller": "ext:1000", "callee": "tel:41000"},
        "hold": talking, "unhold": talking, "mute": talking, "unmute": talking,
        "hangup": talking, "transfer": lambda s: {**talking(s), "to": "ext:1002"},
        "monitor": lambda s: {"supervisor": "ext:1005", "mode": "listen", **talking(s)},
        "list_calls": {},
        "get_music_on_hold": {"scope": {"tenant": "foo", "group": "foogroup", "user": "foouser"}},
        "send_sms": {"to": "tel:41000", "text": "hello", "sender": "GSM-trunk"},
    }

"""The built-in simulator runs the conformance suite (faults do not apply: it has no wire)."""

from __future__ import annotations

from typing import Any

from telephony_core.testing import ProviderConformance


def talking(session: Any) -> dict[str, Any]:
    """ext:1000 talking to ext:1001, for the operations that need a live call."""
    session.client.dial(caller="ext:1000", callee="ext:1001", auto_answer=True)
    session.pbx.answer("ext:1001")
    return {"call": "ext:1000"}


class TestSimConformance(ProviderConformance):
    provider = "sim"
    #: the default set-up (telephony_core/sim/default.toml)
    known_addresses = ("ext:1000", "ext:1001", "ext:1002", "ext:1003", "ext:1004", "ext:1005",
                       "tel:41000", "ivr:6500", "queue:6700", "ringgroup:6200",
                       "group:extGroup-1")
    samples = {
        "dial": {"caller": "ext:1000", "callee": "tel:41000"},
        "hold": talking, "mute": talking, "hangup": talking,
        "list_calls": {},
        "get_music_on_hold": {"scope": {"tenant": "foo", "group": "foogroup", "user": "foouser"}},
        "send_sms": {"to": "tel:41000", "text": "hello", "sender": "GSM-trunk"},
    }

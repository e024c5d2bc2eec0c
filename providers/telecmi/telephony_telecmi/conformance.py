"""What the conformance suite needs to know about telecmi: samples that succeed on a fresh
emulator, so fault recovery is proven. ``telephony conformance telecmi`` finds this module."""

from __future__ import annotations

from typing import Any

from telephony_core.testing import ProviderFixtures


def live_call(session: Any) -> dict[str, Any]:
    """A bridged call, both numbers answered: what hold and unhold act on (by its cmiuuid)."""
    session.client.dial(caller="tel:41000", callee="tel:41001", caller_id="5551000")
    session.pbx.answer("tel:41000")
    session.pbx.answer("tel:41001")
    newest = session.pbx.list_calls()[-1]
    return {"call": f"call:{newest.id}"}


class Fixtures(ProviderFixtures):
    provider = "telecmi"
    samples = {"hold": live_call, "unhold": live_call, "hangup": live_call,
               "dial": {"caller": "tel:41000", "callee": "tel:41001", "caller_id": "5551000"},
               "play_prompt": {"to": "tel:41000", "prompts": ["hello111"],
                               "caller_id": "5551000"}}

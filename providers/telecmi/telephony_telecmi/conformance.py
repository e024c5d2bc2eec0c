"""What the conformance suite needs to know about telecmi: samples that succeed on a fresh
emulator, so fault recovery is proven. ``telephony conformance telecmi`` finds this module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telephony_core.testing import ProviderFixtures


def live_call(session: Any) -> dict[str, Any]:
    """A bridged call, both numbers answered: what hold and unhold act on (by its cmiuuid)."""
    session.client.dial(caller="tel:41000", callee="tel:41001", caller_id="5551000")
    session.pbx.answer("tel:41000")
    session.pbx.answer("tel:41001")
    newest = session.pbx.list_calls()[-1]
    return {"call": f"call:{newest.id}"}


def _documented_call(session: Any, exchange: Any) -> dict[str, Any]:
    """A bridged, answered call standing for the sample's: its documented cmiuid -> the live
    id (leg a's cmiuuid is the model's call id)."""
    pbx = session.pbx
    call = pbx.dial("tel:19170000001", "tel:440000000000", caller_id="19170000000")
    pbx.answer("tel:19170000001")
    pbx.answer("tel:440000000000")
    return {exchange.wire[0]["request"]["json"]["cmiuid"]: call.id}


#: sample name (its start) -> substitutions (after preparing the model when a call is needed)
SUBSTITUTIONS: tuple[tuple[str, Mapping[Any, Any]], ...] = (
    ("make-call 420", {"json.secret": "not-the-secret"}),
    ("make-call 404", {"welcome_11112.wav": "nosuch.wav"}),
    ("make-call 502", {"json.pcmo": []}),
    ("make-call 422", {"json.from": None}),
    ("hold 404 naming the app id or secret", {"json.secret": "not-the-secret"}),
)
LIVE_CALL = ("hold, ", "unhold, ", "hangup, ", "hold 404 naming the app id")


class Fixtures(ProviderFixtures):
    provider = "telecmi"
    documented_emulator_options = {"appid": 2222226, "password": "xxxx-xxxx-xxxx-xxxx"}

    def prepare_documented(self, session: Any, exchange: Any) -> Mapping[Any, Any] | None:
        subs: dict[Any, Any] = {}
        if exchange.name.startswith(LIVE_CALL):
            subs.update(_documented_call(session, exchange))
        for start, more in SUBSTITUTIONS:
            if exchange.name.startswith(start):
                subs.update(more)
        return subs
    samples = {"hold": live_call, "unhold": live_call, "hangup": live_call,
               "dial": {"caller": "tel:41000", "callee": "tel:41001", "caller_id": "5551000"},
               "play_prompt": {"to": "tel:41000", "prompts": ["hello111"],
                               "caller_id": "5551000"}}

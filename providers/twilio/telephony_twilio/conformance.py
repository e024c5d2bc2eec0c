"""What the conformance suite needs to know about twilio: numbers that exist, and samples that
succeed on a fresh emulator. ``telephony conformance twilio`` finds this module.

The client runs in conference mode (``conference=true``), so that dial's calls can be held,
muted and monitored: the conference-backed operations are then exercised like the others.
"""

from __future__ import annotations

from typing import Any

from telephony_core.testing import ProviderFixtures

CALLER, CALLEE, OTHER = "tel:+14155550100", "tel:+14155550101", "tel:+14155550102"
SUPERVISOR = "sip:1005@pbx.example.com"  # the model's supervisor extension, over SIP


def live_call(session: Any) -> dict[str, Any]:
    """A conference-backed call, both parties answered."""
    ref = session.client.dial(caller=CALLER, callee=CALLEE)
    session.pbx.answer(CALLER)
    session.pbx.answer(CALLEE)
    return {"call": ref.call_id}


def transfer_sample(session: Any) -> dict[str, Any]:
    return {**live_call(session), "to": OTHER}


def monitor_sample(session: Any) -> dict[str, Any]:
    return {**live_call(session), "supervisor": SUPERVISOR, "mode": "listen"}


class Fixtures(ProviderFixtures):
    provider = "twilio"
    client_options = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2,
                      "conference": True}
    known_addresses = (CALLER, CALLEE, OTHER, SUPERVISOR)
    samples = {
        "dial": {"caller": CALLER, "callee": CALLEE},
        "play_prompt": {"to": OTHER, "prompts": ["https://media.example.com/hello.mp3"]},
        "send_sms": {"to": OTHER, "text": "hello from the conformance suite"},
        "list_calls": {},
        "hangup": live_call, "hold": live_call, "unhold": live_call, "mute": live_call,
        "unmute": live_call, "transfer": transfer_sample, "monitor": monitor_sample,
    }

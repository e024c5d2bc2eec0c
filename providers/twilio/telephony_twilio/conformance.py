"""What the conformance suite needs to know about twilio: numbers that exist, and samples that
succeed on a fresh emulator. ``telephony conformance twilio`` finds this module.

The client runs in conference mode (``conference=true``), so that dial's calls can be held,
muted and monitored: the conference-backed operations are then exercised like the others.
"""

from __future__ import annotations

import base64
import contextvars
from collections.abc import Mapping
from typing import Any

from telephony_core.testing import ProviderFixtures

#: Operations left out of the model-equivalence property, and why: Twilio holds, mutes and
#: monitors conference participants only, while the simulator does it to any talking call. A
#: call placed by play_prompt (never in a conference) is held by the simulator and refused by
#: Twilio: a real difference of capability, not a defect. These operations are still checked
#: by every other property (validation, outcomes, faults) and by the package's own tests,
#: which compare their effect on the model call by call.
NOT_EQUIVALENT = frozenset({"hold", "unhold", "mute", "unmute", "monitor"})
_in_equivalence: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "twilio_equivalence", default=False)

CALLER, CALLEE, OTHER = "tel:+14155550100", "tel:+14155550101", "tel:+14155550102"
SUPERVISOR = "sip:1005@pbx.example.com"  # the model's supervisor extension, over SIP


def live_call(session: Any) -> dict[str, Any]:
    """A conference-backed call, both parties answered."""
    ref = session.client.dial(caller=CALLER, callee=CALLEE)
    session.pbx.answer(CALLER)
    session.pbx.answer(CALLEE)
    return {"call": f"call:{ref.call_id}"}


def transfer_sample(session: Any) -> dict[str, Any]:
    return {**live_call(session), "to": OTHER}


def monitor_sample(session: Any) -> dict[str, Any]:
    return {**live_call(session), "supervisor": SUPERVISOR, "mode": "listen"}


class Fixtures(ProviderFixtures):
    provider = "twilio"
    client_options = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2,
                      "conference": True}
    known_addresses = (CALLER, CALLEE, OTHER, SUPERVISOR)

    #: the documented samples' account, and the number their messages come from, exist in the
    #: emulator that answers them
    documented_emulator_options = {"account_sid": "AC" + "a" * 32,
                                   "numbers": ("+15017122661",)}

    def prepare_documented(self, session: Any, exchange: Any) -> Mapping[Any, Any] | None:
        """The emulator's Basic credentials for ``<any>``, and the live call (and conference)
        a sample's documented SIDs stand for."""
        app = session.app
        basic = base64.b64encode(f"{app.account}:{app.auth_token}".encode()).decode()
        subs: dict[Any, Any] = {"headers.Authorization": f"Basic {basic}"}
        documented_call = "CA" + "a" * 32
        if (exchange.error or {}).get("type") == "AuthenticationError":  # a wrong Auth Token
            wrong = base64.b64encode(f"{app.account}:not-the-token".encode()).decode()
            subs["headers.Authorization"] = f"Basic {wrong}"
        elif exchange.operation == "hangup" and exchange.error is None:
            ref = session.client.dial(caller=CALLER, callee=CALLEE)
            subs[documented_call] = ref.call_id.split(":")[0]
        elif exchange.operation == "hold":
            from telephony_core import connect

            with connect(app.connect_url(session.server.url), conference=True) as client:
                ref = client.dial(caller=CALLER, callee=CALLEE)
            session.pbx.answer(CALLER)
            session.pbx.answer(CALLEE)
            sid, name = ref.call_id.split(":")
            subs.update({documented_call: sid, "tc0123456789abcdef01234567": name,
                         "CF" + "a" * 32: app.conferences[name]["sid"]})
        return subs

    @property
    def vendor_spec(self) -> str:
        """Twilio's published OpenAPI description with the corrections of
        telephony_twilio.vendor_spec (its own contradictions; the error body it omits)."""
        from .vendor_spec import corrected_path

        return corrected_path()
    samples = {
        "dial": {"caller": CALLER, "callee": CALLEE},
        "play_prompt": {"to": OTHER, "prompts": ["https://media.example.com/hello.mp3"]},
        "send_sms": {"to": OTHER, "text": "hello from the conformance suite"},
        "list_calls": {},
        "hangup": live_call, "hold": live_call, "unhold": live_call, "mute": live_call,
        "unmute": live_call, "transfer": transfer_sample, "monitor": monitor_sample,
    }

    @classmethod
    def operations_under_test(cls) -> list[str]:
        ops = super().operations_under_test()
        return [op for op in ops if op not in NOT_EQUIVALENT] if _in_equivalence.get() else ops

    def test_model_equivalence(self, spec: Any) -> None:
        """The kit's equivalence property without NOT_EQUIVALENT (see there why)."""
        token = _in_equivalence.set(True)
        try:
            super().test_model_equivalence(spec)  # type: ignore[misc]
        finally:
            _in_equivalence.reset(token)

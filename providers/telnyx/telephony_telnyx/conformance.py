"""What the conformance suite needs to know about telnyx: addresses that exist in the emulator's
default set-up, and samples that succeed on a fresh emulator (so fault recovery is proven).
``telephony conformance telnyx`` finds this module."""

from __future__ import annotations

from typing import Any

from telephony_core.testing import ProviderFixtures


def live_call(session: Any) -> dict[str, Any]:
    """A caller leg placed with dial and answered: what hangup and transfer act on."""
    ref = session.client.dial(caller="tel:+41000", callee="tel:+41001", caller_id="+15550100")
    session.pbx.answer("tel:+41000")
    return {"call": ref.call_id}


def transfer_sample(session: Any) -> dict[str, Any]:
    return {**live_call(session), "to": "tel:+41002"}


def monitor_sample(session: Any) -> dict[str, Any]:
    """An answered play_prompt call (talking in the model), supervised by extension 1005 (its
    SIP phone), whose monitor mode allows every role."""
    ref = session.client.play_prompt(to="tel:+41000", prompts=["hello111"],
                                     caller_id="+15550100")
    session.pbx.answer("tel:+41000")
    return {"supervisor": "sip:1005@sip.telnyx.com", "call": ref.call_id, "mode": "listen"}


class Fixtures(ProviderFixtures):
    provider = "telnyx"
    known_addresses = ("tel:+41000", "tel:+41001", "tel:+41002", "sip:1001@sip.telnyx.com",
                       "sip:1005@sip.telnyx.com")
    known_values = {"caller_id": ("+15550100",), "prompts": (["hello111"],
                                                              ["https://example.com/a.wav"])}
    client_options = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2,
                      "caller_id": "+15550100", "sms_from": "+15550100"}
    samples = {
        "dial": {"caller": "tel:+41000", "callee": "tel:+41001", "caller_id": "+15550100"},
        "play_prompt": {"to": "tel:+41000", "prompts": ["hello111"], "caller_id": "+15550100"},
        "hangup": live_call,
        "transfer": transfer_sample,
        "monitor": monitor_sample,
        "list_calls": {},
        "send_sms": {"to": "tel:+41000", "text": "hello", "sender": "+15550100"},
    }
    #: Telnyx's published OpenAPI 3.1 spec (team-telnyx/openapi, openapi/spec3.json)
    vendor_spec = "../shared/specs/telnyx/spec3.json"
    #: the documented samples' account: the docs' placeholder key and connection id
    documented_emulator_options = {"password": "YOUR_API_KEY",
                                   "connection_id": "7267xxxxxxxxxxxxxx"}

    def prepare_documented(self, session: Any, exchange: Any) -> None:
        """The call a documented command names exists (answered), or has ended when the sample
        is Telnyx's "Call has already ended" reply."""
        for step in exchange.wire:
            path = str(step["request"].get("path", ""))
            if path.startswith("/v2/calls/"):
                ccid = path.split("/")[3]
                errors = (step["reply"].get("json") or {}).get("errors") or [{}]
                ended = errors[0].get("code") == "90018"
                if ccid not in session.app.legs:
                    session.app.adopt(ccid, ended=ended)

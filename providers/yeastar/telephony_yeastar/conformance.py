"""What the conformance suite needs to know about yeastar: samples that succeed on a fresh
emulator, so fault recovery is proven. ``telephony conformance yeastar`` finds this module."""

from telephony_core.testing import ProviderFixtures
from telephony_core.testing.sim_fixtures import talking


def offered(session) -> dict:
    """An inbound call being offered (the 10-second accept/refuse window)."""
    return {"call": f"call:{session.pbx.incoming('5559999', '5551000').id}"}


def inbound(session) -> dict:
    """An accepted inbound call, ringing ext:1000: what a transfer moves."""
    call = session.pbx.incoming("5559998", "5551000")
    session.pbx.accept_call(f"call:{call.id}")
    return {"call": f"call:{call.id}", "leg": "inbound", "to": "ext:1002"}


class Fixtures(ProviderFixtures):
    provider = "yeastar"
    samples = {
        "dial": {"caller": "ext:1000", "callee": "tel:41000"},
        "hold": talking, "unhold": talking, "mute": talking, "unmute": talking,
        "hangup": talking,
        "monitor": lambda s: {"supervisor": "ext:1005", "mode": "listen", **talking(s)},
        "play_prompt": {"to": "tel:41000", "prompts": ["hello111"]},
        "send_sms": {"to": "tel:41000", "text": "hello", "sender": "GSM-trunk"},
        "list_calls": {},
        "accept_call": offered, "reject_call": offered, "transfer": inbound,
    }

"""What the conformance suite needs to know about yeastar: samples that succeed on a fresh
emulator, so fault recovery is proven, and the model state the guide's documented exchanges
assume. ``telephony conformance yeastar`` finds this module."""

from collections.abc import Mapping
from typing import Any

from telephony_core.testing import ProviderFixtures
from telephony_core.testing.sim_fixtures import talking

#: the documented ids of calls the prepared model must hold, by what they name
#: (tests/documented/*.json): outbound leg ids, inbound call ids, an offered inbound call
OUTBOUND_IDS = ("1495705009.316", "1495700976.276", "1495705264.322")
INBOUND_IDS = ("1495698433.203", "1495698510.206", "1495698591.209", "1495700191.223",
               "1495698843.215")
OFFERED_IDS = ("1495703883.314",)
#: operations whose samples need an idle PBX (a dial from a busy extension is refused)
IDLE = ("dial", "play_prompt", "send_sms", "heartbeat", "list_extensions")


def offered(session) -> dict:
    """An inbound call being offered (the 10-second accept/refuse window)."""
    return {"call": f"call:{session.pbx.incoming('5559999', '5551000').id}"}


def inbound(session) -> dict:
    """An accepted inbound call, ringing ext:1000: what a transfer moves."""
    call = session.pbx.incoming("5559998", "5551000")
    session.pbx.accept_call(f"call:{call.id}")
    return {"call": f"call:{call.id}", "leg": "inbound", "to": "ext:1002"}


def prepare_documented(session, exchange) -> Mapping[str, Any]:
    """The emulator's model in the state the guide's sample assumes, and the documented values
    mapped onto the model's: an answered outbound call ext 1002 -> 41000 (its leg id for the
    documented outboundids), an answered inbound call to ext 1000, an offered inbound call; a
    recorded call for a recording download. The queue/ring-group samples' fromext 1000000 is
    not an extension of the default set-up: mapped to 1000. A sample whose login is refused
    gets an emulator with another password."""
    app, pbx = session.app, session.pbx
    subs: dict[str, Any] = {"1000000": "1000"}
    wire = exchange.wire
    if wire and wire[0]["reply"].get("json", {}).get("status") != "Success":
        app.password = "not-the-documented-password"
        return subs
    if exchange.operation == "send_sms" and wire[-1]["reply"].get("json", {}).get("action"):
        app.sms_result = "reply"  # the guide's sample: the reply carries the result
        app.sms_delivery = "failed" if wire[-1]["reply"]["json"].get("status") == "Failed" \
            else "sent"
    if exchange.operation == "download_recording":
        pbx.dial("ext:1000", "ext:1001", auto_answer=True)
        pbx.answer("ext:1001")
        pbx.hangup("ext:1000")
        subs[exchange.payload["recording"]] = next(iter(app.recordings))
        return subs
    if exchange.operation in IDLE or exchange.error is not None:
        return subs
    outbound = pbx.dial("ext:1002", "tel:41000", auto_answer=True)
    pbx.answer("tel:41000")
    call = pbx.incoming("1000", "5551000")
    pbx.accept_call(f"call:{call.id}")
    pbx.answer("ext:1000")
    offer = pbx.incoming("1001", "5551000")
    subs.update({i: outbound.trunk_id for i in OUTBOUND_IDS})
    subs.update({i: call.trunk_id for i in INBOUND_IDS})
    subs.update({i: offer.trunk_id for i in OFFERED_IDS})
    return subs


#: operations that act on an extension of the call (extension/hold, mute, listen...)
BY_EXTENSION = ("hold", "unhold", "mute", "unmute", "monitor")


def equivalence_divergence(operation: str, payload: Mapping[str, Any], model: Any) -> str | None:
    """What the simulator does and a Yeastar PBX cannot, by the guide (model equivalence asks
    the provider to refuse these instead of comparing):

    * transferring an internal call (extension to extension): the API transfers only inbound
      and outbound calls (inbound/transfer_*, outbound/transfer_*: api_sample/calls/), and an
      internal call has no inboundid or outboundid;
    * holding, muting or monitoring a call that has no extension (a callback between two
      numbers): extension/hold, mute, listen... take an extension number only.
    """
    call = str(payload.get("call", ""))
    if not call.startswith("call:"):
        return None
    found = model.calls.get(call[5:]) or model.by_trunk_id(call[5:])
    if found is None:
        return None
    if operation == "transfer" and found.direction == "internal":
        return "the API transfers inbound and outbound calls only, not internal ones"
    if operation in BY_EXTENSION and not any(p.startswith("ext:") for p in found.parties):
        return "hold, mute and monitor act on an extension; this call has none"
    return None


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

    def prepare_documented(self, session, exchange) -> Mapping[str, Any]:
        return prepare_documented(session, exchange)

    def equivalence_divergence(self, operation: str, payload: Mapping[str, Any],
                               model: Any) -> str | None:
        return equivalence_divergence(operation, payload, model)

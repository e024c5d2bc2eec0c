"""The example provider runs the whole conformance suite: this is all a provider package writes."""

from telephony_core.testing import ProviderConformance


def _live_call(session):
    """Place a call first, so hangup has something to end."""
    ref = session.client.dial(caller="ext:1000", callee="ext:1001")
    return {"call": ref.call_id}


class TestExampleConformance(ProviderConformance):
    provider = "example"
    known_addresses = ("ext:1000", "ext:1001", "ext:1002", "tel:41000")
    samples = {
        "dial": {"caller": "ext:1000", "callee": "tel:41000"},
        "hangup": _live_call,
        "list_calls": {},
    }

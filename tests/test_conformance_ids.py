"""The suite holds every provider to the Ids contract: a ``call_id`` is the vendor's id as it is.

docs/conformance.md ("Ids"): payloads name a call ``call:ID``, while ``CallRef.call_id``,
``CallInfo.call_id`` and ``Event.call_id`` carry the id without the prefix, so one application
writes ``client.hangup(f"call:{ref.call_id}")`` and ``event.call_id == ref.call_id`` for every
provider. A provider that returned ``call:ID`` made that application send ``call:call:ID``
(Twilio, Telnyx and ARI did). Broken copies of the example provider, registered in-process, are
run through the same runner as ``telephony conformance``; each test asserts that the property
fails, with a message that names the contract and what to return.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
from telephony_example.conformance import Fixtures
from telephony_example.provider import ExampleProvider, _call_info
from telephony_example.spec import SPEC as EXAMPLE

from telephony_core.results import CallInfo, CallRef, Event
from telephony_core.testing.base import Outcome, check_result
from telephony_core.testing.ids import call_id_problem
from telephony_core.testing.runner import run_suite
from telephony_core.wire import Route
from tests.broken_copies import copy_of_example, register

DOCUMENTED = Path(__import__("telephony_example").__file__).parent.parent / "tests" / \
    "documented" / "example.json"


# -- the broken copies ---------------------------------------------------------------------


class PrefixingProvider(ExampleProvider):
    """Returns ``call:ID`` where the contract says ``ID``: in dial's CallRef, in list_calls'
    CallInfo and in parsed events (what Twilio, Telnyx and ARI did)."""

    routes = {
        **ExampleProvider.routes,
        "dial": Route(ExampleProvider.routes["dial"].to_request,
                      lambda p, data, payload: CallRef(p.name, f"call:{data['id']}", raw=data)),
        "list_calls": Route(ExampleProvider.routes["list_calls"].to_request,
                            lambda p, data, payload: [
                                attrs.evolve(info, call_id=f"call:{info.call_id}")
                                for info in map(_call_info, data["calls"])]),
    }

    def parse_event(self, body: bytes, headers) -> list[Event]:
        return [attrs.evolve(e, call_id=f"call:{e.call_id}")
                for e in super().parse_event(body, headers)]


def prefixed_samples(tmp_path: Path) -> Path:
    """The example's documented exchanges transcribed with ``call:`` in every result and event
    ``call_id``: a sample written the wrong way must not let the wrong provider pass."""
    data = json.loads(DOCUMENTED.read_text())
    for exchange in data["exchanges"]:
        result = exchange.get("result") or {}
        for fields in [result.get("fields") or {}, *(result.get("items") or ()),
                       *(exchange.get("events") or ())]:
            if isinstance(fields.get("call_id"), str):
                fields["call_id"] = "call:" + fields["call_id"]
    path = tmp_path / "example-prefixed.json"
    path.write_text(json.dumps(data))
    return path


def one_call_up(session) -> dict:
    """list_calls' sample: a call in the PBX, so that the listing has a CallInfo to check (the
    example's own sample lists an empty PBX)."""
    if not session.pbx.calls:
        session.pbx.dial("ext:1000", "tel:41000")
    return {}


class WithACallToList(Fixtures):
    samples = {**Fixtures.samples, "list_calls": one_call_up}


# -- the suite catches them ------------------------------------------------------------------


def test_a_dial_returning_call_prefixed_ids_fails_the_outcome_property_on_both_clients(
        registered):
    register(registered, copy_of_example("example-prefixed", PrefixingProvider))
    results = run_suite("example-prefixed", fixtures=WithACallToList,
                        select="test_valid_payloads and (dial or list_calls)")
    assert not results.passed and results["exit_code"] == 1
    for prop in ("outcomes", "outcomes.async"):
        entry = results.result(prop, "dial")
        assert entry["outcome"] == "failed", (prop, entry)
        assert "CallRef.call_id is 'call:1495700" in entry["message"], entry["message"]
        assert "return '1495700" in entry["message"]  # what to return instead
        assert "the 'call:' prefix payloads use" in entry["message"]  # the contract, named
        entry = results.result(prop, "list_calls")
        assert entry["outcome"] == "failed", (prop, entry)
        assert "CallInfo[0].call_id is 'call:" in entry["message"], entry["message"]


def test_prefixed_ids_fail_the_documented_exchanges_even_when_the_sample_has_them(
        registered, tmp_path):
    register(registered, copy_of_example("example-prefixed-doc", PrefixingProvider))

    class AgainstPrefixedSamples(Fixtures):
        documented = (str(prefixed_samples(tmp_path)),)
        vendor_spec = None

    results = run_suite("example-prefixed-doc", fixtures=AgainstPrefixedSamples,
                        select="test_documented_provider")
    dial = results.result("documented.provider[dial: extension to an external number]", "dial")
    assert dial["outcome"] == "failed", dial
    assert "result: CallRef.call_id is 'call:1495700000.101': return '1495700000.101'" in (
        dial["message"])
    listed = results.result("documented.provider[list_calls: one outbound call ringing]",
                            "list_calls")
    assert listed["outcome"] == "failed", listed
    assert "CallInfo[0].call_id is 'call:1495700000.101'" in listed["message"]
    report = results.result("documented.provider[report: call answered]")
    assert report["outcome"] == "failed", report
    assert "events: event[0].call_id is 'call:1495700000.101': return '1495700000.101'" in (
        report["message"])


def test_the_unbroken_example_keeps_the_ids_contract(registered):
    register(registered, copy_of_example("example-ids-control", ExampleProvider))
    results = run_suite("example-ids-control", fixtures=WithACallToList,
                        select="test_valid_payloads and (dial or list_calls)")
    assert results.passed, json.dumps(results, indent=1)


def test_call_id_problems_name_each_way_to_break_the_contract():
    assert call_id_problem("CallRef", None, nullable=True) is None  # an ack-only provider
    assert call_id_problem("Event", "CA" + "a" * 32 + ":tc1", nullable=True) is None
    assert "a listed call always has an id" in call_id_problem("CallInfo", None, nullable=False)
    assert "is int 7: expected a string or None" in call_id_problem("CallRef", 7, nullable=True)
    assert "empty string" in call_id_problem("CallRef", "", nullable=True)
    assert "return 'v3:abc'" in call_id_problem("Event", "call:v3:abc", nullable=True)


def test_check_result_holds_every_call_id_a_result_carries():
    spec = EXAMPLE
    good = CallInfo("1.1", "outbound", "ext:1000", "tel:41000", "ringing")
    assert check_result(spec, "list_calls", Outcome(result=[good])) is None
    bad = attrs.evolve(good, call_id="call:1.2")
    assert "CallInfo[1].call_id is 'call:1.2'" in check_result(
        spec, "list_calls", Outcome(result=[good, bad]))
    assert check_result(spec, "dial", Outcome(result=CallRef(spec.name, None))) is None
    assert "CallRef.call_id is 'call:1.1'" in check_result(
        spec, "dial", Outcome(result=CallRef(spec.name, "call:1.1")))

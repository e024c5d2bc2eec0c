"""What the conformance suite needs to know about ari. ``telephony conformance ari`` finds it.

Two properties are adapted, both documented in docs/providers/ari.md:

* faults: ARI lets dial and play_prompt do better than OutcomeUnknown when the originate's
  reply is lost: the channel id was chosen by the client, so ``GET /channels/{id}`` says
  whether it was placed. Under a reply-lost fault the check here is stricter than the
  suite's: the originate was sent exactly once, and the result is either OutcomeUnknown or a
  CallRef confirmed by that GET for a channel the model really has.
* faults: ``stall`` on transfer and monitor: their last reply (204, no body) is complete
  once the head is sent, so the stall delays nothing; the check asserts the request was hit,
  sent once, and ended in a result or OutcomeUnknown.
* equivalence leaves play_prompt out: its flow (answer, play, hang up) runs on stream events
  through model primitives the shared model does not have (it plays prompts itself on answer),
  so its effects cannot be compared with the simulator's.
"""

from __future__ import annotations

from typing import Any

from telephony_core.errors import OutcomeUnknown
from telephony_core.results import CallRef
from telephony_core.testing import ProviderFixtures
from telephony_core.testing.base import check_result, run
from telephony_core.testing.equivalence import EquivalenceTests
from telephony_core.testing.faults import FAULTS
from telephony_core.testing.spec_evidence import VendorSpec
from telephony_core.testing.suite import FaultTests

ORIGINATES = ("dial", "play_prompt")
#: non-idempotent operations whose last request is answered 204 (no body) -> its path suffix
EMPTY_REPLIES = {"transfer": "/continue", "monitor": "/dial"}


def live_call(session: Any) -> dict[str, Any]:
    """A connected call placed by dial (both phones answered), by its call id. The fixed
    idempotency key gives the same channel id in every fresh emulator, so a fault the suite
    aims at the baseline's request path hits the same path again."""
    ref = session.client.dial(caller="ext:1000", callee="ext:1001",
                              idempotency_key="sample-live-call")
    session.pbx.answer("ext:1000")
    session.pbx.answer("ext:1001")
    return {"call": f"call:{ref.call_id}"}


def offered_call(session: Any) -> dict[str, Any]:
    """An inbound call from the trunk that entered the Stasis app (offered)."""
    session.pbx.incoming("41000", "5551000")
    offered = [c for c in session.app.channels.values() if c.offered]
    return {"call": f"call:{offered[-1].id}"}


class Fixtures(ProviderFixtures):
    provider = "ari"
    #: every request and reply of every conformance test is checked against ARI's Swagger specs
    vendor_spec = VendorSpec("../shared/specs/asterisk-ari", base_path="/ari")
    samples = {
        "dial": {"caller": "ext:1000", "callee": "ext:1001"},
        "play_prompt": {"to": "ext:1000", "prompts": ["hello111"]},
        "hangup": live_call, "hold": live_call, "unhold": live_call,
        "mute": live_call, "unmute": live_call,
        "transfer": lambda session: {**live_call(session), "to": "ext:1002"},
        "monitor": lambda session: {**live_call(session), "supervisor": "ext:1005",
                                    "mode": "listen"},
        "list_calls": {},
        "accept_call": offered_call, "reject_call": offered_call,
    }

    def test_fault(self, spec, declared, fault_name, emulate, debug_logs) -> None:
        case = FAULTS[fault_name]
        if fault_name == "stall" and declared in EMPTY_REPLIES:
            self._stall_of_an_empty_reply(spec, emulate, declared)
            return
        if declared not in ORIGINATES or not (case.reply_lost and case.app_runs):
            FaultTests.test_fault(self, spec, declared, fault_name, emulate, debug_logs)
            return
        timeout = float(self.client_options.get("timeout", 0.4))
        with emulate() as session:
            payload = self.sample(session, declared)
            session.server.clear()
            session.server.inject(case.make(timeout), method="POST", times=1)
            outcome = run(session, declared, payload)
            seen = session.server.requests
            originates = [r for r in seen if r.method == "POST" and r.path.count("/") == 3]
            assert len(originates) == 1, f"{declared} under {fault_name}: originate sent " \
                                         f"{len(originates)} times: {[str(r) for r in seen]}"
            assert check_result(spec, declared, outcome) is None, outcome.describe()
            if isinstance(outcome.error, OutcomeUnknown):
                return
            assert isinstance(outcome.result, CallRef), outcome.describe()
            channel = outcome.result.call_id
            lookups = [r for r in seen if r.method == "GET" and r.path.endswith(channel)]
            assert lookups, f"{declared}: a success after a lost reply must be confirmed by " \
                            f"GET /channels/{{id}}: {[str(r) for r in seen]}"
            assert outcome.result.raw.get("reconciled") is True
            assert channel in session.app.channels, "the confirmed channel must exist"

    def _stall_of_an_empty_reply(self, spec, emulate, op: str) -> None:
        """continueInDialplan (transfer) and dial (monitor's last step) answer 204 with no
        body: the stall fault sends the whole head (Content-Length: 0) and then stalls
        nothing, so the reply is complete and the operation succeeds. Checked instead: the
        faulted request was sent once, and the outcome is a result or OutcomeUnknown."""
        from telephony_core.emulation import Fault

        suffix = EMPTY_REPLIES[op]
        with emulate() as session:
            payload = self.sample(session, op)
            session.server.clear()
            session.server.inject(Fault.stall(5.0), path=f"*{suffix}", method="POST",
                                  times=1)
            outcome = run(session, op, payload)
            sent = [r for r in session.server.requests if r.path.endswith(suffix)]
        assert len(sent) == 1, [str(r) for r in sent]
        assert sent[0].fault is not None, "the stall must have hit the request"
        assert outcome.ok or isinstance(outcome.error, OutcomeUnknown), outcome.describe()
        assert check_result(spec, op, outcome) is None

    def test_model_equivalence(self, spec) -> None:
        cls = type(self)
        before = cls.only_operations
        cls.only_operations = frozenset(op for op in cls.operations_under_test()
                                        if op != "play_prompt")
        try:
            EquivalenceTests.test_model_equivalence(self, spec)
        finally:
            cls.only_operations = before

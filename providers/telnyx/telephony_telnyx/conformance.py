"""What the conformance suite needs to know about telnyx: addresses that exist in the emulator's
default set-up, and samples that succeed on a fresh emulator (so fault recovery is proven).
``telephony conformance telnyx`` finds this module."""

from __future__ import annotations

from typing import Any

from telephony_core.testing import ProviderFixtures

#: The commands this provider sends with Telnyx's command_id and declares retry_safe (kept in
#: step with TelnyxProvider.retry_safe by the package's tests).
KEYED = frozenset({"dial", "play_prompt", "transfer", "monitor"})


def live_call(session: Any) -> dict[str, Any]:
    """A caller leg placed with dial and answered: what hangup and transfer act on."""
    ref = session.client.dial(caller="tel:+41000", callee="tel:+41001", caller_id="+15550100")
    session.pbx.answer("tel:+41000")
    return {"call": f"call:{ref.call_id}"}


def transfer_sample(session: Any) -> dict[str, Any]:
    return {**live_call(session), "to": "tel:+41002"}


def monitor_sample(session: Any) -> dict[str, Any]:
    """An answered play_prompt call (talking in the model), supervised by extension 1005 (its
    SIP phone), whose monitor mode allows every role."""
    ref = session.client.play_prompt(to="tel:+41000", prompts=["hello111"],
                                     caller_id="+15550100")
    session.pbx.answer("tel:+41000")
    return {"supervisor": "sip:1005@sip.telnyx.com", "call": f"call:{ref.call_id}",
            "mode": "listen"}


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

    # -- properties this provider proves its own way ------------------------------------

    def test_fault(self, spec: Any, declared: str, fault_name: str, emulate: Any,
                   debug_logs: Any) -> None:
        """The suite's fault property, except for keyed commands: the suite holds every
        non-idempotent operation to one send, while Telnyx ignores a repeat of the same
        command_id, so this provider re-sends them (issue 17). For those, under every fault:
        each attempt carries the same command_id, the emulator acts once (one leg, or one
        transfer), and the outcome is a result or a typed error; faults a retry can recover
        from (the reply was lost or garbled) end in the baseline's result."""
        if declared not in KEYED:
            super().test_fault(spec, declared, fault_name, emulate, debug_logs)  # type: ignore[misc]
            return
        from telephony_core.testing.base import check_result, run
        from telephony_core.testing.faults import FAULTS
        from telephony_core.testing.suite import _assert_no_leak, _fault_options

        case = FAULTS[fault_name]
        if fault_name == "expired_token":
            import pytest

            pytest.skip("Telnyx has no sessions (a Bearer API key on every request)")
        timeout = float(self.client_options.get("timeout", 0.4))
        with emulate(**_fault_options(self, case.deadline)) as session:
            payload = self.sample(session, declared)
            assert payload is not None, f"no sample for {declared}"
            legs_before = len(session.app.legs)
            path = ("/v2/calls" if declared != "transfer" else
                    f"/v2/calls/{payload['call'][5:]}/actions/transfer")
            session.server.clear()
            session.server.inject(case.make(timeout), path=path, method="POST", times=1)
            outcome = run(session, declared, payload)
            sent = [r for r in session.server.requests if r.path == path]
            _assert_no_leak(session, debug_logs, outcome)
            trace = (f"telnyx.{declared}({payload!r}) under {fault_name}: "
                     f"{outcome.describe()}; requests: {[str(r) for r in sent]}")
            wrong = check_result(spec, declared, outcome)
            assert wrong is None, f"{trace}: {wrong}"
            keys = {r.json().get("command_id") for r in sent if r.body}
            assert len(keys) <= 1 and None not in keys, \
                f"{trace}: the attempts carried different command_ids {keys}"
            if declared == "transfer":
                acted = sum(1 for k in session.app.commands if k[0] == payload["call"][5:])
            else:
                acted = len(session.app.legs) - legs_before
            assert acted <= 1, f"{trace}: Telnyx acted {acted} times on one command_id"
            if case.recovers:  # lost, refused or garbled replies; not redirects or deadlines
                assert outcome.ok, f"{trace}: a retry with the same command_id recovers"

    def test_model_equivalence(self, spec: Any) -> None:
        """Not comparable with the simulator (see docs/providers/telnyx.md): dial is two legs
        joined by the application's webhook handler, which no step of the equivalence machine
        runs; several prompts and menus are webhook flows too; the reference travels in
        client_state, which the model never sees; supervisors and SMS senders are SIP URIs and
        numbers where the simulator wants extensions and GSM trunks. The package's tests check
        each operation's effect on the model instead."""
        import pytest

        pytest.skip("telnyx's flows continue on webhooks the equivalence machine does not "
                    "deliver, and its references live in client_state: not comparable with "
                    "the simulator (docs/providers/telnyx.md)")


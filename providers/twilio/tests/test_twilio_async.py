"""The provider through the async client (plugin API 2: the httpx driver sends what the
provider builds), against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from telephony_twilio.conformance import CALLEE, CALLER

import telephony_core
from telephony_core.emulation import emulated
from telephony_core.errors import OutcomeUnknown, TelephonyError
from telephony_core.testing.faults import FAULTS

FAST = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2}


def _run(emu, body, **options):
    """Run ``body(client)`` on an AsyncClient connected to the emulator ``emu``."""
    async def main():
        async with telephony_core.connect_async(emu.app.connect_url(emu.server.url),
                                                **{**FAST, **options}) as client:
            return await body(client)

    return asyncio.run(main())


def test_dial_places_the_caller_with_twiml_that_dials_the_callee():
    with emulated("twilio", client_options=FAST) as emu:
        ref = _run(emu, lambda client: client.dial(caller=CALLER, callee=CALLEE))
        (post,) = emu.server.requests
        assert post.method == "POST" and post.path.endswith("/Calls.json")
        assert post.form()["To"] == "+14155550100"
        assert "<Number>+14155550101</Number>" in post.form()["Twiml"]
        sid = ref.call_id
        assert sid.startswith("CA") and sid in emu.app.calls
        assert post.headers["Authorization"].startswith("Basic ")


def test_conference_dial_then_hold_and_list_calls():
    with emulated("twilio", client_options={**FAST, "conference": True}) as emu:
        async def flow(client):
            ref = await client.dial(caller=CALLER, callee=CALLEE)
            emu.app.pbx.answer(CALLER)
            emu.app.pbx.answer(CALLEE)
            ack = await client.hold(call=f"call:{ref.call_id}")
            return ref, ack, await client.list_calls()

        ref, ack, calls = _run(emu, flow, conference=True)
        assert ack.provider == "twilio"
        sid = ref.call_id.split(":")[0]
        held = [r for r in emu.server.requests if r.path.endswith(f"/Participants/{sid}.json")]
        assert [r.form() for r in held] == [{"Hold": "true"}]
        assert emu.app.pbx.snapshot()["calls"][0]["legs"][0]["state"] == "held"
        assert sid in [c.call_id for c in calls]
        statuses = [r.query.get("Status") for r in emu.server.requests
                    if r.path.endswith("/Calls.json") and r.method == "GET"]
        assert statuses == ["queued", "ringing", "in-progress"]


@pytest.mark.parametrize("fault_name", ["delay", "reset_after_read", "truncated_body",
                                        "http_error"])
def test_dial_is_sent_at_most_once_under_a_fault(fault_name):
    case = FAULTS[fault_name]
    with emulated("twilio", client_options=FAST) as emu:
        emu.server.inject(case.make(FAST["timeout"]), path="*/Calls.json", method="POST",
                          times=1)
        with pytest.raises(TelephonyError) as info:
            _run(emu, lambda client: client.dial(caller=CALLER, callee=CALLEE), deadline=2)
        callers = [r for r in emu.server.requests if r.method == "POST"
                   and r.form().get("To") == "+14155550100"]
        assert len(callers) == 1 and emu.server.attempts == 1
        if case.reply_lost and case.app_runs:
            assert isinstance(info.value, OutcomeUnknown)

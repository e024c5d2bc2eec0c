"""The TeleCMI provider through the async client (plugin API 2: httpx on the wire, the same
declaration as the sync client) against its emulator over real HTTP. The live-call actions go
to their own host (``WireRequest(base=...)``), here a second server on the same model."""

from __future__ import annotations

import asyncio

import pytest

import telephony_core
from telephony_core.emulation import emulated
from telephony_core.emulation.server import EmulatorServer
from telephony_core.errors import AuthenticationError, ProviderError

PROMPT = {"to": "tel:19170000001", "prompts": ["welcome_11112.wav"], "caller_id": "19170000000"}


def run(url, work):
    async def main():
        async with telephony_core.connect_async(url, timeout=1, deadline=5) as client:
            return await work(client)
    return asyncio.run(main())


def test_a_prompt_call_is_placed_with_its_pcmo():
    with emulated("telecmi") as emu:
        ref = run(emu.app.connect_url(emu.server.url),
                  lambda client: client.play_prompt(**PROMPT, reference="order-3"))
        [sent] = emu.server.requests
        assert sent.path == "/v2/global_pcmo_make_call"
        assert sent.json()["pcmo"] == [{"action": "play", "file_name": "welcome_11112.wav"}]
        assert sent.json()["extra_params"] == '{"reference":"order-3"}'
        assert ref.call_id is None and ref.raw["request_id"]
        assert len(emu.app.pbx.list_calls()) == 1


def test_hold_and_unhold_go_to_the_live_action_host():
    with emulated("telecmi") as emu, EmulatorServer(emu.app) as actions:
        pbx = emu.app.pbx
        call = pbx.dial("tel:41000", "tel:41001", caller_id="5551000")
        pbx.answer("tel:41000")
        pbx.answer("tel:41001")
        url = emu.app.connect_url(emu.server.url) + f"&action_url={actions.url}"

        async def work(client):
            await client.hold(f"call:{call.id}")
            held = pbx.list_calls()[0].state
            await client.unhold(f"call:{call.id}")
            return held
        assert run(url, work) == "held"
        assert pbx.list_calls()[0].state == "talking"
        assert [(r.path, r.json()["action"], r.json()["cmiuid"]) for r in actions.requests] == [
            ("/v1/call/global_action", "hold", call.id),
            ("/v1/call/global_action", "unhold", call.id)]
        assert not emu.server.requests  # nothing went to the make-call host


def test_an_unknown_live_call_is_not_found():
    with emulated("telecmi") as emu, pytest.raises(ProviderError) as info:
        run(emu.app.connect_url(emu.server.url), lambda client: client.hold("call:nosuchcall"))
    assert info.value.category == "not_found"


@pytest.mark.parametrize("op", ["play_prompt", "hold"])
def test_a_bad_secret_is_an_authentication_error_on_both_hosts(op):
    """The make-call host answers 420, the live-action host 404 with a message naming the
    secret (PIOPIY-doc piopiy/docs/get-cmiuuid)."""
    with emulated("telecmi") as emu:
        url = emu.app.connect_url(emu.server.url).replace("telecmi-demo", "wrong-secret-5")
        payload = PROMPT if op == "play_prompt" else {"call": "call:nosuchcall"}
        with pytest.raises(AuthenticationError) as info:
            run(url, lambda client: client.invoke(op, payload))
        assert "wrong-secret-5" not in str(info.value) + repr(info.value)
        assert len(emu.server.requests) == 1  # never re-sent
        assert not emu.app.pbx.list_calls()

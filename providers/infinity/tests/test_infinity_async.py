"""The Infinity provider through the async client (plugin API 2: the same declaration, the
core's session on asyncio tasks, httpx on the wire) against its emulator over real HTTP."""

from __future__ import annotations

import asyncio

import pytest

import telephony_core
from telephony_core.emulation import emulated
from telephony_core.errors import AuthenticationError, ProviderError

PROMPT = {"to": "tel:13333333333", "prompts": ["hello111"], "menu": {"1": "group:extGroup-1"}}


def run(emu, work):
    """Run ``work(client)`` in a fresh AsyncClient pointed at the emulator, closing it after."""
    async def main():
        async with telephony_core.connect_async(emu.app.connect_url(emu.server.url),
                                                timeout=1, deadline=5) as client:
            return await work(client)
    return asyncio.run(main())


def test_a_prompt_call_logs_in_once_and_sends_the_token_after_service():
    with emulated("infinity") as emu:
        async def work(client):
            return [await client.play_prompt(**PROMPT, reference="r-1") for _ in range(2)]
        refs = run(emu, work)
        assert [r.call_id for r in refs] == [None, None]
        services = [r.form()["service"] for r in emu.server.requests]
        assert services == ["App.Sip_Auth.Login", "App.Sip_Call.PlayVoice",
                            "App.Sip_Call.PlayVoice", "App.Sip_Auth.Logout"]  # logout on close
        sent = emu.server.requests[1]
        assert list(sent.form())[:2] == ["service", "token"]
        assert sent.form()["customuuid"] == "r-1"
        assert "multipart/form-data" in sent.headers["Content-Type"]
        assert not emu.app.tokens  # the logout ended the session


def test_a_whisper_is_listen_then_switch():
    with emulated("infinity") as emu:
        pbx = emu.app.pbx
        pbx.dial("ext:1000", "tel:41000")
        pbx.answer("ext:1000")
        pbx.answer("tel:41000")
        run(emu, lambda client: client.monitor("ext:1005", "ext:1000", "whisper"))
        assert [r.form().get("monitortype") for r in emu.server.requests
                if r.form()["service"] == "App.Sip_Call.SpyCall"] == ["1", "2"]
        [call] = pbx.list_calls()
        assert [leg.role for leg in call.legs if leg.party == "ext:1005"] == ["monitor-whisper"]


def test_errors_code_1010_forces_one_new_login_and_the_dial_is_placed_once():
    with emulated("infinity") as emu:
        emu.app.added_after_login("1001", logins=1)  # the first token predates extension 1001
        run(emu, lambda client: client.dial("ext:1001", "tel:41000"))
        assert emu.app.logins == 2
        assert [r.form()["service"] for r in emu.server.requests][:4] == [
            "App.Sip_Auth.Login", "App.Sip_Call.MakeCall", "App.Sip_Auth.Login",
            "App.Sip_Call.MakeCall"]
        assert len(emu.app.pbx.list_calls()) == 1


def test_a_second_1010_is_infinitys_own_error_not_a_third_send():
    with emulated("infinity") as emu:
        emu.app.added_after_login("1001", logins=2)
        with pytest.raises(ProviderError) as info:
            run(emu, lambda client: client.dial("ext:1001", "tel:41000"))
        assert (info.value.code, info.value.vendor_code) == ("extension_exception", "1010")
        assert [r.form()["service"] for r in emu.server.requests].count(
            "App.Sip_Call.MakeCall") == 2
        assert not emu.app.pbx.list_calls()


def test_tasks_meeting_an_expired_token_cause_one_login():
    with emulated("infinity") as emu:
        async def work(client):
            await client.dial("ext:1000", "tel:41000")
            emu.app.expire_tokens()
            return await asyncio.gather(*[client.play_prompt(**PROMPT) for _ in range(4)])
        run(emu, work)
        assert emu.app.logins == 2


def test_a_wrong_access_key_is_an_authentication_error_without_the_key():
    with emulated("infinity") as emu:
        url = emu.app.connect_url(emu.server.url).replace("infinity-demo", "wrong-key-77")

        async def main():
            async with telephony_core.connect_async(url, timeout=1, deadline=5) as client:
                await client.play_prompt(**PROMPT)
        with pytest.raises(AuthenticationError) as info:
            asyncio.run(main())
        assert "wrong-key-77" not in str(info.value) + repr(info.value)
        assert emu.app.logins == 1

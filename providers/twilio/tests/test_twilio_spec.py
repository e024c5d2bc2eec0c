"""Spec evidence: the requests this provider sends and the replies its emulator gives are the
operations of Twilio's OpenAPI description (../shared/specs/twilio/twilio_api_v2010.json),
checked with the conformance kit's checker. conftest.py checks every exchange of every test;
here one tour covers every operation the provider uses, and the corrections the checker reads
the spec with (telephony_twilio.vendor_spec) are pinned to the defects they correct."""

from __future__ import annotations

import json

from telephony_twilio.conformance import CALLEE, CALLER, OTHER, SUPERVISOR
from telephony_twilio.vendor_spec import corrected, corrected_path, exchange_problems, find_spec

from telephony_core.emulation import emulated
from telephony_core.testing.spec_evidence import load, reply_problems

FAST = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2}

#: The spec operations the provider uses (its whole wire surface).
USED = {"CreateCall", "UpdateCall", "ListCall", "ListConference", "CreateParticipant",
        "UpdateParticipant", "CreateMessage"}


def test_every_operation_of_the_provider_is_an_operation_of_the_spec():
    seen: dict[str | None, list[str]] = {}
    for conference in (False, True):
        with emulated("twilio", client_options={**FAST, "conference": conference}) as emu:
            client, pbx = emu.client, emu.app.pbx
            ref = client.dial(caller=CALLER, callee=CALLEE)
            pbx.answer(CALLER)
            pbx.answer(CALLEE)
            client.list_calls()
            if conference:
                for op in ("hold", "unhold", "mute", "unmute"):
                    client.invoke(op, {"call": f"call:{ref.call_id}"})
                client.monitor(call=f"call:{ref.call_id}", supervisor=SUPERVISOR, mode="whisper")
            client.transfer(call=f"call:{ref.call_id}", to=OTHER)
            client.hangup(call=f"call:{ref.call_id}")
            client.play_prompt(to=OTHER, prompts=["https://m.example/a.mp3"])
            client.send_sms(to=OTHER, text="hello")
            for exchange in emu.app.exchanges:
                name, problems = exchange_problems(exchange)
                seen.setdefault(name, []).extend(problems)
    assert set(seen) == USED
    assert not any(seen.values()), seen


def test_error_replies_are_checked_against_twilios_error_body():
    spec = load(find_spec())  # as published: it declares no error response
    corrected_spec = load(_corrected_file())
    op, _, _ = corrected_spec.find("POST", "/2010-04-01/Accounts/AC" + "a" * 32 + "/Calls.json")
    raw_op, _, _ = spec.find("POST", "/2010-04-01/Accounts/AC" + "a" * 32 + "/Calls.json")
    error = json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number",
                        "more_info": "https://www.twilio.com/docs/errors/21211",
                        "status": 400}).encode()
    # As published the spec declares no error reply, so the kit checks none (not even one of
    # the wrong shape): without the correction the emulator's error bodies would go unchecked.
    assert reply_problems(spec, raw_op, 400, "application/json", b'{"error": "x"}') == []
    # With the correction (Twilio's documented error body as the default response) a reply of
    # the documented shape passes and any other shape is caught.
    assert reply_problems(corrected_spec, op, 400, "application/json", error) == []
    assert reply_problems(corrected_spec, op, 400, "application/json", b'{"error": "x"}')


def test_the_spec_defect_the_correction_works_around_is_still_there():
    """If Twilio fixes reason_conference_ended, the correction can go."""
    document = json.loads(find_spec().read_text(encoding="utf-8"))
    assert "nullable" not in document["components"]["schemas"][
        "conference_enum_reason_conference_ended"]
    examples = document["paths"]["/2010-04-01/Accounts/{AccountSid}/Conferences.json"]["get"][
        "responses"]["200"]["content"]["application/json"]["examples"]
    assert all(c["reason_conference_ended"] is None for c in examples["readFull"]["value"][
        "conferences"] if c["status"] == "in-progress")
    spec, fixed = load(find_spec()), load(_corrected_file())
    path = "/2010-04-01/Accounts/AC" + "a" * 32 + "/Conferences.json"
    body = json.dumps(examples["readFull"]["value"]).encode()
    assert reply_problems(spec, spec.find("GET", path)[0], 200, "application/json", body)
    assert reply_problems(fixed, fixed.find("GET", path)[0], 200, "application/json", body) == []


def _corrected_file() -> str:
    return corrected_path()


def test_corrections_change_only_what_they_say():
    document = json.loads(find_spec().read_text(encoding="utf-8"))
    fixed = corrected(document)
    assert set(fixed["components"]["schemas"]) - set(document["components"]["schemas"]) == {
        "telephony_twilio.error"}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                assert fixed["paths"][path][method]["responses"] == {
                    **op["responses"], "default": fixed["paths"][path][method]["responses"][
                        "default"]}

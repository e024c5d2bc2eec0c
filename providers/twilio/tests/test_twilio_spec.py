"""Spec evidence: the requests this provider sends and the replies its emulator gives are the
operations of Twilio's OpenAPI description (../shared/specs/twilio/twilio_api_v2010.json).

conftest.py validates every exchange of every test; here, one tour covers every operation the
provider uses, and the checker is shown to catch what it must catch."""

from __future__ import annotations

import copy
import json

from spec_check import KNOWN_DEFECTS, SpecChecker, checker
from telephony_twilio.conformance import CALLEE, CALLER, OTHER, SUPERVISOR

from telephony_core.emulation import emulated

FAST = {"timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2}
BASE = "/2010-04-01/Accounts/AC" + "d3" * 16

#: The spec operations the provider uses (its whole wire surface).
USED = {"CreateCall", "UpdateCall", "ListCall", "ListConference", "CreateParticipant",
        "UpdateParticipant", "CreateMessage"}


def test_every_operation_of_the_provider_validates_against_the_spec():
    seen: dict[str, list[str]] = {}
    for conference in (False, True):
        with emulated("twilio", client_options={**FAST, "conference": conference}) as emu:
            client, pbx = emu.client, emu.app.pbx
            ref = client.dial(caller=CALLER, callee=CALLEE)
            pbx.answer(CALLER)
            pbx.answer(CALLEE)
            client.list_calls()
            if conference:
                for op in ("hold", "unhold", "mute", "unmute"):
                    client.invoke(op, {"call": ref.call_id})
                client.monitor(call=ref.call_id, supervisor=SUPERVISOR, mode="whisper")
            client.transfer(call=ref.call_id, to=OTHER)
            client.hangup(call=ref.call_id)
            client.play_prompt(to=OTHER, prompts=["https://m.example/a.mp3"])
            client.send_sms(to=OTHER, text="hello")
            for exchange in emu.app.exchanges:
                op_id, problems = checker().check_exchange(exchange)
                seen.setdefault(op_id, []).extend(problems)
    assert set(seen) == USED
    assert not any(seen.values()), seen


def _create_call_form(**changes):
    form = {"To": "+14155550100", "From": "+15005550006", "Twiml": "<Response/>"}
    form.update(changes)
    return [(k, v) for k, v in form.items() if v is not None]


def test_the_checker_catches_requests_outside_the_spec():
    spec = checker()
    op_id, problems = spec.check_request("POST", BASE + "/Calls.json", [], _create_call_form())
    assert (op_id, problems) == ("CreateCall", [])
    _, problems = spec.check_request("POST", BASE + "/Calls.json", [],
                                     _create_call_form(Colour="red"))
    assert problems == ["form field 'Colour' is not declared by the spec"]
    _, problems = spec.check_request("POST", BASE + "/Calls.json", [],
                                     _create_call_form(To=None))
    assert problems == ["form field 'To' is required but missing"]
    _, problems = spec.check_request("POST", BASE + "/Calls.json", [],
                                     _create_call_form(Timeout="soon"))
    assert problems and "Timeout" in problems[0]
    _, problems = spec.check_request("POST", "/2010-04-01/Accounts/ACxyz/Calls.json", [],
                                     _create_call_form())
    assert problems and problems[0].startswith("path AccountSid")
    _, problems = spec.check_request("GET", BASE + "/Calls.json", [("Status", "talking")], [])
    assert problems and "Status" in problems[0]
    _, problems = spec.check_request("POST", BASE + "/Calls/CA1.json", [], [("Status", "x")])
    assert any(p.startswith("path Sid") for p in problems)


def test_the_checker_catches_replies_outside_the_spec():
    call = {"sid": "CAnothex", "status": "talking"}
    problems = checker().check_reply("POST", BASE + "/Calls.json", 201, json.dumps(call).encode())
    assert any(p.startswith("sid") for p in problems) and any("status" in p for p in problems)
    assert checker().check_reply("POST", BASE + "/Calls.json", 200, b"{}") == [
        "HTTP 200 is not a response the spec describes"]


def test_the_spec_defect_the_checker_works_around_is_still_there():
    """If Twilio fixes reason_conference_ended, KNOWN_DEFECTS can go."""
    assert set(KNOWN_DEFECTS) == {"conference_enum_reason_conference_ended"}
    raw = SpecChecker()
    components = copy.deepcopy(raw.doc["components"])
    from spec_check import _nullable

    example = raw.doc["paths"]["/2010-04-01/Accounts/{AccountSid}/Conferences.json"]["get"][
        "responses"]["200"]["content"]["application/json"]
    problems = raw._validate(example["examples"]["readFull"]["value"], example["schema"],
                             components=_nullable(components))
    assert problems and all("reason_conference_ended" in p for p in problems)
    assert raw._validate(example["examples"]["readFull"]["value"], example["schema"]) == []

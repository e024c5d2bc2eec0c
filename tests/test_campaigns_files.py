"""Campaign files: every bad row refused before anything starts, with line, field and problem."""

from __future__ import annotations

import json

import pytest

from telephony_core.campaigns.model import (
    CampaignFileError,
    derive_key,
    load_items,
    parse_items,
    report_csv,
)
from telephony_core.errors import PayloadError


def test_every_bad_row_is_listed_with_its_line_and_field(tmp_path):
    path = tmp_path / "reminders.csv"
    path.write_text("to,name,key\n"
                    "tel:5550001,Ann,\n"
                    "555-bad,Bob,\n"              # line 3: not a tel: address
                    "tel:5550003,,\n"             # line 4: the template's {name} is empty
                    "tel:5550001,Ann,\n"          # line 5: repeats line 2 (same derived key)
                    "tel:5550005,Eve,has space\n"  # line 6: not a valid key
                    "tel:5550006,Fay,k6,extra\n",  # line 7: a cell too many
                    encoding="utf-8")
    with pytest.raises(CampaignFileError) as caught:
        load_items(path, campaign="reminders", operation="send_sms", profiles=["sim"],
                   template="Hello {name}, see you tomorrow")
    problems = {p.path: p.message for p in caught.value.problems}
    assert set(problems) == {"line 3: to", "line 4: name", "line 5: key", "line 6: key",
                             "line 7: $"}
    assert "is not an address" in problems["line 3: to"]
    assert "{name}" in problems["line 4: name"]
    assert "repeats line 2" in problems["line 5: key"]
    assert "nothing was submitted" in str(caught.value)
    assert isinstance(caught.value, PayloadError)


def test_json_lines_rows_name_their_operation_profiles_and_payload():
    text = "\n".join([
        json.dumps({"key": "r-1", "operation": "send_sms", "profiles": ["a", "b"],
                    "payload": {"to": "tel:5550001", "text": "hi"}}),
        "",
        json.dumps({"to": "tel:5550002", "name": "Bo"}),
        "{not json",
        json.dumps({"operation": "fly", "to": "tel:1"}),
        json.dumps({"operation": "play_prompt", "to": "tel:5550003", "profile": "c"}),
    ])
    with pytest.raises(CampaignFileError) as caught:
        parse_items(text, fmt="jsonl", campaign="mixed", operation="send_sms", profiles=["a"],
                    template="Hi {name}")
    paths = [p.path for p in caught.value.problems]
    assert paths[0] == "line 4: $" and paths[1] == "line 5: operation"
    assert paths[2] == "line 6: name"  # the prompts template needs {name}, which it lacks
    good = parse_items("\n".join(text.splitlines()[:3]), fmt="jsonl", campaign="mixed",
                       operation="send_sms", profiles=["a"], template="Hi {name}")
    assert good[0].key == "r-1" and good[0].profiles == ("a", "b")
    assert good[1].payload == {"to": "tel:5550002", "text": "Hi Bo"}
    assert good[1].key == derive_key("mixed", "send_sms", good[1].payload)
    assert good[1].line == 3


def test_play_prompt_template_makes_a_list_and_common_fields_apply():
    items = parse_items("to,who\ntel:5550001,x\n", fmt="csv", campaign="c", profiles=["p"],
                        operation="play_prompt", template="hello111, queue1",
                        fields={"caller_id": "100"})
    assert items[0].payload == {"to": "tel:5550001", "prompts": ["hello111", "queue1"],
                                "caller_id": "100"}


def test_names_and_empty_files_are_refused():
    with pytest.raises(PayloadError, match="not a valid campaign name"):
        parse_items("to\ntel:1\n", fmt="csv", campaign="../etc", operation="send_sms",
                    profiles=["p"], template="x")
    with pytest.raises(CampaignFileError, match="no items"):
        parse_items("to\n", fmt="csv", campaign="c", operation="send_sms", profiles=["p"])
    with pytest.raises(PayloadError, match=r"neither \.csv nor"):
        load_items("items.xlsx", campaign="c")


def test_report_csv_has_one_row_per_item():
    rows = [{"key": "k1", "line": 2, "operation": "send_sms", "recipient": "tel:1",
             "status": "sent", "profile": "a", "reason": "", "detail": "",
             "result": {"message_id": "m1"}},
            {"key": "k2", "line": 3, "operation": "send_sms", "recipient": "tel:2",
             "status": "refused", "profile": "b", "reason": "gsm_busy", "detail": "b: busy",
             "result": {}}]
    lines = report_csv(rows).splitlines()
    assert lines[0].split(",")[:5] == ["key", "line", "operation", "recipient", "status"]
    assert lines[1].split(",")[8] == "m1" and "refused,b,gsm_busy" in lines[2]

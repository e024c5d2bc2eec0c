"""Small things a plugin author tripped on (issue 13, item 8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from telephony_core.cli import main
from telephony_core.events import parse_timestamp
from telephony_core.schemas import load

AT = datetime(2026, 11, 29, 5, 4, 17, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    1795928657, "1795928657", 1795928657.0, 1795928657000, "1795928657000",
    "2026-11-29T05:04:17Z", "2026-11-29T05:04:17+00:00", "2026-11-29T10:34:17+05:30",
    "2026-11-29 05:04:17", "2026-11-29T05:04:17"])
def test_timestamps_in_every_vendor_form(value):
    assert parse_timestamp(value) == AT


def test_fractions_and_zones_are_kept():
    assert parse_timestamp("2026-11-29T05:04:17.250Z") == AT + timedelta(milliseconds=250)
    assert parse_timestamp(1795928657250) == AT + timedelta(milliseconds=250)
    assert parse_timestamp("2026-11-29T10:34:17+05:30").utcoffset() == timedelta(hours=5,
                                                                                   minutes=30)
    assert parse_timestamp("2026-11-29T10:34:17+05:30").tzinfo == timezone(
        timedelta(hours=5, minutes=30))


@pytest.mark.parametrize("value", [None, "", 0, "0", "yesterday", True, [1], {"a": 1}, 10**30])
def test_absent_or_unreadable_timestamps_are_none(value):
    assert parse_timestamp(value) is None


def test_schema_canonical_prints_the_catalogue_schema_not_a_provider_narrowing():
    result = CliRunner().invoke(main, ["schema", "--canonical", "dial"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == load("dial")
    narrowed = CliRunner().invoke(main, ["schema", "example", "hangup"])
    assert json.loads(narrowed.output) != load("hangup")  # the example narrows the call id


def test_schema_command_refuses_bad_arguments_in_one_line():
    for args in (["schema", "--canonical", "dail"], ["schema", "dial"],
                 ["schema", "--canonical", "sim", "dial"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_the_expired_token_fault_is_skipped_for_an_emulator_without_sessions():
    from telephony_example.emulator import ExampleEmulator

    from telephony_core.emulation import EmulatorApp
    from telephony_core.testing.suite import _has_sessions

    class Sessionless(EmulatorApp):
        pass

    assert not _has_sessions(Sessionless)  # the kit's no-op expire_tokens is not a session
    assert _has_sessions(ExampleEmulator)

"""telephony demo: the README's main job."""

from __future__ import annotations

import re

from click.testing import CliRunner

from telephony_core.cli import main


def test_the_demo_tours_every_step_on_the_simulator():
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "12 steps ran, 0 skipped." in result.output
    for kind in ("call.ringing", "call.answered", "call.transferred", "extension.status",
                 "prompt.finished", "call.dtmf", "sms.status", "call.hangup", "cdr"):
        assert kind in result.output, kind
    assert "monitoring-listen" in result.output and "monitoring-barge" in result.output
    # the timeline shows simulated time passing between steps
    offsets = [float(m) for m in re.findall(r"\+\s*([0-9.]+)s", result.output)]
    assert offsets == sorted(offsets) and offsets[-1] > 0


def test_an_unknown_provider_fails_with_one_line():
    result = CliRunner().invoke(main, ["demo", "--provider", "nosuch"])
    assert result.exit_code == 1
    assert "no provider named 'nosuch'" in result.output and "Traceback" not in result.output


def test_a_third_party_provider_gets_the_adaptive_tour():
    """The example plugin (examples/) declares only dial, hangup, list_calls and events: the
    tour runs what it can through its emulator and says why it skips the rest."""
    result = CliRunner().invoke(main, ["demo", "--provider", "example"])
    assert result.exit_code == 0, result.output
    assert "6 steps ran, 6 skipped." in result.output
    assert "skipped: example does not support hold" in result.output

"""`telephony demo --provider telecmi`: the tour through this provider against its emulator."""

from __future__ import annotations

from click.testing import CliRunner

from telephony_core.cli import main


def test_the_demo_runs_through_the_emulator_over_http():
    result = CliRunner().invoke(main, ["demo", "--provider", "telecmi"])
    assert result.exit_code == 0, result.output
    assert "(real HTTP)" in result.output
    assert "6 steps ran, 6 skipped." in result.output

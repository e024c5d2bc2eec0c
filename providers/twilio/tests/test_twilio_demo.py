"""`telephony demo --provider twilio`: the tour through this provider against its emulator."""

from __future__ import annotations

from click.testing import CliRunner

from telephony_core.cli import main


def test_the_demo_runs_through_the_emulator_over_http():
    result = CliRunner().invoke(main, ["demo", "--provider", "twilio"])
    assert result.exit_code == 0, result.output
    assert "(real HTTP)" in result.output
    # the tour's forms use extensions and national numbers, which Twilio does not dial (E.164
    # only): the steps say why they are skipped, and the listing steps run
    assert "2 steps ran, 10 skipped." in result.output
    assert "expected tel:+N in E.164" in result.output

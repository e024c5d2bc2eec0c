"""`telephony demo --provider telnyx`: the tour through this provider against its emulator. Most
steps use national numbers and extensions, which Telnyx (E.164 numbers and SIP URIs only) does
not take: they are skipped with the reason, and the others run over HTTP."""

from __future__ import annotations

from click.testing import CliRunner

from telephony_core.cli import main


def test_the_demo_runs_through_the_emulator_over_http():
    result = CliRunner().invoke(main, ["demo", "--provider", "telnyx"])
    assert result.exit_code == 0, result.output
    assert "(real HTTP)" in result.output
    assert "4 steps ran, 8 skipped." in result.output
    assert "expected an address: tel:+E164" in result.output

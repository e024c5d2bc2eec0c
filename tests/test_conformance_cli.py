"""``telephony conformance NAME`` and the pytest plugin's options."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from telephony_example.emulator import ExampleEmulator
from telephony_example.provider import ExampleProvider, _dial
from telephony_example.spec import SPEC as EXAMPLE

import telephony_core
from telephony_core.cli import main
from telephony_core.errors import TransportError
from telephony_core.provider import ProviderSpec
from telephony_core.results import CallRef
from telephony_core.testing.cli import conformance_command

pytest_plugins = ["pytester"]


def test_a_conformant_provider_exits_zero_and_writes_the_report(tmp_path):
    report = tmp_path / "r.json"
    result = CliRunner().invoke(conformance_command, [
        "example", "--report", str(report), "-k", "test_entry_point or test_fault and dial"])
    assert result.exit_code == 0, result.output
    assert "conformance example (conformance): PASSED" in result.output
    data = json.loads(report.read_text())
    assert data["fixtures"] == "telephony_example.conformance:Fixtures"
    assert set(data["operations"]["dial"]) == {f"faults.{kind}{f}" for f in (
        "delay", "reset_before_read", "reset_after_read", "http_error", "malformed_body",
        "truncated_body", "expired_token", "garbage_reply", "truncated_head", "redirect",
        "trickle", "stall", "oversize") for kind in ("", "async.")}  # through both clients
    assert all(e["outcome"] == "passed" for e in data["operations"]["dial"].values())


def _dial_twice(provider, payload):
    """An Exchange that yields the dial again after a failed send: a second call."""
    request = _dial(provider, payload)
    try:
        reply = yield request
    except TransportError:
        reply = yield request
    return CallRef(provider.name, provider.decode(reply, None)["id"])


class _Retrying(ExampleProvider):
    routes = {**ExampleProvider.routes, "dial": _dial_twice}


class _Emulator(ExampleEmulator):
    def connect_url(self, base_url):
        return super().connect_url(base_url).replace("example://", "example-cli-broken://")


@pytest.fixture
def broken():
    spec = ProviderSpec(name="example-cli-broken", title="retries dials", package=EXAMPLE.package,
                        implementation=_Retrying, operations=dict(EXAMPLE.operations),
                        config_schema=EXAMPLE.config_schema, plugin_api=EXAMPLE.plugin_api,
                        emulator=lambda pbx=None, password="x": _Emulator(pbx, password=password))
    telephony_core.register(spec, replace=True)
    yield spec.name
    telephony_core.unregister(spec.name)


def test_a_failing_property_exits_non_zero(broken):
    result = CliRunner().invoke(main, [
        "conformance", broken, "--fixtures", "telephony_example.conformance:Fixtures",
        "-k", "test_fault and dial and reset_after_read"])
    assert result.exit_code == 1, result.output
    # the sync and the async client both catch it
    assert f"conformance {broken} (conformance): FAILED: 0 passed, 2 failed" in result.output
    assert "sent 2 times" in result.output


def test_an_unknown_provider_is_an_error_not_a_traceback():
    result = CliRunner().invoke(conformance_command, ["no-such-provider"])
    assert result.exit_code == 1
    assert "ProviderNotFound" in result.output and "example" in result.output
    assert "Traceback" not in result.output


def test_the_profile_option_reaches_the_fixture(pytester):
    pytester.makepyfile(test_profile="""
        def test_profile(conformance_profile, conformance_settings):
            assert conformance_profile == "nightly"
            assert conformance_settings.max_examples >= 100
    """)
    result = pytester.runpytest_inprocess("--conformance-profile", "nightly", "-p",
                                          "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_environment_chooses_the_profile_and_bad_names_are_refused(pytester, monkeypatch):
    pytester.makepyfile(test_profile="""
        def test_profile(conformance_profile):
            assert conformance_profile == "nightly"
    """)
    monkeypatch.setenv("TELEPHONY_CONFORMANCE_PROFILE", "nightly")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    monkeypatch.setenv("TELEPHONY_CONFORMANCE_PROFILE", "weekly")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*TELEPHONY_CONFORMANCE_PROFILE='weekly'*"])


def test_the_plugin_leaves_other_tests_alone():
    """Loaded into every pytest run, the plugin changes nothing for tests that are not
    conformance tests (this one), and imports nothing from the library."""
    import subprocess
    import sys

    from telephony_core import registry

    assert registry.strict is False
    probe = ("import sys, telephony_core_pytest; "
             "print(sorted(m for m in sys.modules if m.startswith('telephony_core.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_conformance_tests_load_providers_strictly(pytester):
    pytester.makepyfile(test_strict="""
        from telephony_core import registry
        from telephony_core.testing import ProviderFixtures

        def test_plain():
            assert registry.strict is False

        class TestStrict(ProviderFixtures):
            provider = "sim"

            def test_inside(self):
                assert registry.strict is True

        def test_plain_after():
            assert registry.strict is False
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_a_nested_run_leaves_the_outer_profile_alone(pytester):
    from telephony_core.testing import plugin

    before = plugin.selected_profile
    pytester.makepyfile(test_x="def test_x(): pass")
    pytester.runpytest_inprocess("--conformance-profile", "nightly", "-p", "no:cacheprovider")
    assert plugin.selected_profile == before


def test_per_capability_suites_run_only_their_operations_and_skip_with_the_reason(pytester):
    pytester.makepyfile(test_caps="""
        from telephony_core.testing import CAPABILITY_SUITES
        from telephony_example.conformance import Fixtures

        class TestDial(Fixtures, CAPABILITY_SUITES["dial"]):
            pass

        class TestHold(Fixtures, CAPABILITY_SUITES["hold"]):
            pass
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", "-k",
                                          "not test_fault or reset_after_read")
    # 2 x 2 provider-wide + 7 for dial (outcomes and the fault through both clients); hold's
    # undeclared operations skip 2 x 7
    result.assert_outcomes(passed=11, skipped=14)
    result.stdout.fnmatch_lines(["*example does not declare 'hold' (capability hold)*"])
    assert "[transfer]" not in result.stdout.str()


def test_an_empty_selection_fails_with_a_message():
    result = CliRunner().invoke(conformance_command, ["example", "-k", "nothingmatches"])
    assert result.exit_code == 1
    assert "no test matches -k 'nothingmatches'" in result.stderr
    assert "FAILED" in result.output


def test_the_summary_groups_skip_reasons_and_leaves_the_directory_clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(conformance_command,
                                ["example", "-k", "test_undeclared or test_schema_narrows"])
    assert result.exit_code == 0, result.output
    assert ("  skipped 12: example does not declare the operation (accept_call, "
            "get_music_on_hold, hold, monitor, mute, play_prompt, reject_call, send_sms, "
            "set_music_on_hold, transfer, unhold, unmute)") in result.output
    assert "PytestAssertRewriteWarning" not in result.output
    assert list(tmp_path.iterdir()) == []  # no .hypothesis/ left in the caller's directory


def test_a_missing_extra_is_one_line_naming_the_install_command():
    import subprocess
    import sys

    # what an environment without the testing extra sees: hypothesis and pytest do not import
    probe = ("import sys; sys.modules['hypothesis'] = None; sys.modules['pytest'] = None; "
             "from telephony_core.cli import main; main(['conformance', 'example'])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "pip install 'telephony-core[testing]'" in lines[0]

"""The capability matrix: generated from declarations, third-party providers included."""

from __future__ import annotations

import json

from click.testing import CliRunner

from telephony_core import matrix
from telephony_core.cli import main


def test_a_registered_provider_gets_a_column_and_derived_details(loopback_spec):
    text = matrix.render_matrix(matrix.installed_specs())
    header = next(line for line in text.splitlines() if line.startswith("| capability"))
    assert "loopback" in header and "sim" in header
    column = header.split(" | ").index("loopback")
    dial_row = next(line for line in text.splitlines() if line.startswith("| dial | `dial`"))
    assert dial_row.split(" | ")[column] == "yes"
    assert "- **loopback**: as the catalogue" in text  # no details, canonical schema


def test_narrowed_schemas_are_described():
    infinity_like = {"properties": {"to": {"pattern": "^(tel:\\+?[0-9]{1,20})$"},
                                    "prompts": {"type": "array", "minItems": 1, "maxItems": 1}},
                     "required": ["to", "prompts", "menu"]}
    assert matrix.describe_schema("play_prompt", infinity_like) == (
        "to tel; exactly 1 prompts; requires menu; no auto_answer, caller_id, menu, "
        "permission_extension, reference")


def test_check_fails_when_the_committed_matrix_is_stale(tmp_path, loopback_spec):
    target = tmp_path / "matrix.md"
    assert matrix.main(["--write", str(target)]) == 0
    assert matrix.main(["--check", str(target)]) == 0
    target.write_text(target.read_text().replace("loopback", "someone-else"))
    assert matrix.main(["--check", str(target)]) == 1


def test_cli_prints_the_same_matrix(loopback_spec):
    out = CliRunner().invoke(main, ["providers", "--matrix"])
    assert out.exit_code == 0
    assert out.output.strip() == matrix.render_matrix(matrix.installed_specs()).strip()
    rows = json.loads(CliRunner().invoke(main, ["providers", "--json"]).output)
    assert {r["name"] for r in rows} >= {"sim", "loopback"}

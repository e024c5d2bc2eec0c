"""Generate docs/_generated/{operations,cli}.md from the code (run by conf.py at build time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from telephony_core.catalogue import OPERATIONS
from telephony_core.cli import LAZY_COMMANDS, main
from telephony_core.provider import load_object


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "description" in schema:
        return schema["description"].replace("|", "\\|")
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    kind = schema.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def operations_page() -> str:
    lines = ["# Operation reference", "",
             "Generated from the canonical JSON Schemas in `telephony_core/schemas/`. A provider's "
             "schema may only narrow these (`telephony schema PROVIDER OP` prints its own).", ""]
    for name, op in OPERATIONS.items():
        schema = op.schema
        result = f"list of `{op.result.__name__}`" if op.returns_list else f"`{op.result.__name__}`"
        lines += [f"## `{name}`", "", f"{op.summary.capitalize()}. Capability `{op.capability}`, "
                  f"kind **{op.kind}**, returns {result}.", "",
                  "| field | required | what |", "|---|---|---|"]
        required = set(schema.get("required", []))
        for field, prop in schema.get("properties", {}).items():
            lines.append(f"| `{field}` | {'yes' if field in required else ''} | {_type(prop)} |")
        lines += ["", "<details><summary>JSON Schema</summary>", "", "```json",
                  json.dumps(schema, indent=2), "```", "", "</details>", ""]
    return "\n".join(lines)


def cli_page() -> str:
    lines = ["# CLI reference", "", "Generated from the `telephony` command's own help.", ""]
    commands = {**{n: main.commands[n] for n in main.commands},
                **{n: load_object(target) for n, (target, _) in LAZY_COMMANDS.items()}}
    with click.Context(main, info_name="telephony") as root:
        lines += ["## `telephony`", "", "```text", main.get_help(root), "```", ""]
        for name in sorted(commands):
            command = commands[name]
            with click.Context(command, info_name=name, parent=root) as ctx:
                lines += [f"## `telephony {name}`", "", "```text", command.get_help(ctx), "```",
                          ""]
    return "\n".join(lines)


def write_references(target: Path) -> None:
    target.mkdir(exist_ok=True)
    for name, text in (("operations.md", operations_page()), ("cli.md", cli_page())):
        path = target / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)

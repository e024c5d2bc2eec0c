"""The PBX set-up: what exists (extensions, trunks, IVRs...), loaded from TOML or JSON.

A set-up file replaces the default whole; each table is checked, and a mistake is a
ConfigurationError naming the key (``extensions[2].monitor_mode``) and what was expected.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from ..addresses import AddressError, parse
from ..errors import ConfigurationError

__all__ = ["MONITOR_MODES", "Extension", "Setup", "Trunk", "load_setup"]

MONITOR_MODES = ("extensive", "listen", "whisper", "barge", "disabled")


@attrs.define
class Extension:
    number: str
    name: str = ""
    registered: bool = True
    dnd: bool = False
    monitor_mode: str = "disabled"
    allow_monitoring: bool = True
    outbound: bool = True


@attrs.define
class Trunk:
    name: str
    kind: str = "sip"
    channels: int = 4


@attrs.frozen
class Setup:
    extensions: dict[str, Extension]
    trunks: dict[str, Trunk]
    ivrs: dict[str, dict[str, Any]]
    queues: dict[str, list[str]]
    ringgroups: dict[str, list[str]]
    groups: dict[str, list[str]]
    prompts: frozenset[str]
    inbound_default: str
    inbound_routes: dict[str, str]
    moh_users: frozenset[tuple[str, str, str]]
    sms_max_length: int


def _fail(key: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"simulator set-up: {key}: {problem}", key=key, provider="sim")


def _str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}.{key}", f"expected a non-empty string, got {value!r}")
    return value


def _digits(table: Mapping[str, Any], key: str, where: str) -> str:
    value = _str(table, key, where)
    if not value.isdigit():
        raise _fail(f"{where}.{key}", f"expected digits, got {value!r}")
    return value


def _bool(table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"{where}.{key}", f"expected true or false, got {value!r}")
    return value


def _address(value: Any, where: str) -> str:
    try:
        return str(parse(value, "ext", "tel", "ivr", "queue", "ringgroup", "group"))
    except AddressError as exc:
        raise _fail(where, str(exc)) from None


def _members(table: Mapping[str, Any], key: str, where: str, known: Mapping[str, Any]) -> list[str]:
    members = table.get(key, [])
    if not isinstance(members, list):
        raise _fail(f"{where}.{key}", f"expected a list of extension numbers, got {members!r}")
    for member in members:
        if member not in known:
            raise _fail(f"{where}.{key}", f"{member!r} is not an extension of the set-up")
    return list(members)


def _tables(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = data.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise _fail(key, "expected a list of tables ([[" + key + "]] in TOML)")
    return rows


def build_setup(data: Mapping[str, Any]) -> Setup:
    extensions: dict[str, Extension] = {}
    for i, row in enumerate(_tables(data, "extensions")):
        where = f"extensions[{i}]"
        mode = row.get("monitor_mode", "disabled")
        if mode not in MONITOR_MODES:
            raise _fail(f"{where}.monitor_mode", f"expected one of {', '.join(MONITOR_MODES)}, "
                                                 f"got {mode!r}")
        number = _digits(row, "number", where)
        extensions[number] = Extension(
            number, row.get("name", ""), _bool(row, "registered", where, True),
            _bool(row, "dnd", where, False), mode,
            _bool(row, "allow_monitoring", where, True), _bool(row, "outbound", where, True))
    trunks: dict[str, Trunk] = {}
    for i, row in enumerate(_tables(data, "trunks")):
        where = f"trunks[{i}]"
        kind = row.get("kind", "sip")
        if kind not in ("sip", "gsm"):
            raise _fail(f"{where}.kind", f"expected 'sip' or 'gsm', got {kind!r}")
        channels = row.get("channels", 4 if kind == "sip" else 1)
        if not isinstance(channels, int) or channels < 1:
            raise _fail(f"{where}.channels", f"expected a positive whole number, got {channels!r}")
        trunks[_str(row, "name", where)] = Trunk(_str(row, "name", where), kind, channels)
    ivrs = {}
    for i, row in enumerate(_tables(data, "ivrs")):
        where = f"ivrs[{i}]"
        menu = {str(k): _address(v, f"{where}.menu.{k}") for k, v in row.get("menu", {}).items()}
        ivrs[_digits(row, "number", where)] = {"prompt": row.get("prompt"), "menu": menu}
    queues = {_digits(r, "number", f"queues[{i}]"): _members(r, "agents", f"queues[{i}]",
                                                             extensions)
              for i, r in enumerate(_tables(data, "queues"))}
    ringgroups = {_digits(r, "number", f"ringgroups[{i}]"):
                  _members(r, "members", f"ringgroups[{i}]", extensions)
                  for i, r in enumerate(_tables(data, "ringgroups"))}
    groups = {_str(r, "name", f"groups[{i}]"): _members(r, "members", f"groups[{i}]", extensions)
              for i, r in enumerate(_tables(data, "groups"))}
    prompts = data.get("prompts", {}).get("names", [])
    inbound = data.get("inbound", {})
    moh_users = frozenset(
        (_str(r, "tenant", f"moh_users[{i}]"), _str(r, "group", f"moh_users[{i}]"),
         _str(r, "user", f"moh_users[{i}]")) for i, r in enumerate(_tables(data, "moh_users")))
    max_length = data.get("sms", {}).get("max_length", 2000)
    if not isinstance(max_length, int) or max_length < 1:
        raise _fail("sms.max_length", f"expected a positive whole number, got {max_length!r}")
    return Setup(
        extensions, trunks, ivrs, queues, ringgroups, groups, frozenset(prompts),
        _address(inbound.get("default", "ivr:6500"), "inbound.default"),
        {str(k): _address(v, f"inbound.routes.{k}") for k, v in inbound.get("routes", {}).items()},
        moh_users, max_length)


def load_setup(path: str | Path | None = None) -> Setup:
    """The default set-up, or the TOML/JSON file at ``path``."""
    if path is None:
        text = resources.files("telephony_core").joinpath("sim/default.toml").read_text("utf-8")
        return build_setup(tomllib.loads(text))
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise _fail("setup", f"cannot read {str(file)!r}: {exc.strerror}") from None
    try:
        data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise _fail("setup", f"{str(file)!r} is not valid {file.suffix[1:] or 'TOML'}: {exc}") \
            from None
    return build_setup(data)

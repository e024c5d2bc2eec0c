"""Endpoint addresses: short URI strings such as ``ext:1002`` or ``tel:+4915112345678``.

Strings (not objects) travel in payloads so they read the same in Python, JSON, TOML and on a
command line. This module is the one place that knows their grammar; the JSON Schemas in
``schemas/defs.json`` carry the same patterns so that validation and Hypothesis generation agree
with :func:`parse`.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["KINDS", "Address", "AddressError", "describe", "parse"]


class AddressError(ValueError):
    """The text is not an address of the expected kind; the message says what was expected."""


#: kind -> (regular expression for the value, what a user should write)
KINDS: dict[str, tuple[str, str]] = {
    "ext": (r"[0-9]{1,10}", "ext:N with N the extension number (digits), e.g. ext:1002"),
    "tel": (r"\+?[0-9]{1,20}", "tel:N with N digits and an optional leading +, e.g. tel:41000"),
    "ivr": (r"[0-9]{1,10}", "ivr:N with N the IVR number (digits), e.g. ivr:6500"),
    "queue": (r"[0-9]{1,10}", "queue:N with N the queue number (digits), e.g. queue:6700"),
    "ringgroup": (r"[0-9]{1,10}", "ringgroup:N with N the ring group number, e.g. ringgroup:6200"),
    "group": (r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
              "group:NAME with a name of letters, digits, '_', '.', '-', e.g. group:extGroup-1"),
    "sip": (r"[A-Za-z0-9_.!~*'()&=+$,;?/%-]+@[A-Za-z0-9.-]+(:[0-9]{1,5})?",
            "sip:user@host, e.g. sip:alice@example.com"),
    "call": (r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}",
             "call:ID with the provider's call id, e.g. call:1495700976.275"),
}

_COMPILED = {kind: re.compile(rf"{body}\Z") for kind, (body, _) in KINDS.items()}


def pattern(*kinds: str) -> str:
    """The anchored regular expression (JSON Schema ``pattern``) admitting these kinds."""
    alts = "|".join(f"{k}:{KINDS[k][0]}" for k in kinds)
    return f"^({alts})$"


def describe(*kinds: str) -> str:
    """What a user should write, for error messages."""
    if len(kinds) == 1:
        return KINDS[kinds[0]][1]
    return "an address of kind " + ", ".join(f"{k}:" for k in kinds) + " (e.g. ext:1002, tel:41000)"


def kinds_of_pattern(regex: str) -> tuple[str, ...] | None:
    """The kinds a schema pattern built by :func:`pattern` admits, or None for other patterns."""
    kinds = tuple(re.findall(r"(?<=[(|])([a-z]+):", regex))
    if kinds and all(k in KINDS for k in kinds) and pattern(*kinds) == regex:
        return kinds
    return None


@attrs.frozen
class Address:
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def is_number(self) -> bool:
        return self.kind == "tel"


def parse(text: str, *kinds: str) -> Address:
    """Parse ``text``; with ``kinds`` given, only those are admitted.

    >>> parse("ext:1002")
    Address(kind='ext', value='1002')
    """
    admitted = kinds or tuple(KINDS)
    if not isinstance(text, str):
        raise AddressError(f"{text!r} is not an address: expected a string such as "
                           f"{describe(*admitted)}")
    kind, sep, value = text.partition(":")
    if not sep or kind not in KINDS:
        raise AddressError(f"{text!r} is not an address: expected {describe(*admitted)}")
    if kind not in admitted:
        raise AddressError(f"{text!r} is a {kind}: address, but here expected "
                           f"{describe(*admitted)}")
    if not _COMPILED[kind].match(value):
        raise AddressError(f"{text!r} is not a valid {kind}: address: expected {KINDS[kind][1]}")
    return Address(kind, value)


def format_address(kind: str, value: str | int) -> str:
    """Build an address string, checking it: ``format_address("ext", 1002) == "ext:1002"``."""
    text = f"{kind}:{value}"
    parse(text, kind)
    return text

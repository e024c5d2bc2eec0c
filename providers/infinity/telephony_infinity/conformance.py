"""What the conformance suite needs to know about infinity: the documented samples' credentials
and, per sample, the state of the emulator's model and account it assumes.
``telephony conformance infinity`` finds this module."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from telephony_core.testing import ProviderFixtures


def _agent_on_a_call(session: Any) -> None:
    """Agent 1001 talking to a number: what the SpyCall samples monitor."""
    pbx = session.pbx
    pbx.dial("ext:1001", "tel:13333333333")
    pbx.answer("ext:1001")
    pbx.answer("tel:13333333333")


def _set(name: str, value: Any) -> Callable[[Any], None]:
    return lambda session: setattr(session.app, name, value)


#: sample name (its start) -> what to prepare, and the substitutions to send it with
PREPARE: tuple[tuple[str, Callable[[Any], None] | None, Mapping[Any, Any]], ...] = (
    ("monitor listen", _agent_on_a_call, {}),
    ("monitor whisper: listen", _agent_on_a_call, {}),
    # the switch asks for agent 1002, who is in no call: 1015
    ("monitor whisper: the switch refused", _agent_on_a_call,
     {2: {"form.destnumber": "1002"}}),
    ("errors.code 1010 (extension exception)",
     lambda s: s.app.added_after_login("1001", logins=1), {}),
    ("errors.code 1010 again", lambda s: s.app.added_after_login("1001", logins=2), {}),
    ("ret 600", None, {1: {"form.token": "a-token-that-expired"}}),
    ("ret 601", _set("authorised", False), {}),
    ("ret 602", _set("expired", True), {}),
    ("ret 603", _set("unlicensed", {"App.Sip_Call.MakeCall"}), {}),
    ("ret 604", _set("allowed_ips", {"192.0.2.10"}), {}),
    ("ret 400", None, {1: {"form.destnumber": ""}}),
    ("errors.code 1012", None, {1: {"form.extnumber": "1999"}}),
    # 1001 already ringing on another call: the model refuses, Infinity's 1003
    ("errors.code 1003", lambda s: s.pbx.dial("ext:1001", "tel:41000"), {}),
)


class Fixtures(ProviderFixtures):
    provider = "infinity"
    documented_emulator_options = {"appid": "ABCDEFG", "password": "ABCDEFG"}

    def prepare_documented(self, session: Any, exchange: Any) -> Mapping[Any, Any] | None:
        for start, prepare, substitutions in PREPARE:
            if exchange.name.startswith(start):
                if prepare is not None:
                    prepare(session)
                return substitutions
        return None

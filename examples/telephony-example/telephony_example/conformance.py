"""What the conformance suite needs to know about the example provider.

``telephony conformance example`` finds this ``Fixtures`` class by convention
(``PACKAGE.conformance:Fixtures``); the package's own tests subclass it too.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from telephony_core.testing import ProviderFixtures


def live_call(session: Any) -> dict[str, Any]:
    """Place a call first, so that hangup has something to end (ending any call a previous
    example left up, so that the preparation can run before every example)."""
    for call_id in list(session.pbx.calls):
        with contextlib.suppress(Exception):
            session.pbx.hangup(f"call:{call_id}")
    ref = session.client.dial(caller="ext:1000", callee="ext:1001")
    return {"call": f"call:{ref.call_id}"}


#: the call id the documented samples (API.md) use
DOCUMENTED_CALL = "1495700000.101"


class Fixtures(ProviderFixtures):
    provider = "example"
    #: the simulator's default set-up (telephony_core/sim/default.toml)
    known_addresses = ("ext:1000", "ext:1001", "ext:1002", "ext:1003", "ext:1004", "ext:1005",
                       "tel:41000", "tel:5551000")
    samples = {
        "dial": {"caller": "ext:1000", "callee": "tel:41000"},
        "hangup": live_call,
        "list_calls": {},
    }
    #: the PBX's published API description: every request and reply of the suite is checked
    vendor_spec = str(Path(__file__).with_name("openapi.json"))

    def prepare_documented(self, session: Any, exchange: Any) -> dict[str, Any] | None:
        """The model state each documented sample (tests/documented/example.json) assumes."""
        if exchange.name == "dial: the caller is busy":
            session.pbx.dial("ext:1000", "ext:1002")  # 1000 is on a call already
        elif exchange.operation in ("hangup", "list_calls") and "unknown" not in exchange.name:
            # the sample's live call; a minute later than the model's start, so that its id
            # differs from the documented one and a replayed reply would show
            session.pbx.clock.advance(60)
            call = session.pbx.dial("ext:1000", "tel:41000")
            return {DOCUMENTED_CALL: call.id}
        return None

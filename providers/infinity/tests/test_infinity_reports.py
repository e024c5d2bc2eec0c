"""The Infinity emulator's own reports against the documented samples' shapes.

The conformance kit (``telephony_core.testing.documented``, run by the conformance suite) checks
every documented exchange in both directions; what it cannot see is what the emulator *sends*
(callbacks, webhooks). These tests compare those with the documented callback samples: same keys,
same JSON types.
"""

from __future__ import annotations

import json
from pathlib import Path

from telephony_core.emulation import start_emulator
from telephony_core.testing.documented import documented_bodies, shape_of

SAMPLES = documented_bodies(Path(__file__).parent / "documented")


def test_the_emulators_callbacks_have_the_documented_shapes(webhook_receiver):
    """Seed 003's extension-status and CDR callback samples: same keys, same JSON types."""
    receiver, app = webhook_receiver
    status = SAMPLES["extension status callback: ring (seed 003)"]
    cdr = SAMPLES["CDR callback (seed 003): reference from customuuid, the key pressed in data"]
    server = start_emulator("infinity", callback_url=receiver.url + "/cdr",
                            status_url=receiver.url + "/status")
    try:
        pbx = server.app.pbx
        pbx.dial("ext:1001", "tel:13333333333", reference="r-1")
        pbx.answer("ext:1001")
        pbx.answer("tel:13333333333")
        pbx.clock.advance(7)
        pbx.far_hangup("tel:13333333333")
        server.app.status_sender.wait(5)
        server.app.cdr_sender.wait(5)
        bodies = [json.loads(b) for b in app.bodies]
        statuses = [b for b in bodies if "status" in b]
        [record] = [b for b in bodies if "billsec" in b]
        assert [b["status"] for b in statuses] == ["ring", "answer", "ring", "answer", "hangup"]
        for body in statuses:
            assert shape_of(status, body) == [], body
        assert shape_of(cdr, record) == [], record
        assert record["customuuid"] == "r-1" and record["billsec"] == 7
        assert record["starttime"] and record["answertime"] and record["endtime"]
    finally:
        server.stop()

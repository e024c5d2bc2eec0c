"""A typical application type-checks strictly: ``mypy --strict --follow-imports=silent
--disallow-any-expr`` passes on code using the typed methods (no ``Any`` reaches it), and the
same check catches a misspelt closed-set value, so the Literal types do work for users."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

APP = textwrap.dedent('''
    from __future__ import annotations

    import asyncio

    import telephony_core
    from telephony_core import CallRef, Client, Event, ProviderError
    from telephony_core.errors import OutcomeUnknown, TransportError
    from telephony_core.results import CallState
    from telephony_core.web import status_for


    def place(client: Client) -> CallRef:
        client.require("dial", "hold")
        ref = client.dial(caller="ext:1000", callee="ext:1001")
        payload: dict[str, str] = {"caller": "ext:1002", "callee": "ext:1003"}
        again: CallRef = client.invoke("dial", payload)
        return ref if ref.call_id else again


    def states(client: Client) -> list[CallState]:
        held: list[CallState] = []
        for info in client.list_calls(direction="inbound"):
            if info.state == "held":
                held.append(info.state)
        return held


    def supervise(client: Client) -> int:
        try:
            client.monitor("ext:1005", "ext:1000", "whisper")
            client.hold("ext:1000", leg="inbound")
        except ProviderError as exc:
            category: str = exc.category
            return status_for(exc) if category != "busy" else 409
        except OutcomeUnknown as exc:
            reason: str = exc.reason
            return 504 if reason else 500
        except TransportError as exc:
            return 502 if exc.request_sent else 503
        return 200


    def on_report(client: Client, body: bytes, headers: dict[str, str]) -> list[str]:
        events: list[Event] = client.parse_event(body, headers)
        return [event.kind for event in events if event.call_id is not None]


    async def many() -> list[str]:
        async with telephony_core.connect_async("sim://") as client:
            refs = await asyncio.gather(client.dial("ext:1000", "tel:41001"),
                                        client.dial("ext:1001", "tel:41002"))
            return [ref.call_id or "(no id)" for ref in refs]


    with telephony_core.connect("sim://") as client:
        print(place(client).call_id, states(client), supervise(client))
''')

BAD = textwrap.dedent('''
    import telephony_core

    with telephony_core.connect("sim://") as client:
        client.monitor("ext:1005", "ext:1000", "spy")
        client.list_calls(direction="sideways")
''')


def test_a_typical_application_passes_strict_mypy_and_a_typo_does_not(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "bad.py").write_text(BAD)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--disallow-any-expr", "--no-incremental", "--python-version", "3.11",
         "--config-file", "/dev/null", "app.py", "bad.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        # an editable install is an import hook mypy cannot follow: point it at the checkout
        env={**os.environ, "MYPYPATH": ROOT})
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [e for e in errors if e.startswith("app.py")] == [], done.stdout
    bad = [e for e in errors if e.startswith("bad.py")]
    assert len(bad) == 2, done.stdout
    assert "Literal['spy']" in bad[0] and "Literal['sideways']" in bad[1]

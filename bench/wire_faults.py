"""Wire safety under faults, measured: duplicates, deadline overrun, memory, leaked secrets.

    .venv/bin/python bench/wire_faults.py [--rounds N]

For each vendor provider's emulator and each fault of the emulation kit, a non-idempotent
operation is sent ``rounds`` times with the fault injected on its request; a *duplicate* is a
round in which the emulator recorded the operation's request more than once. Then the worst
overrun of the deadline under a trickling and a stalling server, the peak memory of a client
meeting a 200 MB reply, and how often a known secret appears in any surface of the errors.
Nothing is asserted: the figures go into docs/performance.md by hand with the command.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
import traceback
import tracemalloc

import telephony_core
from telephony_core.emulation import WIRE_FAULTS, Fault, emulated
from telephony_core.errors import TelephonyError
from telephony_core.redaction import SECRETS

OPERATIONS = {
    "yeastar": ("dial", {"caller": "ext:1000", "callee": "ext:1001"}),
    "telecmi": ("play_prompt", {"to": "tel:19170000001", "prompts": ["welcome_11112.wav"],
                                "caller_id": "19170000000"}),
    "infinity": ("play_prompt", {"to": "tel:13333333333", "prompts": ["hello111"],
                                 "menu": {"1": "group:extGroup-1"}}),
}

FAULTS = (Fault.reset_after_read(), Fault.truncated_body(), Fault.malformed_body(),
          Fault.delay(0.6), *WIRE_FAULTS)


def surfaces(error: BaseException) -> str:
    parts, current, seen = [], error, set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def probe_payload(name: str) -> tuple[str, dict]:
    op, payload = OPERATIONS[name]
    return op, dict(payload)


def duplicates(name: str, rounds: int, capture: Capture) -> tuple[int, int, int]:
    """(faulted sends, duplicates, secret appearances) for provider ``name``."""
    op, payload = probe_payload(name)
    sends = dups = leaks = 0
    with emulated(name, client_options={"timeout": 0.3, "connect_timeout": 0.5,
                                        "deadline": 1.5}) as emu:
        emu.client.invoke(op, payload)  # logs in, learns the path
        path = emu.server.requests[-1].path
        secrets = [s for s in SECRETS._counts if len(s) >= 4]
        for fault in FAULTS:
            for _ in range(rounds):
                emu.server.clear()
                emu.server.clear_faults()
                emu.server.inject(fault, path=path, times=None)
                try:
                    emu.client.invoke(op, payload)
                except TelephonyError as exc:
                    text = surfaces(exc)
                    leaks += sum(text.count(s) for s in secrets)
                except Exception as exc:  # a raw exception is a defect: count it loudly
                    print(f"  {name} {fault}: raw {type(exc).__name__}")
                sends += 1
                if len(emu.server.requests_to(path)) > 1:
                    dups += 1
        emu.server.clear_faults()
    leaks += sum(line.count(s) for line in capture.lines for s in secrets)
    capture.lines.clear()
    return sends, dups, leaks


def overrun(fault: Fault) -> float:
    """Seconds past a 1 s deadline that a list_calls against the yeastar emulator took."""
    with emulated("yeastar", client_options={"timeout": 60, "deadline": 1.0}) as emu:
        emu.client.list_calls()
        path = emu.server.requests[-1].path
        emu.server.inject(fault, path=path, times=None)
        started = time.monotonic()
        with contextlib.suppress(TelephonyError):
            emu.client.list_calls()
        return time.monotonic() - started - 1.0


def oversize_peak() -> float:
    """Peak MB allocated by a client meeting a 200 MB reply."""
    with emulated("yeastar", client_options={"deadline": 30}) as emu:
        emu.client.list_calls()
        path = emu.server.requests[-1].path
        emu.server.inject(Fault.oversize(200 * 1024 * 1024), path=path, times=None)
        tracemalloc.start()
        try:
            with contextlib.suppress(TelephonyError):
                emu.client.list_calls()
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    capture = Capture()
    logging.getLogger().addHandler(capture)
    logging.getLogger().setLevel(logging.DEBUG)
    print(f"telephony_core {telephony_core.__file__}")
    total_sends = total_dups = total_leaks = 0
    for name in OPERATIONS:
        sends, dups, leaks = duplicates(name, args.rounds, capture)
        total_sends, total_dups, total_leaks = (total_sends + sends, total_dups + dups,
                                                total_leaks + leaks)
        print(f"{name}: {dups} duplicates in {sends} faulted non-idempotent sends; "
              f"{leaks} secret appearances")
    print(f"all: {total_dups} duplicates in {total_sends}; {total_leaks} secret appearances")
    for fault in (Fault.trickle(0.05), Fault.stall(30.0)):
        worst = max(overrun(fault) for _ in range(3))
        print(f"deadline overrun under {fault}: worst {worst * 1000:.0f} ms over 3 runs")
    print(f"peak memory meeting a 200 MB reply: {oversize_peak():.1f} MB")


if __name__ == "__main__":
    main()

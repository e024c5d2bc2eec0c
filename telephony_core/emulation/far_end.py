"""The far end of ``telephony emulate``: a person (or a script) plays the phones and the callers.

An emulator is a vendor's API over the shared PBX model (:class:`telephony_core.sim.Pbx`); the
application drives it through the API, and something must play the other side: pick up a
ringing phone, hang up, press a key, call in. :class:`FarEnd` turns one text command into a
call on the model and an :class:`Outcome` (a line for a person, a dict for ``--json``); it needs
no terminal, so it is tested directly. Commands (``help`` prints them)::

    calls                   live calls: id, direction, state, parties
    answer PARTY            a ringing phone picks up          (answer 1001, answer tel:41000)
    hangup PARTY            a party hangs up
    reject PARTY            a ringing phone declines
    press PARTY KEY         a party presses 0-9, * or #
    incoming FROM TO        an outside caller FROM dials the number TO (offered to the app)
    advance SECONDS         move the model's clock ahead (ring timeouts, prompts, offer windows)
    help / quit

A PARTY is an address (``ext:1001``, ``tel:41000``) or a bare number: an extension of the
set-up when one has that number, an outside number otherwise.

Time while ``emulate`` runs: :class:`WallClock` advances the model's clock with wall time
(every 0.1 s), so a 30-second ring timeout or a 5-second prompt happens as it would on a real
system; ``advance`` jumps ahead of wall time (the clock then stays that far ahead). The model's
clock starts at the wall time ``emulate`` started (:func:`start_at_wall_time`), so reports carry
today's timestamps. :class:`AutoAnswer` answers every ringing party after a delay in wall
seconds (which, with the clock following wall time, is the same on the model's clock).

Every model call takes the model's lock (:attr:`Pbx.lock`), the one the emulator's request
handlers take, so a command never interleaves with an API request.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from ..addresses import AddressError, parse
from ..errors import TelephonyError
from ..results import Event

__all__ = ["COMMANDS", "AutoAnswer", "FarEnd", "Outcome", "WallClock", "event_record",
           "start_at_wall_time"]

#: command -> (arguments, what it does), in the order ``help`` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "calls": ("", "list the live calls: id, direction, state, each party and its state"),
    "answer": ("PARTY", "a ringing phone picks up (answer 1001, answer tel:41000)"),
    "hangup": ("PARTY", "a party hangs up, ending the call"),
    "reject": ("PARTY", "a ringing phone declines the call"),
    "press": ("PARTY KEY", "a party in a call presses a key (0-9, *, #)"),
    "incoming": ("FROM TO", "an outside caller FROM dials the number TO (e.g. incoming "
                            "5559999 5551000)"),
    "advance": ("SECONDS", "move the model's clock ahead: ring timeouts, prompts, offer windows"),
    "help": ("", "this list"),
    "quit": ("", "stop the emulator"),
}

_KEYS = frozenset("0123456789*#")
_MAX_ADVANCE = 7 * 86400.0


@attrs.frozen
class Outcome:
    """What one command did: ``text`` for a person, :meth:`record` for ``--json``."""

    command: str
    ok: bool
    text: str
    data: Mapping[str, Any] = attrs.field(factory=dict)
    quit: bool = False

    def record(self) -> dict[str, Any]:
        """One JSON line: ``{"type": "result", "command", "ok", ...data}`` (``error`` when not
        ok)."""
        out: dict[str, Any] = {"type": "result", "command": self.command, "ok": self.ok}
        out.update(self.data)
        if not self.ok:
            out["error"] = self.text
        return out


def event_record(event: Event) -> dict[str, Any]:
    """One JSON line for an event the model emitted: the sim's webhook body (what
    ``connect("sim://").parse_event`` reads) with ``"type": "event"``."""
    from ..sim.provider import event_to_json

    return {"type": "event", **json.loads(event_to_json(event))}


def describe_event(event: Event) -> str:
    """One line for a person: time, kind, call, parties and what the event says."""
    when = event.at.strftime("%H:%M:%S") if event.at else "--:--:--"
    data = " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in event.data.items() if v is not None)
    call = f" call {event.call_id}" if event.call_id else ""
    parties = f" [{', '.join(event.parties)}]" if event.parties else ""
    return f"{when} {event.kind}{call}{parties}{' ' + data if data else ''}"


def start_at_wall_time(pbx: Any) -> None:
    """Move a fresh model's clock (which starts in May 2017) to now, in whole seconds, so its
    ids and report timestamps are today's. No timer is pending yet, so nothing fires."""
    with pbx.lock:
        pbx.clock.advance(max(0.0, int(time.time()) - pbx.clock.now()))


class FarEnd:
    """Runs text commands on ``pbx`` (None: an emulator without a PBX model, where every
    command but ``help`` and ``quit`` says the controls are unavailable)."""

    def __init__(self, pbx: Any, *, name: str = "this") -> None:
        self.pbx = pbx
        self.name = name

    def execute(self, line: str) -> Outcome | None:
        """Run one command line; None for a blank line. Never raises for bad input: a wrong
        command, argument or party is an Outcome with ``ok=False`` saying what was wrong."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return Outcome("?", False, f"cannot read the command: {exc}")
        if not words:
            return None
        command, args = words[0].lower(), words[1:]
        if command not in COMMANDS:
            return Outcome(command, False, f"unknown command {words[0]!r}; type help for the list")
        wanted = COMMANDS[command][0].split()
        if len(args) != len(wanted):
            return Outcome(command, False, f"usage: {command} {COMMANDS[command][0]}".rstrip())
        if command == "help":
            return Outcome("help", True, self.help(), {"commands": {
                name: {"arguments": arguments, "what": what}
                for name, (arguments, what) in COMMANDS.items()}})
        if command == "quit":
            return Outcome("quit", True, "stopping", quit=True)
        if self.pbx is None:
            return Outcome(command, False, f"the {self.name} emulator has no PBX model: the "
                                           "far-end controls are unavailable")
        try:
            with self.pbx.lock:
                return getattr(self, f"_{command}")(*args)
        except (TelephonyError, AddressError, ValueError) as exc:
            return Outcome(command, False, _message(exc) + self._hint(command, args))
        except Exception as exc:  # a model bug must not end the session: one line, no trace
            return Outcome(command, False, f"the model failed ({type(exc).__name__}: "
                                           f"{_message(exc)})")

    def _hint(self, command: str, args: list[str]) -> str:
        """For a bare number taken as an outside number: say it is not an extension."""
        number = args[0] if args and command in ("answer", "hangup", "reject", "press") else ""
        if number.isdigit() and number not in self.pbx.setup.extensions:
            known = ", ".join(sorted(self.pbx.setup.extensions))
            return (f" ({number} is not an extension, so it was taken as tel:{number}; "
                    f"extensions: {known})")
        return ""

    @staticmethod
    def help() -> str:
        width = max(len(f"{c} {a}") for c, (a, _) in COMMANDS.items())
        return "\n".join(f"  {f'{c} {a}'.strip():<{width}}  {what}"
                         for c, (a, what) in COMMANDS.items())

    # -- parties ---------------------------------------------------------------------------

    def party(self, text: str) -> str:
        """``1001`` -> ``ext:1001`` (an extension of the set-up) or ``tel:1001``; an address as
        given, checked: an extension must exist."""
        extensions = self.pbx.setup.extensions
        if ":" not in text:
            if not text.isdigit():
                raise ValueError(f"{text!r} is not a party: give an extension number (1001), "
                                 "ext:N or tel:NUMBER")
            text = f"ext:{text}" if text in extensions else f"tel:{text}"
        address = parse(text, "ext", "tel")
        if address.kind == "ext" and address.value not in extensions:
            known = ", ".join(sorted(extensions))
            raise ValueError(f"there is no extension {address.value} (extensions: {known})")
        return str(address)

    # -- commands (called holding the model's lock) ---------------------------------------

    def _calls(self) -> Outcome:
        calls = []
        for call in self.pbx.list_calls():
            calls.append({"call_id": call.id, "direction": call.direction, "state": call.state,
                          "parties": [{"party": leg.party, "state": leg.state, "role": leg.role}
                                      for leg in call.legs]})
        if not calls:
            return Outcome("calls", True, "no live calls", {"calls": []})
        lines = [f"call {c['call_id']}  {c['direction']}  {c['state']}  " + ", ".join(
            f"{p['party']} ({p['state']}{'' if p['role'] == 'party' else ', ' + p['role']})"
            for p in c["parties"]) for c in calls]
        return Outcome("calls", True, "\n".join(lines), {"calls": calls})

    def _act(self, command: str, method: str, party: str, done: str) -> Outcome:
        who = self.party(party)
        call = getattr(self.pbx, method)(who)
        return Outcome(command, True, f"{who} {done} (call {call.id})",
                       {"party": who, "call_id": call.id})

    def _answer(self, party: str) -> Outcome:
        return self._act("answer", "answer", party, "answered")

    def _hangup(self, party: str) -> Outcome:
        return self._act("hangup", "far_hangup", party, "hung up")

    def _reject(self, party: str) -> Outcome:
        return self._act("reject", "far_reject", party, "rejected the call")

    def _press(self, party: str, key: str) -> Outcome:
        if key not in _KEYS:
            raise ValueError(f"{key!r} is not a key: expected one of 0-9, * or #")
        who = self.party(party)
        call = self.pbx.press(who, key)
        return Outcome("press", True, f"{who} pressed {key} (call {call.id})",
                       {"party": who, "key": key, "call_id": call.id})

    def _incoming(self, source: str, to: str) -> Outcome:
        numbers = []
        for text in (source, to):
            value = text.removeprefix("tel:")
            if not value.isdigit():
                raise ValueError(f"{text!r} is not a phone number: expected digits "
                                 "(5559999) or tel:5559999")
            numbers.append(value)
        call = self.pbx.incoming(*numbers)
        return Outcome("incoming", True, f"tel:{numbers[0]} is calling {numbers[1]}: offered "
                       f"as call {call.id}", {"from": f"tel:{numbers[0]}", "to": numbers[1],
                                              "call_id": call.id})

    def _advance(self, seconds: str) -> Outcome:
        try:
            amount = float(seconds)
        except ValueError:
            amount = -1.0
        if not 0 < amount <= _MAX_ADVANCE:  # also refuses nan and inf
            raise ValueError(f"{seconds!r} is not a number of seconds: expected a number "
                             f"above 0 and at most {_MAX_ADVANCE:.0f}")
        self.pbx.clock.advance(amount)
        now = datetime.fromtimestamp(self.pbx.clock.now(), UTC)
        return Outcome("advance", True, f"advanced {amount:g} s: the model's clock is "
                       f"{now:%Y-%m-%d %H:%M:%S} UTC",
                       {"seconds": amount, "clock": now.isoformat()})


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)


class WallClock:
    """Advances ``pbx.clock`` with wall time, every ``interval`` seconds, under the model's
    lock, so timers (ring timeouts, prompts, the offer window) fire as on a real system. A timer
    that fails (the model refusing, e.g. no free trunk when an offered call is routed) is
    reported through ``on_error`` and the clock goes on."""

    def __init__(self, pbx: Any, *, interval: float = 0.1,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.pbx = pbx
        self.interval = interval
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="emulate-clock")

    def start(self) -> WallClock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            try:
                with self.pbx.lock:
                    self.pbx.clock.advance(now - last)
            except Exception as exc:
                if self.on_error is not None:
                    self.on_error(f"a timer failed: {_message(exc)}")
            last = now


class AutoAnswer:
    """Answers every ringing party ``delay`` wall seconds after it starts ringing (``--auto-
    answer``). The model emits ``call.ringing`` inside the operation that rang the phone, holding
    its lock; answering there would run inside that operation, so the answer is queued and made
    by a worker thread once the operation is over. ``report(outcome)`` hears each answer (or why
    it could not be made: the party stopped ringing, was already answered)."""

    def __init__(self, pbx: Any, delay: float = 0.0,
                 report: Callable[[Outcome], None] | None = None) -> None:
        self.pbx = pbx
        self.delay: float = max(0.0, float(delay))
        self.report = report
        self._due: list[tuple[float, int, str]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._unsubscribe: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="emulate-answer")

    def start(self) -> AutoAnswer:
        self._unsubscribe = self.pbx.subscribe(self._on_event)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _on_event(self, event: Event) -> None:
        party = event.data.get("party")
        if event.kind != "call.ringing" or event.data.get("waiting") or not party:
            return
        with self._cond:
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + self.delay, self._seq, str(party)))
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                        not self._due or self._due[0][0] > time.monotonic()):
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, _, party = heapq.heappop(self._due)
            outcome = self._answer(party)
            if self.report is not None:
                with contextlib.suppress(Exception):  # a closed output must not end answering
                    self.report(outcome)

    def _answer(self, party: str) -> Outcome:
        try:
            call = self.pbx.answer(party)
        except TelephonyError as exc:
            return Outcome("auto-answer", False, f"{party}: {_message(exc)}", {"party": party})
        except Exception as exc:  # a model bug: reported, answering goes on
            return Outcome("auto-answer", False, f"{party}: the model failed "
                           f"({type(exc).__name__})", {"party": party})
        return Outcome("auto-answer", True, f"{party} answered (call {call.id})",
                       {"party": party, "call_id": call.id})

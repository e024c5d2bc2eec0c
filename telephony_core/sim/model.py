"""The PBX call-state model shared by the ``sim`` provider and every vendor emulator.

One model, so that "a provider against its emulator" and "the simulator" can be compared by the
same property-based suite. Addresses are canonical strings (``ext:1000``, ``tel:41000``,
``call:1495700000.101``); every refusal is a :class:`ProviderError` with a stable ``code``:

=========================  ==========  ====================================================
code                       category    when
=========================  ==========  ====================================================
extension_not_found        not_found   no such extension
extension_not_registered   busy        the extension's phone is not registered
extension_not_idle         busy        the extension is in a call (and not holding it)
dnd                        busy        the extension is on do-not-disturb
call_not_found             not_found   no live call by that id / the party is in no call
call_not_connected         invalid     hold, mute, monitor need a talking call
monitor_not_allowed        forbidden   the target extension does not allow monitoring
monitor_mode_mismatch      forbidden   the supervisor's monitor mode does not allow that mode
already_monitored          busy        listen: the target already has a listener
ivr_not_found ...          not_found   also queue_, ringgroup_, group_, prompt_, trunk_
gsm_trunk_not_found        not_found   SMS through a trunk that is not a GSM trunk
no_outbound_permission     forbidden   the (permission) extension may not dial out
no_free_trunk              busy        every trunk channel is in use (a callback needs two)
gsm_busy                   busy        the GSM trunk's channel is in use
sms_empty / sms_too_long   invalid     the SMS text is empty / over the set-up's limit
offer_window_expired       invalid     accept/reject after the 10-second window
not_offered                invalid     accept/reject of a call that is not being offered
unsupported_destination    invalid     e.g. dialling from an IVR
moh_not_assigned           not_found   the user does not have the music-on-hold service
=========================  ==========  ====================================================

Rules (seed 002 and vendors.md; the ones marked * are this model's decision, undocumented):
the caller is rung first, the callee once the caller answers (auto-answer skips the caller's
ringing); a busy or DND callee fails the call when it is reached*; a ring unanswered for 30 s
fails the call*; an extension holding a call may start a new one and its held call resumes when
the new one ends; mute ends with the call; listen allows one monitor at a time; a monitor must be
idle, registered and have a matching monitor mode (Extensive allows all); the target must allow
monitoring; ringing or talking calls can be transferred; a queue or ring group with no idle
member makes the caller wait with music on hold, and the waiting caller is offered to the first
member that becomes idle*; an inbound call is offered for 10 s and accepted by default; a
callback (tel->tel) needs two free trunk channels; a prompt plays for 5 s per file*, then the
call ends, or with a menu waits 10 s for a key*, and a key in the menu transfers the call there.

Events (canonical :class:`~telephony_core.results.Event`, provider "sim"), ``data`` keys:
call.offered {trunk, to}; call.ringing {party}; call.answered {party}; call.failed {reason};
call.hangup {by, reason}; call.transferred {to}; call.dtmf {key}; prompt.finished {prompts};
cdr {direction, duration, talk, status, trunk}; extension.status {extension, status} with status
held/talking/muted/unmuted/monitoring-<mode>; sms.status {message_id, status, trunk, to}.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..addresses import Address, parse
from ..errors import ProviderError
from ..results import Event
from .clock import Clock
from .setup import Setup, load_setup

__all__ = ["Call", "Leg", "MohSettings", "Pbx", "SmsRecord"]

RING_TIMEOUT = 30.0
OFFER_WINDOW = 10.0
PROMPT_SECONDS = 5.0
MENU_WAIT = 10.0


def refuse(code: str, category: str, message: str) -> ProviderError:
    return ProviderError(message, code=code, category=category)  # type: ignore[arg-type]


@attrs.define
class Leg:
    party: str
    state: str = "ringing"  # ringing | talking | held | waiting
    muted: bool = False
    trunk: str | None = None
    role: str = "party"  # party | monitor-listen | monitor-whisper | monitor-barge


@attrs.define
class Call:
    id: str
    direction: str  # internal | outbound | inbound
    legs: list[Leg]
    started: float
    reference: str | None = None
    answered_at: float | None = None
    pending: str | None = None  # the callee still to ring once the caller answers
    offered: bool = False
    prompts: list[str] = attrs.Factory(list)
    menu: dict[str, str] = attrs.Factory(dict)
    timer: int | None = None
    permission: str | None = None
    #: the trunk leg's own id, on a model built with ``leg_ids`` (see :class:`Pbx`)
    trunk_id: str | None = None

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(leg.party for leg in self.legs if leg.role == "party")

    @property
    def state(self) -> str:
        states = {leg.state for leg in self.legs if leg.role == "party"}
        for state in ("held", "waiting", "talking"):
            if state in states and (state != "talking" or self.answered_at is not None):
                return state
        return "ringing"


@attrs.define
class MohSource:
    selection: str = "default"
    file: str | None = None
    media_type: str | None = None


@attrs.define
class MohSettings:
    active: bool = True
    source: MohSource = attrs.Factory(MohSource)
    internal_source: MohSource = attrs.Factory(lambda: MohSource("group"))
    use_internal_source: bool = False


@attrs.frozen
class SmsRecord:
    message_id: str
    to: str
    text: str
    trunk: str
    status: str = "sent"


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Pbx, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper


class Pbx:
    """A simulated PBX. Every public method takes :attr:`lock`; emulators may serve threads.

    ``leg_ids``: give a call through a trunk a second id for its trunk leg, as a Yeastar PBX
    does (its guide's ringing.md and keypress.md reports show an outbound leg id one above the
    call's ``callid``, present while the extension still rings; an inbound leg's id is the
    call's, inbound-call-request.md). Off by default: the ``sim`` provider and the other
    emulators keep one id per call. It changes no behaviour, only the ids :meth:`by_trunk_id`
    finds (and which ids the counter hands out).
    """

    #: how many of the latest events :attr:`events` keeps (a sim client running for days, or
    #: a campaign of 100k calls against it, must not grow without bound)
    KEEP_EVENTS = 10_000

    def __init__(self, setup: Setup | None = None, clock: Clock | None = None, *,
                 leg_ids: bool = False):
        self.setup: Setup = setup or load_setup()
        self.clock: Clock = clock or Clock()
        self.lock: threading.RLock = threading.RLock()
        self.calls: dict[str, Call] = {}
        self.sms_outbox: list[SmsRecord] = []
        self.moh: dict[tuple[tuple[str, str], ...], MohSettings] = {}
        #: the latest events, oldest first (at most 2 x KEEP_EVENTS; subscribe to see them all)
        self.events: list[Event] = []
        self._subscribers: list[Callable[[Event], None]] = []
        self._ids = itertools.count(101)
        self.leg_ids = leg_ids

    @classmethod
    def default(cls) -> Pbx:
        return cls(load_setup())

    @classmethod
    def from_file(cls, path: str) -> Pbx:
        return cls(load_setup(path))

    @classmethod
    def from_setup(cls, data: Mapping[str, Any]) -> Pbx:
        from .setup import build_setup

        return cls(build_setup(data))

    # -- events ------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback`` with every event from now on; returns the unsubscribe function."""
        self._subscribers.append(callback)
        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    @staticmethod
    def _event_parties(call: Call) -> tuple[str, ...]:
        """The parties an event of ``call`` names: its legs' parties, and for an extension's
        call out through a trunk, the number it dials from the start (while the extension's
        own phone rings and answers, before the trunk leg exists), as a PBX names both ends of
        a trunk call in every report (Yeastar's RING/ANSWER carry the outbound leg's from and
        to: ringing.md, answer-a-call.md)."""
        parties = call.parties
        pending = call.pending or ""
        if (call.direction == "outbound" and pending.startswith("tel:") and parties
                and parties[0].startswith("ext:") and pending not in parties):
            parties += (pending,)
        return parties

    def _emit(self, kind: str, call: Call | None = None, **data: Any) -> None:
        event = Event(kind, "sim", call_id=call.id if call else None,
                      parties=self._event_parties(call) if call else (),
                      at=self.clock.datetime(),
                      reference=call.reference if call else None, data=data)
        self.events.append(event)
        if len(self.events) > 2 * self.KEEP_EVENTS:  # trimmed in halves: amortised O(1)
            del self.events[:-self.KEEP_EVENTS]
        for callback in list(self._subscribers):
            callback(event)

    # -- look-ups ----------------------------------------------------------------------------

    def _ext(self, number: str) -> Any:
        ext = self.setup.extensions.get(number)
        if ext is None:
            raise refuse("extension_not_found", "not_found", f"extension {number} does not exist")
        return ext

    def _call_of(self, party: str, *, include_held: bool = False) -> Call | None:
        """The live call ``party`` is in (its active one unless ``include_held``)."""
        found = None
        for call in self.calls.values():
            for leg in call.legs:
                if leg.party == party:
                    if leg.state != "held" or include_held:
                        return call
                    found = call
        return found if include_held else None

    def _busy(self, number: str) -> bool:
        return self._call_of(f"ext:{number}") is not None

    def _target(self, ref: str, leg: str | None = None) -> tuple[Call, Leg | None]:
        address = parse(ref, "call", "ext")
        if address.kind == "call":
            call = self.calls.get(address.value)
            if call is None or (leg and self._leg_kind(call) != leg):
                raise refuse("call_not_found", "not_found", f"call {address.value} does not exist"
                             + (f" as an {leg} call" if leg and call else ""))
            # an extension's leg when there is one; else (number-to-number calls of a CPaaS)
            # the first party's
            legs = [lg for lg in call.legs if lg.role == "party"]
            ext_legs = [lg for lg in legs if lg.party.startswith("ext:")]
            return call, (ext_legs or legs or [None])[0]
        self._ext(address.value)
        call = self._call_of(ref, include_held=True)
        if call is None:
            raise refuse("call_not_found", "not_found", f"extension {address.value} is in no call")
        return call, next(lg for lg in call.legs if lg.party == ref)

    @staticmethod
    def _leg_kind(call: Call) -> str:
        return "inbound" if call.direction == "inbound" else "outbound"

    def _trunks_in_use(self, kind: str = "sip") -> int:
        return sum(1 for call in self.calls.values() for leg in call.legs
                   if leg.trunk and self.setup.trunks[leg.trunk].kind == kind)

    def _free_trunk(self, needed: int = 1) -> str:
        sip = [t for t in self.setup.trunks.values() if t.kind == "sip"]
        capacity = sum(t.channels for t in sip)
        if not sip or capacity - self._trunks_in_use() < needed:
            raise refuse("no_free_trunk", "busy", f"no free trunk: {needed} channel(s) needed, "
                         f"{max(0, capacity - self._trunks_in_use())} free")
        return sip[0].name

    def _may_dial_out(self, number: str) -> None:
        if not self._ext(number).outbound:
            raise refuse("no_outbound_permission", "forbidden",
                         f"extension {number} has no outbound-call permission")

    def _check_destination(self, address: Address) -> None:
        table = {"ivr": self.setup.ivrs, "queue": self.setup.queues,
                 "ringgroup": self.setup.ringgroups, "group": self.setup.groups}
        if address.kind == "ext":
            self._ext(address.value)
        elif address.kind in table and address.value not in table[address.kind]:
            raise refuse(f"{address.kind}_not_found", "not_found",
                         f"{address.kind} {address.value} does not exist")
        elif address.kind == "sip":
            raise refuse("unsupported_destination", "invalid", "the simulator has no SIP trunk "
                         "to dial sip: addresses")

    def _caller_ready(self, number: str) -> None:
        ext = self._ext(number)
        if not ext.registered:
            raise refuse("extension_not_registered", "busy", f"extension {number} is not "
                         "registered")
        if self._busy(number):
            raise refuse("extension_not_idle", "busy", f"extension {number} is not idle")

    def _new_call(self, direction: str, legs: list[Leg], reference: str | None) -> Call:
        call_id = f"{int(self.clock.now())}.{next(self._ids)}"
        call = Call(call_id, direction, legs, self.clock.now(), reference=reference)
        self.calls[call_id] = call
        if self.leg_ids and direction != "internal":
            call.trunk_id = call_id if direction == "inbound" else \
                f"{int(self.clock.now())}.{next(self._ids)}"
        return call

    @_locked
    def by_trunk_id(self, trunk_id: str) -> Call | None:
        """The live call whose trunk leg's own id is ``trunk_id`` (``leg_ids`` models)."""
        return next((c for c in self.calls.values() if c.trunk_id == trunk_id), None)

    # -- placing calls -----------------------------------------------------------------------

    @_locked
    def dial(self, caller: str, callee: str, *, auto_answer: bool = False,
             caller_id: str | None = None, permission_extension: str | None = None,
             reference: str | None = None) -> Call:
        src, dst = parse(caller), parse(callee)
        if src.kind not in ("ext", "tel"):
            raise refuse("unsupported_destination", "invalid",
                         f"a call cannot start from {caller}: the caller must be ext: or tel:")
        self._check_destination(dst)
        permission = parse(permission_extension, "ext").value if permission_extension else None
        if permission:
            self._may_dial_out(permission)
        outside = [a for a in (src, dst) if a.kind == "tel"]
        if src.kind == "ext":
            self._caller_ready(src.value)
            if dst.kind == "tel":
                self._may_dial_out(src.value)
        trunk = self._free_trunk(len(outside)) if outside else None
        direction = "outbound" if outside else "internal"
        first = Leg(caller, trunk=trunk if src.kind == "tel" else None)
        call = self._new_call(direction, [first], reference)
        call.pending, call.permission = callee, permission
        self._emit("call.ringing", call, party=caller)
        if auto_answer and src.kind == "ext":
            self._answer_leg(call, first)
        else:
            call.timer = self.clock.call_later(RING_TIMEOUT, lambda: self._no_answer(call.id))
        return call

    @_locked
    def play_prompt(self, to: str, prompts: list[str], *, caller_id: str | None = None,
                    permission_extension: str | None = None, auto_answer: bool = False,
                    menu: Mapping[str, str] | None = None, reference: str | None = None) -> Call:
        dst = parse(to, "ext", "tel")
        for prompt in prompts:
            if not prompt.startswith(("http://", "https://")) and prompt not in self.setup.prompts:
                raise refuse("prompt_not_found", "not_found", f"prompt {prompt!r} is not uploaded")
        for where in (menu or {}).values():
            self._check_destination(parse(where))
        if permission_extension:
            self._may_dial_out(parse(permission_extension, "ext").value)
        if dst.kind == "ext":
            self._caller_ready(dst.value)
        trunk = self._free_trunk() if dst.kind == "tel" else None
        leg = Leg(to, trunk=trunk)
        call = self._new_call("outbound" if trunk else "internal", [leg], reference)
        call.prompts, call.menu = list(prompts), dict(menu or {})
        self._emit("call.ringing", call, party=to)
        if auto_answer and dst.kind == "ext":
            self._answer_leg(call, leg)
        else:
            call.timer = self.clock.call_later(RING_TIMEOUT, lambda: self._no_answer(call.id))
        return call

    @_locked
    def incoming(self, from_number: str, to_number: str, trunk: str | None = None) -> Call:
        """The far end: an external caller rings in on a trunk and is offered for 10 s."""
        trunk = trunk or self._free_trunk()
        if trunk not in self.setup.trunks:
            raise refuse("trunk_not_found", "not_found", f"trunk {trunk!r} does not exist")
        leg = Leg(f"tel:{from_number}", trunk=trunk)
        call = self._new_call("inbound", [leg], None)
        call.offered = True
        call.pending = self.setup.inbound_routes.get(to_number, self.setup.inbound_default)
        self._emit("call.offered", call, trunk=trunk, to=to_number)
        call.timer = self.clock.call_later(OFFER_WINDOW, lambda: self._route_offered(call.id))
        return call

    def _offered(self, ref: str) -> Call:
        call, _ = self._target(ref)
        if not call.offered:
            if call.direction == "inbound":
                raise refuse("offer_window_expired", "invalid",
                             f"call {call.id} is no longer offered: the 10-second window passed "
                             "or it was already accepted")
            raise refuse("not_offered", "invalid", f"call {call.id} is not an offered inbound "
                         "call")
        return call

    @_locked
    def accept_call(self, ref: str) -> Call:
        call = self._offered(ref)
        self.clock.cancel(call.timer)
        self._route_offered(call.id)
        return call

    @_locked
    def reject_call(self, ref: str) -> Call:
        call = self._offered(ref)
        self.clock.cancel(call.timer)
        call.offered = False
        self._end(call, by="pbx", reason="rejected")
        return call

    def _route_offered(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or not call.offered:
            return
        call.offered = False
        call.legs[0].state = "talking"
        call.answered_at = self.clock.now()
        destination, call.pending = call.pending, None
        self._reach(call, destination)

    # -- the far end -------------------------------------------------------------------------

    @_locked
    def answer(self, party: str) -> Call:
        """The phone of ``party`` (ringing) is picked up."""
        for call in list(self.calls.values()):
            for leg in call.legs:
                if leg.party == party and leg.state == "ringing" and not call.offered:
                    self._answer_leg(call, leg)
                    return call
        raise refuse("call_not_found", "not_found", f"{party} is not ringing")

    def _answer_leg(self, call: Call, leg: Leg) -> None:
        self.clock.cancel(call.timer)
        call.timer = None
        leg.state = "talking"
        self._emit("call.answered", call, party=leg.party)
        if call.pending:
            destination, call.pending = call.pending, None
            self._reach(call, destination)
        elif call.prompts:
            call.answered_at = self.clock.now()
            call.timer = self.clock.call_later(PROMPT_SECONDS * len(call.prompts),
                                               lambda: self._prompts_done(call.id))
        else:
            call.answered_at = call.answered_at or self.clock.now()

    def _reach(self, call: Call, destination: str) -> None:
        """Connect ``call`` onward to ``destination`` (the callee, or a transfer target)."""
        address = parse(destination)
        if address.kind in ("queue", "ringgroup", "group"):
            members = {"queue": self.setup.queues, "ringgroup": self.setup.ringgroups,
                       "group": self.setup.groups}[address.kind][address.value]
            idle = [m for m in members if not self._busy(m) and self.setup.extensions[m].registered
                    and not self.setup.extensions[m].dnd]
            if not idle:
                call.legs.append(Leg(destination, state="waiting"))
                self._emit("call.ringing", call, party=destination, waiting=True)
                return
            destination = f"ext:{idle[0]}"
            address = parse(destination)
        if address.kind == "ext":
            ext = self.setup.extensions[address.value]
            if self._busy(address.value) or ext.dnd or not ext.registered:
                reason = "dnd" if ext.dnd else "busy"
                self._emit("call.failed", call, reason=reason, party=destination)
                self._end(call, by="pbx", reason=reason)
                return
        trunk = None
        if address.kind == "tel":
            trunk = self._free_trunk()
        leg = Leg(destination, trunk=trunk)
        call.legs.append(leg)
        if address.kind == "ivr":
            leg.state = "talking"
            call.answered_at = self.clock.now()
            call.menu = dict(self.setup.ivrs[address.value]["menu"])
            self._emit("call.answered", call, party=destination)
            return
        self._emit("call.ringing", call, party=destination)
        call.timer = self.clock.call_later(RING_TIMEOUT, lambda: self._no_answer(call.id))

    def _no_answer(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:  # the party is the leg still ringing (the caller's or callee's)
            party = next((lg.party for lg in reversed(call.legs) if lg.state == "ringing"),
                         None)
            self._emit("call.failed", call, reason="no_answer", party=party)
            self._end(call, by="pbx", reason="no_answer")

    def _prompts_done(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        self._emit("prompt.finished", call, prompts=list(call.prompts))
        if call.menu:
            call.timer = self.clock.call_later(MENU_WAIT, lambda: self._prompts_over(call.id))
        else:
            self._end(call, by="pbx", reason="played")

    def _prompts_over(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            self._end(call, by="pbx", reason="no_key")

    @_locked
    def press(self, party: str, key: str) -> Call:
        """``party`` presses ``key``; a menu (prompt or IVR) may send the call elsewhere."""
        call = self._call_of(party)
        if call is None:
            raise refuse("call_not_found", "not_found", f"{party} is in no call")
        self._emit("call.dtmf", call, key=key, party=party)
        if key in call.menu and call.state == "talking":
            self.clock.cancel(call.timer)
            destination = call.menu[key]
            call.menu, call.prompts = {}, []
            call.legs = [lg for lg in call.legs if lg.party == party or lg.role != "party"]
            self._emit("call.transferred", call, to=destination)
            self._reach(call, destination)
        return call

    @_locked
    def far_hangup(self, party: str) -> Call:
        """``party`` hangs up: a monitoring supervisor just leaves; anyone else ends the call."""
        call = self._call_of(party, include_held=True)
        if call is None:
            raise refuse("call_not_found", "not_found", f"{party} is in no call")
        leg = next(lg for lg in call.legs if lg.party == party)
        if leg.role != "party":
            call.legs.remove(leg)
            self._emit("extension.status", call, extension=party, status="idle")
            return call
        self._end(call, by=party, reason="hangup")
        return call

    @_locked
    def far_reject(self, party: str) -> Call:
        for call in list(self.calls.values()):
            if any(lg.party == party and lg.state == "ringing" for lg in call.legs):
                self._emit("call.failed", call, reason="rejected", party=party)
                self._end(call, by=party, reason="rejected")
                return call
        raise refuse("call_not_found", "not_found", f"{party} is not ringing")

    # -- controlling live calls --------------------------------------------------------------

    @_locked
    def hangup(self, ref: str, *, leg: str | None = None) -> Call:
        call, _ = self._target(ref, leg)
        self._end(call, by="api", reason="hangup")
        return call

    def _end(self, call: Call, *, by: str, reason: str) -> None:
        self.clock.cancel(call.timer)
        if self.calls.pop(call.id, None) is None:
            return
        now = self.clock.now()
        talk = now - call.answered_at if call.answered_at is not None else 0.0
        self._emit("call.hangup", call, by=by, reason=reason)
        trunk = next((lg.trunk for lg in call.legs if lg.trunk), None)
        self._emit("cdr", call, direction=call.direction, duration=now - call.started, talk=talk,
                   status="ANSWERED" if call.answered_at is not None else "NO ANSWER", trunk=trunk)
        for leg in call.legs:  # a held call resumes when the extension's other call ends
            if leg.party.startswith("ext:"):
                self._resume_held(leg.party)
        self._serve_waiting()

    def _resume_held(self, party: str) -> None:
        for call in self.calls.values():
            for leg in call.legs:
                if leg.party == party and leg.state == "held":
                    leg.state = "talking"
                    self._emit("extension.status", call, extension=party, status="talking")
                    return

    def _serve_waiting(self) -> None:
        """A caller waiting in a queue or ring group goes to a member that became idle."""
        for call in list(self.calls.values()):
            waiting = [lg for lg in call.legs if lg.state == "waiting"]
            if waiting:
                group = parse(waiting[0].party)
                members = {"queue": self.setup.queues, "ringgroup": self.setup.ringgroups,
                           "group": self.setup.groups}[group.kind][group.value]
                if any(not self._busy(m) for m in members):
                    call.legs.remove(waiting[0])
                    self._reach(call, str(group))

    def _talking_leg(self, ref: str, leg: str | None) -> tuple[Call, Leg]:
        call, target = self._target(ref, leg)
        if target is None:
            raise refuse("call_not_found", "not_found",
                         f"call {call.id} has no extension to act on")
        return call, target

    @_locked
    def hold(self, ref: str, *, leg: str | None = None) -> Call:
        call, target = self._talking_leg(ref, leg)
        if target.state == "held":
            return call  # idempotent: already held
        if target.state != "talking":
            raise refuse("call_not_connected", "invalid", f"call {call.id} is not connected")
        target.state = "held"
        self._emit("extension.status", call, extension=target.party, status="held")
        return call

    @_locked
    def unhold(self, ref: str, *, leg: str | None = None) -> Call:
        call, target = self._talking_leg(ref, leg)
        if target.state == "held":
            if any(other is not call for other in [self._call_of(target.party)] if other):
                raise refuse("extension_not_idle", "busy", f"{target.party} is in another call")
            target.state = "talking"
            self._emit("extension.status", call, extension=target.party, status="talking")
        return call

    @_locked
    def mute(self, ref: str, *, leg: str | None = None) -> Call:
        return self._set_mute(ref, leg, True)

    @_locked
    def unmute(self, ref: str, *, leg: str | None = None) -> Call:
        return self._set_mute(ref, leg, False)

    def _set_mute(self, ref: str, leg: str | None, muted: bool) -> Call:
        call, target = self._talking_leg(ref, leg)
        if target.state == "ringing":
            raise refuse("call_not_connected", "invalid", f"call {call.id} is not connected")
        if target.muted != muted:
            target.muted = muted
            self._emit("extension.status", call, extension=target.party,
                       status="muted" if muted else "unmuted")
        return call

    @_locked
    def transfer(self, ref: str, to: str, *, leg: str | None = None,
                 permission_extension: str | None = None) -> Call:
        call, target = self._target(ref, leg)
        destination = parse(to)
        self._check_destination(destination)
        if permission_extension:
            self._may_dial_out(parse(permission_extension, "ext").value)
        if destination.kind == "tel" and not self.setup.trunks:
            raise refuse("no_free_trunk", "busy", "no trunk to transfer out through")
        if destination.kind == "ext" and self._busy(destination.value):
            raise refuse("extension_not_idle", "busy", f"extension {destination.value} is not idle")
        mover = target if target is not None and parse(ref).kind == "ext" else None
        # blind transfer: the party being transferred is the one that is not `mover`
        keep = [lg for lg in call.legs if lg is not mover and lg.role == "party"][:1]
        if not keep:
            raise refuse("call_not_found", "not_found", f"call {call.id} has nobody to transfer")
        self.clock.cancel(call.timer)
        call.legs, call.pending, call.offered, call.menu = keep, None, False, {}
        keep[0].state = "talking" if keep[0].state != "ringing" else keep[0].state
        self._emit("call.transferred", call, to=str(destination))
        self._reach(call, str(destination))
        self._serve_waiting()
        return call

    @_locked
    def monitor(self, supervisor: str, ref: str, mode: str) -> Call:
        sup = parse(supervisor, "ext")
        ext = self._ext(sup.value)
        call, target = self._talking_leg(ref, None)
        if not ext.registered or self._busy(sup.value):
            raise refuse("extension_not_idle", "busy", f"supervisor {sup.value} is not idle")
        if ext.monitor_mode not in ("extensive", mode):
            raise refuse("monitor_mode_mismatch", "forbidden",
                         f"supervisor {sup.value}'s monitor mode is {ext.monitor_mode}, "
                         f"which does not allow {mode}")
        watched = parse(target.party)
        if watched.kind == "ext" and not self.setup.extensions[watched.value].allow_monitoring:
            raise refuse("monitor_not_allowed", "forbidden",
                         f"extension {watched.value} does not allow being monitored")
        if call.state != "talking":
            raise refuse("call_not_connected", "invalid", f"call {call.id} is not connected")
        if mode == "listen" and any(lg.role == "monitor-listen" for lg in call.legs):
            raise refuse("already_monitored", "busy",
                         f"{target.party} is already monitored by a listener")
        call.legs.append(Leg(supervisor, state="talking", role=f"monitor-{mode}"))
        self._emit("extension.status", call, extension=supervisor, status=f"monitoring-{mode}")
        return call

    # -- configuration and messages ----------------------------------------------------------

    def _moh_key(self, scope: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        if set(scope) == {"tenant", "group", "user"}:
            if (scope["tenant"], scope["group"], scope["user"]) not in self.setup.moh_users:
                raise refuse("moh_not_assigned", "not_found",
                             f"the music-on-hold service is not assigned to user {scope['user']} "
                             f"of group {scope['group']} (tenant {scope['tenant']})")
        elif set(scope) == {"extension"}:
            self._ext(scope["extension"])
        elif scope:
            raise refuse("unsupported_destination", "invalid",
                         "a music-on-hold scope is {tenant, group, user}, {extension} or {}")
        return tuple(sorted(scope.items()))

    @staticmethod
    def _moh_default(scope: Mapping[str, str]) -> MohSettings:
        """A BroadWorks-style user without music of its own plays its group's."""
        if "user" in scope:
            return MohSettings(source=MohSource("group"))
        return MohSettings()

    @_locked
    def get_music_on_hold(self, scope: Mapping[str, str]) -> MohSettings:
        key = self._moh_key(scope)
        return attrs.evolve(self.moh.get(key) or self._moh_default(scope))

    @_locked
    def set_music_on_hold(self, scope: Mapping[str, str], **changes: Any) -> MohSettings:
        key = self._moh_key(scope)
        current = self.moh.get(key) or self._moh_default(scope)
        for name, value in changes.items():
            if name in ("source", "internal_source"):
                old = getattr(current, name)
                file = value.get("file", old.file)
                # a media type describes a file: removing the file removes it too
                media = value.get("media_type", old.media_type) if file is not None else None
                value = MohSource(value.get("selection", old.selection), file, media)
            setattr(current, name, value)
        self.moh[key] = current
        return attrs.evolve(current)

    @_locked
    def send_sms(self, to: str, text: str, sender: str | None = None) -> SmsRecord:
        number = parse(to, "tel").value
        gsm = [t for t in self.setup.trunks.values() if t.kind == "gsm"]
        trunk = self.setup.trunks.get(sender) if sender else (gsm[0] if gsm else None)
        if trunk is None or trunk.kind != "gsm":
            raise refuse("gsm_trunk_not_found", "not_found",
                         f"no GSM trunk named {sender!r}" if sender else "no GSM trunk")
        if not text:
            raise refuse("sms_empty", "invalid", "the message is empty")
        if len(text) > self.setup.sms_max_length:
            raise refuse("sms_too_long", "invalid", f"the message has {len(text)} characters; "
                         f"at most {self.setup.sms_max_length} are allowed")
        if self._trunks_in_use("gsm") >= trunk.channels:
            raise refuse("gsm_busy", "busy", f"GSM trunk {trunk.name} is busy")
        record = SmsRecord(f"{number}-{int(self.clock.now())}", to, text, trunk.name)
        self.sms_outbox.append(record)
        self._emit("sms.status", None, message_id=record.message_id, status="sent",
                   trunk=trunk.name, to=to)
        return record

    # -- reading -----------------------------------------------------------------------------

    @_locked
    def list_calls(self, direction: str | None = None,
                   ids: list[str] | None = None) -> list[Call]:
        wanted = {parse(i, "call").value for i in ids} if ids else None
        return [call for call in sorted(self.calls.values(), key=lambda c: c.id)
                if (direction is None or self._leg_kind(call) == direction)
                and (wanted is None or call.id in wanted)]

    def extension_state(self, number: str) -> str:
        call = self._call_of(f"ext:{number}", include_held=True)
        if call is None:
            return "idle"
        leg = next(lg for lg in call.legs if lg.party == f"ext:{number}")
        return leg.state

    @_locked
    def snapshot(self) -> dict[str, Any]:
        """Everything observable, as plain data: two models driven alike compare equal."""
        return {
            "calls": [{"id": c.id, "direction": c.direction, "state": c.state,
                       "reference": c.reference, "offered": c.offered,
                       "legs": [attrs.asdict(leg) for leg in c.legs]}
                      for c in sorted(self.calls.values(), key=lambda c: c.id)],
            "extensions": {n: self.extension_state(n) for n in sorted(self.setup.extensions)},
            "moh": {"/".join(v for _, v in key) or "system": attrs.asdict(s)
                    for key, s in sorted(self.moh.items())},
            "sms": [attrs.asdict(r) for r in self.sms_outbox],
        }

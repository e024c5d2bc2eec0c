"""Model equivalence: the provider + its emulator change the call model as the simulator does.

A Hypothesis :class:`~hypothesis.stateful.RuleBasedStateMachine` drives random programs of
canonical operations, far-end actions (answer, hang up, press a key) and clock steps through two
worlds that start from the same default set-up:

* the provider under test, over real HTTP, against its emulator (over model A);
* the reference provider (``sim`` by default) over model B.

After every step the two models' snapshots must agree on what the provider can observe or
affect, both worlds must agree on success or failure, and every state change must surface as the
same canonical events (kind and parties; ids and timestamps differ between worlds and are not
compared). Call ids are mapped between the worlds: a payload naming a call gets world A's id in
world A and world B's in world B.

A step the vendor documents it cannot do (no endpoint for it) is declared by the fixtures'
optional ``equivalence_divergence(operation, payload, model) -> reason | None`` (``model`` is
the provider's world's model, before the step): the provider must refuse it with a typed error,
the reference is not asked, and both models must still agree afterwards. Anything not declared
is compared as above.

The model interface the suite relies on (duck-typed, so a third-party emulator over its own model
can take part): ``snapshot() -> dict``, ``subscribe(callback)`` receiving canonical
:class:`~telephony_core.results.Event`\\ s, and optionally ``answer(party)``,
``far_hangup(party)``, ``press(party, key)`` and ``clock.advance(seconds)``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from .. import registry
from ..catalogue import Capability
from ..errors import TelephonyError
from ..provider import ProviderSpec
from ..results import CallRef
from . import strategies
from .base import Outcome, run

__all__ = ["EquivalenceTests", "project_snapshot"]

#: how often each operation succeeded or was refused in equivalence programs (this process)
_COUNTS: collections.Counter[str] = collections.Counter()

#: snapshot sections compared per capability (a section is compared when its name matches)
SECTIONS: dict[str, str] = {
    "calls": r"call",
    "music_on_hold": r"music|moh",
    "sms": r"sms|outbox|message",
}
_CALL_CAPABILITIES = {Capability.DIAL, Capability.TRANSFER, Capability.HOLD, Capability.MONITOR,
                      Capability.PLAY_PROMPT, Capability.CALL_CONTROL}
_VOLATILE = re.compile(r"(?i)(^id$|_id$|^callid$|^ids$|time|stamp|^at$|_at$|created|started|"
                       r"token|^raw$)")
_FAR_END = ("answer", "far_hangup", "press")


def compared_sections(spec: ProviderSpec) -> list[str]:
    """What the provider can observe or affect, by the capabilities it declares."""
    caps = spec.capabilities
    out = []
    if caps & _CALL_CAPABILITIES:
        out.append("calls")
    if Capability.MUSIC_ON_HOLD in caps:
        out.append("music_on_hold")
    if Capability.SMS in caps:
        out.append("sms")
    return out


def _normalize(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _normalize(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
                if not _VOLATILE.search(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_normalize(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if hasattr(value, "__attrs_attrs__"):
        return _normalize({a.name: getattr(value, a.name) for a in value.__attrs_attrs__})
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def project_snapshot(snapshot: Mapping[str, Any], sections: list[str]) -> dict[str, Any]:
    """The parts of ``snapshot`` named by ``sections``, without ids and timestamps."""
    out: dict[str, Any] = {}
    for key, value in snapshot.items():
        for section in sections:
            if re.search(SECTIONS[section], str(key), re.IGNORECASE):
                out[str(key)] = _normalize(value)
    return out


def _event_key(event: Any) -> tuple[str, tuple[str, ...]]:
    return (getattr(event, "kind", str(event)), tuple(getattr(event, "parties", ())))


class _World:
    """One side of the comparison: a session (client + emulator) and its model's events."""

    def __init__(self, fixtures: Any, spec: ProviderSpec):
        self.stack = contextlib.ExitStack()
        model = fixtures.make_model(spec)
        self.session = self.stack.enter_context(fixtures.session(spec, pbx=model))
        self.model = self.session.pbx
        if self.model is None or not callable(getattr(self.model, "snapshot", None)):
            self.stack.close()
            pytest.skip(f"{spec.name}'s emulator exposes no call model with snapshot() "
                        "(app.pbx), so its effects cannot be compared")
        self.events: list[Any] = []
        self.spec = spec
        render = getattr(self.session.app, "render_event", None)
        self.through_webhooks = spec.events and callable(render)
        subscribe = getattr(self.model, "subscribe", None)
        if callable(subscribe):
            subscribe(self.events.append)

    def can(self, action: str) -> bool:
        if action == "clock":
            return callable(getattr(getattr(self.model, "clock", None), "advance", None))
        return callable(getattr(self.model, action, None))

    def act(self, action: str, *args: Any) -> Outcome:
        try:
            if action == "clock":
                return Outcome(result=self.model.clock.advance(*args))
            return Outcome(result=getattr(self.model, action)(*args))
        except Exception as exc:  # the model refusing is part of what is compared
            return Outcome(error=exc)

    def take_events(self) -> tuple[list[Any], list[str]]:
        """The model's events since the last call (as comparable keys), and the problems found
        passing them through the provider's webhook parsing: for a provider that declares events
        and an emulator that renders reports (``app.render_event(event) -> (body, headers)``,
        or None when the vendor reports no such change), each rendered report must parse back
        into that event."""
        taken, self.events[:] = list(self.events), []
        keys = [_event_key(e) for e in taken]
        problems: list[str] = []
        if self.through_webhooks:
            for event, key in zip(taken, keys, strict=True):
                report = self.session.app.render_event(event)
                if report is None:
                    continue
                body, headers = report
                try:
                    parsed = [_event_key(e) for e in self.session.client.parse_event(
                        body, headers)]
                except Exception as exc:  # judged below, with the report that caused it
                    parsed = [f"{type(exc).__name__}: {exc}"]
                if key not in parsed:
                    problems.append(f"the model's {key} was reported as {body!r}, which "
                                    f"{self.spec.name}.parse_event turned into {parsed}")
        return keys, problems

    def close(self) -> None:
        self.stack.close()


class EquivalenceTests:
    """Provider + emulator and the reference simulator change the model the same way."""

    #: the provider whose behaviour is the reference (an in-process simulator by default)
    reference: ClassVar[str] = "sim"

    def make_model(self, spec: ProviderSpec) -> Any:
        """A fresh model in its default set-up for ``spec``'s world (None: the emulator's or
        simulator's own default, which must be the same set-up for both worlds)."""
        return None

    def test_model_equivalence(self, spec: ProviderSpec) -> None:
        if spec.name == self.reference:
            pytest.skip(f"{spec.name} is the reference model itself")
        try:
            reference = registry.get(self.reference)
        except TelephonyError as exc:
            pytest.skip(f"the reference provider {self.reference!r} is not available: {exc}")
        ops = self.compared_operations(spec, reference)  # (ProviderFixtures: the hook)
        if not ops:
            pytest.skip(f"{spec.name} declares no operation {self.reference} supports")
        from .profiles import settings_for

        machine = _machine(self, spec, reference, ops)
        from hypothesis.stateful import run_state_machine_as_test

        run_state_machine_as_test(machine, settings=settings_for(prop="equivalence"))


def _substitute(payload: dict[str, Any], pair: tuple[str, str] | None,
                side: int) -> dict[str, Any]:
    """World ``side``'s payload: a generated ``call:`` id replaced by that world's id."""
    if pair is None:
        return payload
    out = dict(payload)
    ref = pair[side] if pair[side].startswith("call:") else f"call:{pair[side]}"
    if isinstance(out.get("call"), str) and out["call"].startswith("call:"):
        out["call"] = ref
    if isinstance(out.get("ids"), list):
        out["ids"] = [ref]
    return out


def _machine(fixtures: Any, spec: ProviderSpec, reference: ProviderSpec,
             ops: list[str]) -> type[RuleBasedStateMachine]:
    sections = compared_sections(spec)
    known = fixtures.addresses(spec)
    parties = tuple(a for a in known if a.startswith(("ext:", "tel:"))) or ("ext:1000",)
    strategies_by_op = {op: strategies.payloads(spec, op, known=known,
                                               values=fixtures.known_values) for op in ops}

    class Equivalence(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.worlds: list[_World] = []
            self.worlds.append(_World(fixtures, spec))
            self.worlds.append(_World(fixtures, reference))
            kinds = [type(w.model) for w in self.worlds]
            if kinds[0] is not kinds[1]:
                self.teardown()
                pytest.skip(f"{spec.name}'s emulator runs on {kinds[0].__qualname__}, not on "
                            f"the reference's {kinds[1].__qualname__}: equivalence is defined "
                            "over the shared call model")
            self.pairs: list[tuple[str, str]] = []
            self.steps: list[str] = []
            self.counts: collections.Counter[str] = _COUNTS
            self.check("the start")

        def teardown(self) -> None:
            for world in self.worlds:
                world.close()

        def check(self, step: str) -> None:
            self.steps.append(step)
            a, b = (project_snapshot(w.model.snapshot(), sections) for w in self.worlds)
            history = "; ".join(self.steps[-8:])
            assert a == b, (
                f"after {step}, {spec.name}'s model and {reference.name}'s disagree on "
                f"{', '.join(sections)}:\n  {spec.name}: {json.dumps(a, default=str)}\n  "
                f"{reference.name}: {json.dumps(b, default=str)}\n  steps: {history}")
            (ea, webhook_problems), (eb, _) = (w.take_events() for w in self.worlds)
            assert ea == eb, (f"after {step}, the events differ:\n  {spec.name}: {ea}\n  "
                              f"{reference.name}: {eb}\n  steps: {history}")
            assert not webhook_problems, f"after {step}: " + "; ".join(webhook_problems)

        def live_parties(self) -> list[str]:
            """Parties in calls now (read from the reference model's snapshot, when it lists
            calls with legs), so steps act on live calls more often than on idle lines."""
            calls = self.worlds[1].model.snapshot().get("calls")
            found = [leg.get("party") for call in calls or () if isinstance(call, Mapping)
                     for leg in call.get("legs", ()) if isinstance(leg, Mapping)]
            return sorted({p for p in found if isinstance(p, str) and ":" in p})

        def operation(self, op: str, data: st.DataObject) -> None:
            payload = data.draw(strategies_by_op[op], label="payload")
            live = self.live_parties()
            validator = spec.validator(op)
            for key in ("call", "supervisor", "to"):
                if key in payload and live and data.draw(st.integers(0, 9), label=key) < 7:
                    candidate = {**payload, key: data.draw(st.sampled_from(live), label=key)}
                    if validator.is_valid(candidate):
                        payload = candidate
            pair = data.draw(st.sampled_from(self.pairs), label="call") if self.pairs else None
            step = f"{op}({_substitute(payload, pair, 0)!r})"
            declared = getattr(fixtures, "equivalence_divergence", None)
            reason = declared(op, _substitute(payload, pair, 0), self.worlds[0].model) \
                if declared is not None else None
            if reason:
                # the vendor documents that it cannot do this (no endpoint for it): the
                # provider must refuse with a typed error, and the reference is not asked
                outcome = run(self.worlds[0].session, op, _substitute(payload, pair, 0))
                self.counts[f"{op} declared refusal"] += 1
                note(f"{step} -> {spec.name}: {outcome.describe()} (declared: {reason})")
                assert not outcome.ok and isinstance(outcome.error, TelephonyError), (
                    f"{step}: {spec.name} declares it cannot do this ({reason}) but gave "
                    f"{outcome.describe()}")
                self.check(step)
                return
            outcomes = [run(w.session, op, _substitute(payload, pair, side))
                        for side, w in enumerate(self.worlds)]
            self.counts[f"{op} {'ok' if outcomes[0].ok else 'refused'}"] += 1
            note(f"{step} -> {spec.name}: {outcomes[0].describe()}; "
                 f"{reference.name}: {outcomes[1].describe()}")
            assert outcomes[0].ok == outcomes[1].ok, (
                f"{step}: {spec.name} gave {outcomes[0].describe()} but {reference.name} gave "
                f"{outcomes[1].describe()}")
            refs = [o.result for o in outcomes]
            if all(isinstance(r, CallRef) and r.call_id for r in refs):
                self.pairs.append((refs[0].call_id, refs[1].call_id))
            self.check(step)

        @precondition(lambda self: all(w.can("answer") or w.can("far_hangup")
                                       or w.can("press") for w in self.worlds))
        @rule(data=st.data())
        def far_end(self, data: st.DataObject) -> None:
            actions = [a for a in _FAR_END if all(w.can(a) for w in self.worlds)]
            action = data.draw(st.sampled_from(actions), label="far end")
            live = self.live_parties()
            pool = live if live and data.draw(st.integers(0, 9), label="live") < 8 else parties
            party = data.draw(st.sampled_from(pool), label="party")
            args: tuple[Any, ...] = (party,)
            if action == "press":
                args += (data.draw(st.sampled_from("0123456789*#"), label="key"),)
            outcomes = [w.act(action, *args) for w in self.worlds]
            step = f"far end: {action}{args}"
            assert outcomes[0].ok == outcomes[1].ok, (
                f"{step}: the models disagree ({outcomes[0].describe()} / "
                f"{outcomes[1].describe()})")
            self.check(step)

        @precondition(lambda self: all(w.can("clock") for w in self.worlds))
        @rule(seconds=st.sampled_from([1, 5, 11, 31, 120]))
        def clock(self, seconds: int) -> None:
            for w in self.worlds:
                w.act("clock", seconds)
            self.check(f"clock +{seconds}s")

    for op in ops:  # one rule per operation, so operations are not crowded out by far-end steps
        def step(self: Any, data: st.DataObject, op: str = op) -> None:
            self.operation(op, data)

        step.__name__ = op
        setattr(Equivalence, op, rule(data=st.data())(step))
    Equivalence.__name__ = f"{spec.name.title()}EquivalesTo{reference.name.title()}"
    return Equivalence



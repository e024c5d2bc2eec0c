"""``telephony demo``: a guided tour of the API, with the events each step caused.

With nothing configured it runs on the in-process simulator. ``--provider NAME`` runs the same
tour through that provider against its emulator over real HTTP; steps the provider does not
declare, or whose canonical payload its schema narrows away, are skipped and said so. The far
end (answering phones, pressing keys) is played on the emulator's PBX model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import click

from ..errors import PayloadError, TelephonyError, UnsupportedOperation
from ..results import Event
from .model import Pbx

__all__ = ["TOUR", "Step", "demo_command", "run_tour"]

STEP_SECONDS = 3.0


@attrs.frozen
class Step:
    title: str
    operation: str
    action: Callable[[Any, Pbx], Any]


class Refused(Exception):
    """No form of the step passes this provider's schema (or it lacks the operation)."""


def _first_accepted(client: Any, op: str, *forms: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Run ``op`` with the first payload form the provider's schema accepts. Validation happens
    before any I/O, so trying a form the provider narrows away sends nothing."""
    reasons = []
    for form in forms:
        try:
            return client.invoke(op, form), form
        except PayloadError as exc:
            reasons.append(exc.message)
    raise Refused(reasons[-1] if reasons else f"no form of {op}")


def _answer(pbx: Pbx, *parties: str) -> None:
    for party in parties:
        pbx.answer(party)


def _talking(pbx: Pbx, party: str, other: str = "ext:1001") -> Any:
    """The call ``party`` is talking in, set up on the model when an earlier step was skipped."""
    for call in pbx.list_calls():
        if party in call.parties and call.state == "talking":
            return call
    _clear(pbx)  # whatever skipped steps left up could make the parties busy
    call = pbx.dial(party, other, auto_answer=True)
    pbx.answer(other)
    return call


def _leg(call: Any) -> str:
    return "inbound" if call.direction == "inbound" else "outbound"


def _clear(pbx: Pbx) -> None:
    """The far end hangs up whatever earlier steps left (a provider may lack hangup)."""
    for call in pbx.list_calls():
        pbx.hangup(f"call:{call.id}")


def _dial_forms(callee: str) -> tuple[dict[str, Any], ...]:
    return ({"caller": "ext:1000", "callee": callee},
            {"caller": "ext:1000", "callee": "tel:41000"},
            {"caller": "tel:5551000", "callee": "tel:41000", "caller_id": "5551000"},
            {"caller": "tel:5551000", "callee": "tel:41000", "permission_extension": "ext:1000"})


def _dial(client, pbx, callee: str):
    _clear(pbx)
    ref, form = _first_accepted(client, "dial", *_dial_forms(callee))
    _answer(pbx, form["caller"], form["callee"])
    return ref


def _dial_internal(client, pbx):
    return _dial(client, pbx, "ext:1001")


def _hold(client, pbx):
    call = _talking(pbx, "ext:1000")
    forms = ({"call": "ext:1000"}, {"call": f"call:{call.id}"})
    _first_accepted(client, "hold", *forms)
    return _first_accepted(client, "unhold", *forms)[0]


def _transfer(client, pbx):
    _clear(pbx)
    offered = pbx.incoming("5559999", "5551000")  # a customer calls in, routed to ext:1000
    pbx.clock.advance(10)
    pbx.answer("ext:1000")
    ref, _ = _first_accepted(
        client, "transfer", {"call": "ext:1000", "to": "ext:1002"},
        {"call": f"call:{offered.id}", "leg": "inbound", "to": "ext:1002"})
    _answer(pbx, "ext:1002")
    return ref


def _monitor(client, pbx):
    call = _talking(pbx, "ext:1002")
    done = []
    for mode in ("listen", "whisper", "barge"):
        try:
            _first_accepted(client, "monitor", {"supervisor": "ext:1005", "call": "ext:1002",
                                                "mode": mode})
        except Refused:
            continue
        done.append(mode)
        pbx.far_hangup("ext:1005")  # the supervisor leaves before trying the next mode
    if not done:
        raise Refused("no monitor mode is accepted")
    return f"{', '.join(done)} on call {call.id}"


def _hangup_of(client, pbx, party: str):
    call = _talking(pbx, party)
    return _first_accepted(client, "hangup", {"call": party},
                           {"call": f"call:{call.id}", "leg": _leg(call)},
                           {"call": f"call:{call.id}"})[0]


def _hangup(client, pbx):
    return _hangup_of(client, pbx, "ext:1002")


def _dial_external(client, pbx):
    return _dial(client, pbx, "tel:41000")


def _list(client, pbx):
    return client.list_calls()


def _hangup_external(client, pbx):
    return _hangup_of(client, pbx, "ext:1000")


def _prompt(client, pbx):
    _clear(pbx)
    base = {"to": "tel:41000", "prompts": ["hello111"]}
    menu = {"menu": {"1": "group:extGroup-1"}, "reference": "demo-42"}
    ref, form = _first_accepted(client, "play_prompt", {**base, **menu, "caller_id": "5551000"},
                                {**base, **menu}, {**base, "caller_id": "5551000"}, base)
    pbx.answer("tel:41000")
    pbx.clock.advance(5)  # the prompt plays...
    if "menu" in form:
        pbx.press("tel:41000", "1")  # ...and the callee presses 1 for the agents
        _answer(pbx, "ext:1001")
    return ref


def _moh(client, pbx):
    scope = {"tenant": "foo", "group": "foogroup", "user": "foouser"}
    _first_accepted(client, "set_music_on_hold",
                    {"scope": scope, "active": True,
                     "source": {"selection": "custom", "file": "My Music"}})
    return client.get_music_on_hold(scope)


def _sms(client, pbx):
    return _first_accepted(client, "send_sms", {"to": "tel:18396210850", "sender": "GSM-trunk",
                                                "text": "Your order 42 has shipped"})[0]


def _hangup_all(client, pbx):
    _clear(pbx)
    return client.list_calls() if client.supports("list_calls") else "all calls ended"


TOUR: tuple[Step, ...] = (
    Step("Dial ext:1000 -> ext:1001 (or the nearest form the provider takes)", "dial",
         _dial_internal),
    Step("Hold and unhold ext:1000", "hold", _hold),
    Step("An inbound call reaches ext:1000, blind-transferred to ext:1002", "transfer",
         _transfer),
    Step("Supervisor ext:1005 listens, whispers, barges in", "monitor", _monitor),
    Step("Hang up", "hangup", _hangup),
    Step("Dial ext:1000 -> tel:41000 (or the nearest form the provider takes)", "dial",
         _dial_external),
    Step("List live calls", "list_calls", _list),
    Step("Hang up the external call", "hangup", _hangup_external),
    Step("Play a prompt with a key-press menu (1 -> agents)", "play_prompt", _prompt),
    Step("Set and read music on hold", "set_music_on_hold", _moh),
    Step("Send an SMS through the GSM trunk", "send_sms", _sms),
    Step("Hang up everything and list calls", "list_calls", _hangup_all),
)


def _describe(event: Event, start: float) -> str:
    offset = (event.at.timestamp() - start) if event.at else 0.0
    details = ", ".join(f"{k}={v}" for k, v in event.data.items() if k != "party")
    parties = " <-> ".join(event.parties) or "-"
    return (f"    +{offset:5.1f}s  {event.kind:<17} {event.call_id or '':<16} {parties}"
            + (f"  ({details})" if details else ""))


def run_tour(client: Any, pbx: Pbx, echo: Callable[[str], None]) -> tuple[int, int]:
    """Run every step; returns (steps run, steps skipped). Raises on a real failure."""
    events: list[Event] = []
    unsubscribe = pbx.subscribe(events.append)
    start = pbx.clock.now()
    ran = skipped = 0
    try:
        for number, step in enumerate(TOUR, 1):
            echo(click.style(f"{number:2}. {step.title}", bold=True))
            if not client.supports(step.operation):
                echo(f"    skipped: {client.name} does not support {step.operation}")
                skipped += 1
                continue
            events.clear()
            try:
                result = step.action(client, pbx)
            except (UnsupportedOperation, Refused) as exc:
                echo(f"    skipped: {client.name} accepts no form of this step ({exc})")
                skipped += 1
                continue
            ran += 1
            pbx.clock.advance(STEP_SECONDS)  # let the calls last a little, for the CDRs
            echo(f"    -> {_summary(result)}")
            for event in events:
                echo(_describe(event, start))
    finally:
        unsubscribe()
    return ran, skipped


def _summary(result: Any) -> str:
    from ..results import Ack, CallRef, MusicOnHold, SmsReceipt

    if isinstance(result, list):
        return f"{len(result)} call(s)" + "".join(
            f"\n       {c.call_id} {c.caller} -> {c.callee} [{c.state}]" for c in result)
    if isinstance(result, CallRef):
        return f"accepted, call id {result.call_id or '(none: the provider only acknowledges)'}"
    if isinstance(result, Ack):
        return "done"
    if isinstance(result, SmsReceipt):
        return f"message {result.message_id}: {result.status}"
    if isinstance(result, MusicOnHold):
        source = result.source
        return (f"active={result.active}, source={source.selection if source else None}"
                f" {source.file if source and source.file else ''}").rstrip()
    return str(result)


@contextlib.contextmanager
def _session(provider: str | None) -> Iterator[tuple[Any, Pbx, str]]:
    if provider in (None, "sim"):
        from ..client import connect

        with connect("sim://") as client:
            yield client, client.provider.pbx, "the built-in simulator"
        return
    from ..emulation import emulated
    from ..errors import ConfigurationError

    with emulated(provider, client_options={"timeout": 5}) as emu:
        if not isinstance(emu.app.pbx, Pbx):
            raise ConfigurationError(
                f"{provider}'s emulator does not run on the shared PBX model "
                "(telephony_core.sim.Pbx), so the demo cannot play the far end", provider=provider)
        yield emu.client, emu.app.pbx, f"{provider}'s emulator at {emu.server.url} (real HTTP)"


@click.command("demo")
@click.option("--provider", metavar="NAME",
              help="Run the tour through this provider against its emulator.")
def demo_command(provider: str | None) -> None:
    """A guided tour of the API on the simulator (or a provider's emulator)."""
    from ..cli import fail

    try:
        with _session(provider) as (client, pbx, where):
            click.echo(f"telephony_core demo on {where}\n")
            ran, skipped = run_tour(client, pbx, click.echo)
    except TelephonyError as exc:
        fail(f"{type(exc).__name__}: {exc}")
    except ImportError as exc:
        fail(f"--provider needs the emulator kit: pip install 'telephony-core[emulation]' ({exc})")
    click.echo(f"\n{ran} steps ran, {skipped} skipped.")

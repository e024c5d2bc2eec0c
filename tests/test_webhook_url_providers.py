"""``webhook_url`` across providers: one option, each vendor's mechanism, and events that carry
the id the operation returned.

For every installed provider that declares the option, its emulator is started, the client is
connected with ``webhook_url`` pointing at a loopback endpoint, a call is placed (and an SMS
sent where the provider reports message status), the far end acts in the emulator's call
model, and the bodies that reached the endpoint must parse, through ``client.parse_event`` with
the URL they were posted to, into events whose ``call_id`` is the ``CallRef.call_id`` the dial
returned (or whose ``data["message_id"]`` is the ``SmsReceipt.message_id``). The providers come
from the registry, so a provider that gains the option is covered as soon as it has a row in
:data:`FAR_END` (and fails, naming the table, until it has one). Every provider that does not
declare the option must refuse it with a ConfigurationError naming ``webhook_url``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from telephony_core import connect, registry
from telephony_core.client import Client
from telephony_core.emulation import (
    EmulatorApp,
    EmulatorServer,
    Request,
    emulated,
    route,
    start_emulator,
)
from telephony_core.errors import ConfigurationError
from telephony_core.results import CallRef, Event, SmsReceipt

FAST = {"timeout": 2, "connect_timeout": 1, "deadline": 10, "retries": 0}
HOOK = "/telephony/events?tenant=7"  # a query string too: Twilio signs the whole URL


class Endpoint(EmulatorApp):
    """The application's webhook endpoint: each body with its headers and the URL it was
    posted to (path and query), answered 200."""

    def __init__(self):
        super().__init__()
        self.base = ""
        self.received: list[tuple[bytes, dict[str, str], str]] = []

    @route("POST", "/{path:path}")
    def take(self, request: Request, path: str):
        query = request.query_string.decode()
        with self.lock:
            self.received.append((request.get_data(), dict(request.headers),
                                  self.base + request.path + (f"?{query}" if query else "")))
        return {"ok": True}

    def events(self, client: Client) -> list[Event]:
        with self.lock:
            received = list(self.received)
        return [event for body, headers, url in received
                for event in client.parse_event(body, headers, url=url)]


@attrs.frozen
class FarEnd:
    """How to drive one provider here: connect to its emulator with ``webhook_url``, place a
    call, make the far end answer and the call end, and (where the provider reports message
    status) send an SMS."""

    connect: Callable[[str], contextlib.AbstractContextManager[tuple[Client, Any]]]
    dial: Callable[[Client], CallRef]
    act: Callable[[Client, Any, CallRef], None]   # (client, the model's Pbx, the dial's ref)
    sms: Callable[[Client], SmsReceipt] | None = None


def _emulator(name: str, **options: Any):
    @contextlib.contextmanager
    def start(url: str) -> Iterator[tuple[Client, Any]]:
        with emulated(name, client_options={**FAST, **options, "webhook_url": url}) as emu:
            yield emu.client, emu.app.pbx
            emu.client.close()  # flushes what the provider queued (the sim's poster)

    return start


@contextlib.contextmanager
def _sim(url: str) -> Iterator[tuple[Client, Any]]:
    with connect("sim://", webhook_url=url) as client:
        yield client, client.provider.pbx


def _answer_both_and_hang_up(caller: str, callee: str, hangup: str | None = None):
    def act(client: Client, pbx: Any, ref: CallRef) -> None:
        pbx.answer(caller)
        pbx.answer(callee)
        client.hangup(hangup or f"call:{ref.call_id}")  # written once for every provider

    return act


TW_CALLER, TW_CALLEE, TW_OTHER = "tel:+14155550100", "tel:+14155550101", "tel:+14155550102"

#: provider -> how to make its far end act. A provider that declares webhook_url needs a row.
FAR_END: dict[str, FarEnd] = {
    "twilio": FarEnd(
        _emulator("twilio"), lambda c: c.dial(caller=TW_CALLER, callee=TW_CALLEE),
        _answer_both_and_hang_up(TW_CALLER, TW_CALLEE),
        sms=lambda c: c.send_sms(to=TW_OTHER, text="hello")),
    "telnyx": FarEnd(
        # the callee leg is placed by handle_event on the caller's call.answered (a flow);
        # this test only reads events, so the caller's leg answers and is hung up
        _emulator("telnyx", sms_from="+15550100"),
        lambda c: c.dial(caller="tel:+41000", callee="tel:+41001", caller_id="+15550100"),
        lambda c, pbx, ref: (pbx.answer("tel:+41000"), c.hangup(f"call:{ref.call_id}")),
        sms=lambda c: c.send_sms(to="tel:+41000", text="hello")),
    # the two rows below are exercised once those providers declare webhook_url (the
    # simulator's delivery and Yeastar's login url/urltag are other helpers' work)
    "yeastar": FarEnd(
        _emulator("yeastar"), lambda c: c.dial("ext:1000", "ext:1001"),
        _answer_both_and_hang_up("ext:1000", "ext:1001", hangup="ext:1000")),
    "sim": FarEnd(
        _sim, lambda c: c.dial("ext:1000", "ext:1001"),
        _answer_both_and_hang_up("ext:1000", "ext:1001", hangup="ext:1000")),
}


def _declares(name: str) -> bool:
    schema = registry.get(name).config_schema or {}
    return "webhook_url" in schema.get("properties", {})


DECLARING = [n for n in registry.names() if _declares(n)]
REFUSING = [n for n in registry.names() if not _declares(n)]


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    app = Endpoint()
    with EmulatorServer(app) as server:
        app.base = server.url
        yield app, server.url + HOOK


def _until(check: Callable[[], bool], seconds: float = 8) -> None:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def _row(name: str) -> FarEnd:
    if name not in FAR_END:
        pytest.fail(f"provider {name!r} declares webhook_url: add a row for it to FAR_END in "
                    "tests/test_webhook_url_providers.py (how to make its far end act)")
    return FAR_END[name]


def test_the_declaring_providers_are_the_expected_ones():
    """Twilio and Telnyx take an event URL per request; the others' vendors do not (their
    pages say why), so the parametrization below is not silently empty."""
    assert {"twilio", "telnyx"} <= set(DECLARING)
    assert {"telecmi", "infinity", "apio", "ari"} <= set(REFUSING)


@pytest.mark.parametrize("name", DECLARING)
def test_call_events_reach_webhook_url_and_carry_the_dials_call_id(name, endpoint):
    app, url = endpoint
    row = _row(name)
    with row.connect(url) as (client, pbx):
        ref = row.dial(client)
        assert ref.call_id, f"{name}: the dial returned no call id to match events with"
        assert not ref.call_id.startswith("call:"), f"{name}: {ref.call_id!r} is not as it is"
        row.act(client, pbx, ref)
        _until(lambda: any(e.kind == "call.hangup" for e in app.events(client)))
        events = app.events(client)
    kinds = [e.kind for e in events]
    assert "call.answered" in kinds and "call.hangup" in kinds, kinds
    about_calls = [e for e in events if e.call_id is not None]
    assert about_calls and {e.call_id for e in about_calls} == {ref.call_id}
    assert all(u.startswith(url) for _, _, u in app.received)  # posted to webhook_url itself


SMS = [n for n in DECLARING if n in FAR_END and FAR_END[n].sms is not None]


@pytest.mark.parametrize("name", SMS)
def test_message_status_reaches_webhook_url_and_carries_the_message_id(name, endpoint):
    app, url = endpoint
    row = _row(name)
    assert row.sms is not None
    with row.connect(url) as (client, _):
        receipt = row.sms(client)
        _until(lambda: any(e.kind == "sms.status" for e in app.events(client)))
        statuses = [e for e in app.events(client) if e.kind == "sms.status"]
    assert statuses and {e.data["message_id"] for e in statuses} == {receipt.message_id}


@pytest.mark.parametrize("name", REFUSING)
def test_a_provider_whose_vendor_takes_no_event_url_refuses_the_option(name):
    with pytest.raises(ConfigurationError) as info:
        connect(name, webhook_url="https://app.example.com/telephony/events")
    assert info.value.key == "webhook_url"
    assert "takes no 'webhook_url'" in str(info.value)


@pytest.mark.parametrize("name", DECLARING)
def test_a_relative_webhook_url_is_refused_before_any_traffic(name):
    if registry.get(name).emulator is None:  # the simulator: nothing to send traffic to
        with pytest.raises(ConfigurationError) as info:
            connect(f"{name}://", webhook_url="/telephony/events")
        assert info.value.key == "webhook_url"
        return
    with start_emulator(name) as server:
        with pytest.raises(ConfigurationError) as info:
            connect(server.app.connect_url(server.url), webhook_url="/telephony/events")
        assert server.attempts == 0
    assert info.value.key == "webhook_url"


def test_without_the_option_no_callback_url_is_sent():
    """Control: the deliveries above are the option's doing, not an emulator default."""
    with emulated("twilio", client_options=FAST) as emu:
        ref = emu.client.dial(caller=TW_CALLER, callee=TW_CALLEE)
        emu.app.pbx.answer(TW_CALLER)
        emu.client.hangup(f"call:{ref.call_id}")
        assert "StatusCallback" not in emu.server.requests[0].form()
        assert emu.app.senders == {}

"""No public entry point raises anything but a TelephonyError, whatever it is given.

Typed methods and ``invoke`` refuse wrong types with a PayloadError naming the field before any
traffic; ``parse_event`` turns every unreadable body into an EventError, for every installed
provider that declares events; a provider's own bug before sending is a ProviderBug, never an
OutcomeUnknown and never retried; every error class survives pickling and deep copies.
"""

from __future__ import annotations

import contextlib
import copy
import json
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import telephony_core
from telephony_core import registry
from telephony_core.emulation import EmulatorServer, emulated
from telephony_core.errors import (
    AuthenticationError,
    ConfigurationError,
    EventError,
    OutcomeUnknown,
    PayloadError,
    PayloadProblem,
    ProviderBug,
    ProviderError,
    ProviderLoadError,
    ProviderNotFound,
    RateLimited,
    SignatureError,
    TelephonyError,
    TransportError,
    UnknownOperation,
    UnsupportedOperation,
)
from telephony_core.http import MalformedReply, Route, WireRequest

from .conftest import LoopbackApp, LoopbackProvider, loopback_variant

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8),
    st.binary(max_size=8), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sets(st.integers(), max_size=2), st.builds(object), st.just(("ext:1000",)),
)


def test_a_bare_string_of_prompts_is_refused_not_split_into_letters():
    with telephony_core.connect("sim://") as sim, pytest.raises(PayloadError) as info:
        sim.play_prompt("ext:1000", "welcome")
    assert info.value.problems[0].path == "$.prompts"
    assert "wrong type" in info.value.problems[0].message and "array" in str(info.value)


@pytest.mark.parametrize("payload", [42, "dial", ["caller"], b"{}", object()],
                         ids=["int", "str", "list", "bytes", "object"])
def test_invoke_with_a_payload_that_is_not_a_mapping_is_a_payload_error(payload):
    with telephony_core.connect("sim://") as sim, pytest.raises(PayloadError) as info:
        sim.invoke("dial", payload)
    assert info.value.problems[0].path == "$" and "mapping" in str(info.value)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(op=st.sampled_from(["dial", "hold", "list_calls", "play_prompt", "monitor", "send_sms",
                           "set_music_on_hold", "transfer", "get_music_on_hold"]),
       values=st.lists(ODD_VALUES, min_size=1, max_size=3))
def test_typed_methods_refuse_any_odd_value_with_a_telephony_error(op, values):
    signatures = {
        "dial": ("caller", "callee"), "hold": ("call",), "list_calls": ("ids",),
        "play_prompt": ("to", "prompts"), "monitor": ("supervisor", "call", "mode"),
        "send_sms": ("to", "text"), "set_music_on_hold": ("scope",), "transfer": ("call", "to"),
        "get_music_on_hold": ("scope",),
    }
    names = signatures[op]
    kwargs = {name: values[i % len(values)] for i, name in enumerate(names)}
    with telephony_core.connect("sim://") as sim, contextlib.suppress(TelephonyError):
        getattr(sim, op)(**kwargs)  # a TelephonyError is the only acceptable failure


def test_a_wrong_type_reaches_no_server(loopback):
    server, client = loopback
    server.clear()
    for call in (lambda: client.dial(42, "tel:1"), lambda: client.list_calls(ids=5),
                 lambda: client.hold(None), lambda: client.invoke("dial", 7),
                 lambda: client.send_sms("tel:1", ["a"])):
        with pytest.raises(PayloadError):
            call()
    assert server.attempts == 0


UNREADABLE_BODIES = {
    "empty": b"",
    "truncated": b'{"action": "ANSWER", "call',
    "not utf-8": b'{"a": "\xff\xfe"}',
    "not json": b"<xml>nope</xml>",
    "json list": b"[1, 2, 3]",
    "json string": b'"hello"',
    "json null": b"null",
    "wrong types": b'{"action": 5, "type": [], "callid": {}, "members": 7, "status": null,'
                   b' "cmiuid": 3, "event": 1, "call_id": [], "data": "x", "from": 1}',
    "missing fields": b"{}",
    "deep nesting": b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
    "form where json is expected": b"action=ANSWER&callid=1&from=1000",
    "ten megabytes": b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}',
}


def event_providers() -> list[str]:
    return sorted(name for name in registry.names() if registry.get(name).events)


@pytest.mark.parametrize("name", event_providers())
def test_parse_event_raises_only_event_errors_for_every_provider(name):
    spec = registry.get(name)
    context = emulated(name) if spec.http else None
    if context is None:
        client = telephony_core.connect(f"{name}://")
    else:
        emulation = context.__enter__()
        client = emulation.client
    try:
        for label, body in UNREADABLE_BODIES.items():
            for headers in ({}, {"Content-Type": "application/x-www-form-urlencoded"},
                            {"Content-Type": "application/json"}):
                try:  # a URL for providers that sign over it (Twilio); the others ignore it
                    client.parse_event(body, headers, url="https://app.example/hook")
                except TelephonyError as exc:
                    assert exc.provider == name
                    if label in ("ten megabytes", "deep nesting", "not json", "json list"):
                        assert isinstance(exc, EventError), (label, exc)
                # a provider may read some bodies as events (an empty form, say): that is fine
        for odd in (None, 42, [1], object()):
            with pytest.raises(EventError):
                client.parse_event(odd)  # type: ignore[arg-type]
    finally:
        if context is None:
            client.close()
        else:
            context.__exit__(None, None, None)


def test_an_event_error_does_not_echo_the_body():
    with telephony_core.connect("sim://") as sim, pytest.raises(EventError) as info:
        sim.parse_event(b'{"secret-looking": "hunter2", "truncated": ')
    assert "hunter2" not in str(info.value)


class BuggyProvider(LoopbackProvider):
    routes = {**LoopbackProvider.routes,
              "dial": Route(lambda self, p: WireRequest("POST", "/dial", json={
                  "from": p["no such field"]}), LoopbackProvider.routes["dial"].from_reply),
              "hold": Route(lambda self, p: {}["boom"], LoopbackProvider.routes["hold"].from_reply),
              "list_calls": Route(LoopbackProvider.routes["list_calls"].to_request,
                                  lambda self, data, p: data["no such key"])}


@pytest.fixture
def buggy():
    with loopback_variant("buggy", BuggyProvider) as (_, server, url), \
            telephony_core.connect(url, retries=2) as client:
        yield server, client


def test_a_provider_bug_before_sending_is_provider_bug_not_outcome_unknown(buggy):
    server, client = buggy
    with pytest.raises(ProviderBug) as dial:
        client.dial("ext:1000", "tel:41000")
    with pytest.raises(ProviderBug) as hold:
        client.hold("ext:1000")
    assert server.requests_to("/dial") == [] and server.requests_to("/hold") == []
    assert dial.value.request_sent is False
    assert isinstance(dial.value.__cause__, KeyError)  # the original, for its traceback
    assert "bug in the buggy provider" in str(hold.value)


def test_a_parsing_failure_after_the_reply_arrived_stays_may_have_happened(buggy):
    _, client = buggy
    with pytest.raises(MalformedReply) as info:
        client.list_calls()
    assert info.value.request_sent is True


ERRORS = [
    TelephonyError("m", provider="p", operation="o"),
    ConfigurationError("bad", key="url", provider="p"),
    ProviderNotFound("nope", ["sim", "yeastar"]),
    ProviderLoadError("x", "telephony-x", "ImportError: y"),
    UnsupportedOperation("hold", ["dial"], provider="p"),
    UnknownOperation("dail", ["dial"], provider="p"),
    PayloadError([PayloadProblem("$.to", "missing")], provider="p", operation="dial"),
    EventError("not JSON", provider="p"),
    SignatureError("stale timestamp", provider="p"),
    TransportError("reset", request_sent=True, reason="reset", provider="p"),
    MalformedReply("not json", provider="p", operation="dial"),
    ProviderBug("KeyError", provider="p", operation="dial"),
    OutcomeUnknown("lost", reason="read_timeout", provider="p", operation="dial"),
    AuthenticationError("no", provider="p"),
    RateLimited("slow", retry_after=2.5, provider="p"),
    ProviderError("busy", code="extension_not_idle", category="busy", vendor_code="10007"),
]


@pytest.mark.parametrize("error", ERRORS, ids=[type(e).__name__ for e in ERRORS])
def test_every_error_pickles_and_copies_to_an_equal_error(error):
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error), copy.copy(error)):
        assert type(clone) is type(error) and clone == error
        assert vars(clone) == vars(error) and str(clone) == str(error)


def test_error_constructors_refuse_misspelt_keywords():
    with pytest.raises(TypeError):
        TransportError("x", request_snt=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ProviderError("x", categroy="busy")  # type: ignore[call-arg]


def test_events_are_immutable_and_hashable():
    event = telephony_core.Event(kind="system", provider="p", data={"a": [1, {"b": 2}]})
    with pytest.raises(TypeError):
        event.data["a"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        event.data["a"].append(3)
    assert hash(event) == hash(copy.deepcopy(event)) and event == pickle.loads(pickle.dumps(event))
    assert json.loads(json.dumps(event.data)) == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize("url", [
    "loopback://api:pa/ss#w0rd@127.0.0.1:9", "loopback://api:pa?ss@host",
    "loopback://api:12/34@host", "api:pa55w0rd@host", "loopback://api:p@ss@host:notaport",
])
def test_url_errors_never_show_the_password(loopback_spec, url):
    secret = url.split("api:", 1)[1].rsplit("@", 1)[0]
    with pytest.raises(ConfigurationError) as info:
        telephony_core.connect(url)
    text = str(info.value) + repr(info.value.args) + repr(vars(info.value))
    assert secret not in text, text
    for part in secret.replace("/", " ").replace("#", " ").replace("?", " ").split():
        if len(part) >= 3:
            assert part not in text, (part, text)


def test_the_cli_never_shows_a_url_password(tmp_path):
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "telephony_core.cli", "invoke", "yeastar://api:s3cr/et#x@pbx:1",
         "dial", "{}"], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    for part in ("s3cr", "et#x"):
        assert part not in run.stdout + run.stderr
    assert "percent-encoded" in run.stderr


def test_requests_go_through_the_configured_proxy(loopback_spec):
    """The proxy is a second loopback server that answers in the app's place: the request
    reaching it (in absolute form) proves it went through the proxy."""
    target_app, proxy_app = LoopbackApp(), LoopbackApp()
    with EmulatorServer(target_app) as target, EmulatorServer(proxy_app) as proxy:
        url = target_app.connect_url(target.url)
        with telephony_core.connect(url, proxy=proxy.url) as client:
            client.list_calls()
            assert "proxy" not in repr(client.config) or "***" in repr(client.config)
        assert target.attempts == 0 and len(proxy.requests) == 2
        assert proxy.requests[0].raw_path.startswith("http://127.0.0.1:")

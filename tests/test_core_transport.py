"""The retry policy against a real loopback server that delays, resets and errs.

The promise under test: a non-idempotent operation is sent at most once; reads and idempotent
operations recover where a retry can; failures before sending are retried for every kind.
"""

from __future__ import annotations

import logging
import re
import socket
import time

import pytest

import telephony_core
from telephony_core.emulation import Fault
from telephony_core.errors import (
    OutcomeUnknown,
    PayloadError,
    ProviderError,
    RateLimited,
    TransportError,
)


def sent(server, path: str) -> int:
    return sum(1 for r in server.requests if r.path == path)


def test_a_dial_is_sent_exactly_once_on_a_read_timeout(loopback):
    server, client = loopback
    client.list_calls()  # log in first, so the only traffic below is the dial
    server.inject(Fault.delay(1.0), path="/dial", times=None)
    with pytest.raises(OutcomeUnknown) as info:
        client.dial("ext:1000", "tel:41000")
    assert sent(server, "/dial") == 1
    assert "not re-sent" in str(info.value) and info.value.operation == "dial"
    assert len(server.app.calls) == 1  # it did happen on the far side: hence "unknown"


def test_a_dial_is_not_resent_when_the_connection_resets_after_the_request(loopback):
    server, client = loopback
    client.list_calls()
    server.inject(Fault.reset_after_read(), path="/dial", times=None)
    with pytest.raises(OutcomeUnknown):
        client.dial("ext:1000", "tel:41000")
    assert sent(server, "/dial") == 1


def test_a_dial_refused_with_5xx_is_not_resent(loopback):
    server, client = loopback
    client.list_calls()
    server.inject(Fault.http_error(503), path="/dial", times=None)
    with pytest.raises(ProviderError) as info:
        client.dial("ext:1000", "tel:41000")
    assert info.value.category == "transient" and sent(server, "/dial") == 1


def test_a_dial_refused_with_429_waits_as_asked_and_is_sent_again(loopback):
    """A 429 is a complete refusal (nothing was acted on), so even a dial may be sent again,
    after the wait the provider asked for; the app placed exactly one call."""
    server, client = loopback
    client.list_calls()
    server.inject(Fault.http_error(429, headers={"Retry-After": "0.4"}), path="/dial", times=1)
    started = time.monotonic()
    assert client.dial("ext:1000", "tel:41000").call_id == "c1"
    assert time.monotonic() - started >= 0.4
    assert sent(server, "/dial") == 2 and len(server.app.calls) == 1
    server.clear()
    server.inject(Fault.http_error(429, headers={"Retry-After": "0.2"}), path="/dial", times=None)
    with pytest.raises(RateLimited) as limited:
        client.dial("ext:1000", "tel:41000")
    assert limited.value.retry_after == 0.2 and sent(server, "/dial") == 3  # retries=2


def test_a_hold_is_retried_after_a_reset_and_succeeds(loopback):
    server, client = loopback
    client.list_calls()
    server.inject(Fault.reset_after_read(), path="/hold", times=1)
    assert client.hold("ext:1000").provider == "loopback"
    assert sent(server, "/hold") == 2


@pytest.mark.parametrize("fault", [
    Fault.http_error(503), Fault.malformed_body(), Fault.truncated_body(),
    Fault.delay(1.0), Fault.reset_before_read(),
], ids=["503", "malformed", "truncated", "read-timeout", "reset-before-read"])
def test_reads_and_idempotent_operations_recover_from_one_fault(loopback, fault):
    server, client = loopback
    client.list_calls()
    server.inject(fault, path="/calls", times=1)
    assert client.list_calls() == []
    server.inject(fault, path="/hold", times=1)
    client.hold("ext:1000")


def test_retry_after_is_honoured_for_idempotent_operations(loopback, caplog):
    server, client = loopback
    client.list_calls()
    server.inject(Fault.http_error(429, headers={"Retry-After": "0.3"}), path="/hold", times=1)
    with caplog.at_level(logging.INFO, logger="telephony_core.retry"):
        client.hold("ext:1000")
    waits = [float(m.group(1)) for r in caplog.records
             if (m := re.search(r"retry \d+ of \d+ in ([0-9.]+)s", r.getMessage()))]
    assert waits and waits[0] >= 0.3
    assert sent(server, "/hold") == 2


def test_retries_stop_at_the_configured_count(loopback_spec):
    from telephony_core.emulation import EmulatorServer

    app = loopback_spec.emulator_factory()()
    with EmulatorServer(app) as server:
        url = app.connect_url(server.url) + "&retries=3&timeout=0.5"
        with telephony_core.connect(url) as client:
            client.list_calls()
            server.inject(Fault.http_error(503), path="/hold", times=None)
            with pytest.raises(ProviderError, match="HTTP 503"):
                client.hold("ext:1000")
            assert sent(server, "/hold") == 4  # the first try and three retries


def test_a_vendor_refusal_is_a_typed_error_and_not_retried(loopback):
    server, client = loopback
    with pytest.raises(ProviderError) as info:
        client.mute("ext:1000")
    assert (info.value.category, info.value.code, info.value.vendor_code) == (
        "busy", "extension_not_idle", "409")
    assert sent(server, "/busy") == 1


def test_connection_refused_is_retried_and_ends_as_transport_error_never_outcome_unknown(
        loopback_spec):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"loopback://api:pw@127.0.0.1:{port}?scheme=http&retries=2&connect_timeout=0.5"
    with telephony_core.connect(url) as client, pytest.raises(TransportError) as info:
        client.dial("ext:1000", "tel:41000")
    assert info.value.request_sent is False and "could not connect" in str(info.value)


def test_tls_to_a_plain_http_server_fails_before_sending(loopback_spec):
    from telephony_core.emulation import EmulatorServer

    app = loopback_spec.emulator_factory()()
    with EmulatorServer(app) as server:
        url = server.url.replace("http://", "loopback://api:pw@") + "?retries=0"
        with telephony_core.connect(url) as client, pytest.raises(TransportError) as info:
            client.dial("ext:1000", "tel:41000")
        assert info.value.request_sent is False
        assert server.requests == []


def test_bad_payloads_never_reach_the_wire(loopback):
    server, client = loopback
    for payload in ({"caller": "ext:1000"}, {"caller": "ext:1000", "callee": "tel:abc"},
                    {"caller": "ext:", "callee": "ext:1001"},
                    {"caller": "foo:1", "callee": "ext:1001"},
                    {"caller": "ext:1000\n", "callee": "ext:1001"},  # Python's $ would take it
                    {"caller": "ext:1000", "callee": "ext:1001", "colour": "red"},
                    {"caller": 1000, "callee": "ext:1001"}):
        with pytest.raises(PayloadError) as info:
            client.invoke("dial", payload)
        assert info.value.problems and info.value.problems[0].path.startswith("$")
    assert server.attempts == 0 and server.requests == []


def test_payload_errors_list_every_problem_with_its_path(loopback):
    _, client = loopback
    with pytest.raises(PayloadError) as info:
        client.invoke("dial", {"callee": "tel:abc", "colour": "red", "auto_answer": "yes"})
    by_path = {p.path: p.message for p in info.value.problems}
    assert "'caller' is required" in by_path["$"] or "'caller' is required" in str(info.value)
    assert "not a valid tel: address" in by_path["$.callee"]
    assert "wrong type: expected boolean" in by_path["$.auto_answer"]
    assert "colour" in str(info.value)


def test_insecure_transport_is_a_filterable_warning(loopback_spec):
    import warnings

    from telephony_core.errors import InsecureTransportWarning

    with pytest.warns(InsecureTransportWarning, match="verification is OFF"):
        telephony_core.connect("loopback://api:pw@pbx.example?insecure=true").close()
    with pytest.warns(InsecureTransportWarning, match="plain http"):
        telephony_core.connect("loopback://api:pw@pbx.example?scheme=http").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loopback http is the emulators' normal case
        telephony_core.connect("loopback://api:pw@127.0.0.1?scheme=http").close()
        warnings.simplefilter("error", InsecureTransportWarning)
        with pytest.raises(InsecureTransportWarning):  # -W error works
            telephony_core.connect("loopback://api:pw@pbx.example?scheme=http")

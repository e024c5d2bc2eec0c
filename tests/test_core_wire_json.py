"""WireReply.json reads a reply exactly as ``json.loads`` would: its fast path for the shape
every API replies with (a UTF-8 object or array) accepts and refuses the same bodies, with the
same values; whatever json.loads refuses is a MalformedReply (a reply that may have acted)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony_core.wire import MalformedReply, WireReply

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def _as_loads_reads(body: bytes) -> tuple[str, str]:
    try:
        return "ok", repr(json.loads(body))
    except ValueError:
        return "malformed", ""


def _as_reply_reads(body: bytes) -> tuple[str, str]:
    try:
        return "ok", repr(WireReply(200, {}, body).json())
    except MalformedReply:
        return "malformed", ""


@settings(max_examples=400)
@given(value=json_values, before=st.sampled_from(["", " ", "\n"]),
       after=st.sampled_from(["", " \r\n\t", "x", "{}", "\x00", "\x0b", "\u00a0", "]"]))
def test_a_reply_reads_as_json_loads_reads_it(value: object, before: str, after: str) -> None:
    body = (before + json.dumps(value) + after).encode("utf-8", "surrogatepass")
    assert _as_reply_reads(body) == _as_loads_reads(body)


@settings(max_examples=400)
@given(tail=st.binary(max_size=24), start=st.sampled_from([b"{", b"[", b"\xef\xbb\xbf{", b""]))
def test_arbitrary_bytes_are_read_or_refused_as_json_loads_does(start: bytes, tail: bytes) -> None:
    body = start + tail
    assert _as_reply_reads(body) == _as_loads_reads(body)


@pytest.mark.parametrize("body", [
    b'{"status": "Success"}', "{\"a\": \"\u00e9\"}".encode(), b'[1, 2]  \n',
    '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-8-sig"), '[1]'.encode("utf-32-le")])
def test_documented_replies_and_other_encodings_read_the_same(body: bytes) -> None:
    assert WireReply(200, {}, body).json() == json.loads(body)


@pytest.mark.parametrize("body", [b'{"a": 1} trailing', b'{"a": ', b'{"a": "\xff"}', b"{}{}",
                                  b"[1]\x00"])
def test_what_is_not_json_is_a_malformed_reply(body: bytes) -> None:
    with pytest.raises(MalformedReply) as caught:
        WireReply(502, {}, body).json()
    assert caught.value.request_sent and "HTTP 502" in caught.value.message


def test_non_finite_numbers_are_read_as_json_loads_reads_them() -> None:
    assert math.isnan(WireReply(200, {}, b'{"a": NaN}').json()["a"])

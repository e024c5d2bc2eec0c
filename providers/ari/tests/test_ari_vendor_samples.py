"""ARI against Asterisk's own samples, from both sides.

ARI has no ``tests/documented/`` of the conformance kit's format: that format is HTTP requests
with their replies and webhook bodies, and ARI's events arrive as WebSocket frames. Asterisk's
documentation prints one whole exchange, "Getting Started with ARI" (transcribed with its source
in ``vendor_samples/getting-started-with-ari.json``): four event frames and the reply to a play.
Here the provider reads every one of those frames, and the emulator's own frames and play reply
have their shape (what a sample shows, the emulator sends, with the same JSON types; the
emulator may send more, which the Swagger models in test_ari_spec.py check).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ari_helpers import ari, wait_for
from telephony_ari.translate import events_from_frame

from telephony_core.errors import EventError

SAMPLES = json.loads((Path(__file__).parent / "vendor_samples" /
                      "getting-started-with-ari.json").read_text(encoding="utf-8"))
FRAMES: dict[str, dict[str, Any]] = SAMPLES["frames"]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array", type(None): "null"}[type(value)]


def missing(sample: Any, got: Any, where: str = "$") -> list[str]:
    """What ``sample`` shows that ``got`` lacks or types otherwise (``got`` may have more)."""
    if _json_type(sample) != _json_type(got):
        return [f"{where}: {_json_type(got)}, the sample shows {_json_type(sample)}"]
    if isinstance(sample, dict):
        out = []
        for key, value in sample.items():
            if key not in got:
                out.append(f"{where}.{key}: absent, the sample shows it")
            else:
                out += missing(value, got[key], f"{where}.{key}")
        return out
    if isinstance(sample, list) and sample:
        return [p for item in got for p in missing(sample[0], item, f"{where}[]")]
    return []


def test_missing_finds_an_absent_key_and_a_wrong_type() -> None:
    sample = {"a": "x", "b": {"c": 1}}
    assert missing(sample, {"a": "y", "b": {"c": 2}, "extra": True}) == []
    assert missing(sample, {"a": "y", "b": {}}) == ["$.b.c: absent, the sample shows it"]
    assert missing(sample, {"a": 1, "b": {"c": 2}}) == ["$.a: number, the sample shows string"]


# -- the provider reads the vendor's frames ----------------------------------------------------


def test_stasis_start_of_the_sample_is_an_offered_call_with_its_channel_id() -> None:
    [event] = events_from_frame(json.dumps(FRAMES["StasisStart"]))
    assert (event.kind, event.call_id) == ("call.offered", "1400609726.3")
    assert event.data["to"] == "1000" and event.data["channel"] == "1400609726.3"
    # the sample's timestamp carries its offset (-0500): kept, not read as UTC
    assert event.at is not None and event.at.utcoffset() == timedelta(hours=-5)


def test_playback_finished_of_the_sample_is_the_prompt_finished_on_its_channel() -> None:
    [event] = events_from_frame(json.dumps(FRAMES["PlaybackFinished"]))
    assert (event.kind, event.call_id) == ("prompt.finished", "1400609726.3")
    assert event.data["state"] == "done" and event.data["media"] == "sound:hello-world"


def test_stasis_end_of_the_sample_is_a_system_event_of_its_channel() -> None:
    [event] = events_from_frame(json.dumps(FRAMES["StasisEnd"]))
    assert (event.kind, event.call_id, event.data["ari"]) == ("system", "1400609726.3",
                                                              "StasisEnd")


def test_playback_started_is_not_read_so_the_stream_skips_it() -> None:
    """The canonical catalogue has no "prompt started"; the stream skips frames it does not
    read (a debug line), so this refusal is what keeps it out of events()."""
    with pytest.raises(EventError, match="not one this provider reads"):
        events_from_frame(json.dumps(FRAMES["PlaybackStarted"]))


# -- the emulator sends what the samples show ----------------------------------------------------


@pytest.fixture(scope="module")
def played() -> tuple[list[dict[str, Any]], list[tuple[Any, Any]]]:
    """A play_prompt played to its end through a real client: every frame the emulator sent,
    and every (request, response) it answered."""
    with ari() as emu:
        answered: list[tuple[Any, Any]] = []
        dispatch = emu.app.dispatch

        def keep(request):
            response = dispatch(request)
            answered.append((request, response))
            return response

        emu.app.dispatch = keep
        client, pbx = emu.client, emu.app.pbx
        ref = client.play_prompt(to="ext:1002", prompts=["hello111"], caller_id="5551000")
        pbx.answer("ext:1002")
        wait_for(lambda: f"{ref.call_id}-play" in emu.app.playbacks)
        pbx.clock.advance(6)
        wait_for(lambda: any(f["type"] == "StasisEnd" for _, f in emu.app.sent))
        return [frame for _, frame in emu.app.sent], answered


@pytest.mark.parametrize("kind", sorted(FRAMES))
def test_the_emulators_frames_have_the_samples_shape(played, kind) -> None:
    frames = [f for f in played[0] if f["type"] == kind]
    assert frames, f"the emulator sent no {kind} in a prompt played to its end"
    for frame in frames:
        assert missing(FRAMES[kind], frame) == [], (kind, frame)


def test_the_emulator_answers_a_play_as_the_sample_shows(played) -> None:
    """201 Created, a Location naming the playback, and the Playback ``queued`` (PlaybackStarted
    then says ``playing``). The sample (Asterisk 12) says ``/playback/ID``; today's Asterisk
    builds ``/playbacks/ID`` (res/ari/resource_channels.c): either names the playback."""
    sample = SAMPLES["play"]
    plays = [(q, r) for q, r in played[1]
             if q.method == "POST" and "/play/" in q.path]
    assert plays, "the flow sent no play"
    for _request, response in plays:
        body = response.get_json()
        assert response.status_code == sample["status"]
        assert missing(sample["reply"], body) == [] and body["state"] == "queued"
        location = response.headers.get("Location", "")
        assert location.rsplit("/", 1) in (["/playback", body["id"]],
                                            ["/playbacks", body["id"]]), location

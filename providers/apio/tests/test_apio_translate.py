"""Pure translation against seed 004's samples."""

from __future__ import annotations

import json
from pathlib import Path

from telephony_apio.translate import from_apio, moh_path, to_apio

from telephony_core.results import MusicSource

FIXTURES = Path(__file__).parent / "fixtures"
SEED_SCOPE = {"tenant": "foo", "group": "foogroup", "user": "foouser"}


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_the_seed_put_request_is_what_the_canonical_payload_becomes():
    payload = {"scope": SEED_SCOPE, "active": True,
               "source": {"selection": "custom", "file": "My Music"},
               "use_internal_source": True,
               "internal_source": {"selection": "group", "file": None}}
    assert to_apio(payload) == fixture("seed_put_request")


def test_only_the_fields_given_are_sent():
    assert to_apio({"scope": SEED_SCOPE, "active": False}) == {"isActive": False}
    assert to_apio({"scope": SEED_SCOPE, "source": {"selection": "group"}}) == {
        "source": {"messageSourceSelection": "Group"}}


def test_the_seed_get_reply_becomes_a_music_on_hold():
    moh = from_apio(fixture("seed_get_response"))
    assert moh.active is False and moh.use_internal_source is True
    assert moh.source == MusicSource("custom", "My Music", "WAV")
    assert moh.internal_source == MusicSource("group", None, None)
    assert moh.raw == fixture("seed_get_response")


def test_the_path_uses_users_not_the_seeds_typo_and_quotes_segments():
    assert moh_path(SEED_SCOPE, "/api/v1") == \
        "/api/v1/tenants/foo/groups/foogroup/users/foouser/services/music_on_hold/"
    assert "/user/" not in moh_path(SEED_SCOPE)
    assert moh_path({"tenant": "a b", "group": "g%", "user": "u"}).startswith(
        "/api/v01/p2/tenants/a%20b/groups/g%25/")


def test_behind_an_apio_core_the_resources_sit_under_its_prefix():
    """Netaxis' own UI (rockwelln/apio_pv_ui src/utils.js) reaches tenants at /api/v01/p2;
    the provider used to hard-code the gateway's /api/v1, a 404 behind an APIO core."""
    assert moh_path(SEED_SCOPE).startswith("/api/v01/p2/tenants/foo/")

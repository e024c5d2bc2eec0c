"""Every form a secret travels in is found by the suite and masked by the core."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

import pytest

from telephony_core.redaction import SECRETS, encoded_forms, redact
from telephony_core.testing.leaks import leaks

SECRET = "s3cr3t pass/word"


@pytest.mark.parametrize("user", ["a", "ab", "api", "abcd", "admin", "operator"])
def test_base64_of_user_and_secret_is_found_at_every_alignment(user):
    header = base64.b64encode(f"{user}:{SECRET}".encode()).decode()
    assert leaks([SECRET], {"the log": f"sent Authorization {header}"})


@pytest.mark.parametrize("form", [
    quote(SECRET, safe=""), SECRET.replace(" ", "+").replace("/", "%2F"),
    base64.b64encode(SECRET.encode()).decode(), hashlib.md5(SECRET.encode()).hexdigest(),
    hashlib.sha256(SECRET.encode()).hexdigest().upper()])
def test_encoded_forms_are_found(form):
    assert leaks([SECRET], {"the error": f"... {form} ..."})


def test_unrelated_text_is_not_reported():
    assert leaks([SECRET], {"the log": "GET /api/calls 200 Basic realm"}) == []


def test_the_report_masks_every_form_it_reports():
    header = base64.b64encode(f"api:{SECRET}".encode()).decode()
    [found] = leaks([SECRET], {"the log": f"Authorization: Basic {header}"})
    assert header not in found and SECRET not in found


@pytest.mark.parametrize("text", [
    "Authorization: Basic YXBpOmNhbmFyeQ==",
    "{'Authorization': 'Basic YXBpOmNhbmFyeQ=='}",
    '[("Authorization", "Basic YXBpOmNhbmFyeQ==")]',
    "refused credential Basic YXBpOmNhbmFyeQ==",
    "authorization=Bearer eyJhbGciOi.J9.abc"])
def test_a_basic_or_bearer_credential_is_redacted_however_it_is_shown(text):
    out = redact(text)
    assert "YXBpOmNhbmFyeQ" not in out and "eyJhbGciOi" not in out
    assert "***" in out


def test_registered_secrets_are_masked_in_their_encoded_forms():
    secret = "regist3red-value-91"
    SECRETS.add(secret)
    try:
        for user in ("api", "root", "x"):
            blob = base64.b64encode(f"{user}:{secret}".encode()).decode()
            assert blob not in redact(f"value {blob}")
        assert quote(secret + "/", safe="")[:-3] not in redact(quote(secret + "/", safe="")) or (
            quote(secret, safe="") == secret)
    finally:
        SECRETS.discard(secret)
    assert secret in redact(f"value {secret}")  # discarded: every form goes


def test_short_derived_forms_are_left_out():
    assert all(len(f) >= 6 for f in encoded_forms("abcd") - {"abcd"})

"""telephony_core.web: each error class and category gets the status the guide documents."""

from __future__ import annotations

import pytest

from telephony_core.errors import (
    CATEGORIES,
    AuthenticationError,
    ConfigurationError,
    EventError,
    OutcomeUnknown,
    PayloadError,
    ProviderError,
    RateLimited,
    SignatureError,
    TransportError,
    UnsupportedOperation,
)
from telephony_core.redaction import SECRETS
from telephony_core.web import CATEGORY_STATUS, problem, retry_after, status_for, webhook_status


@pytest.mark.parametrize(("error", "status"), [
    (ProviderError("x", category="not_found"), 404),
    (ProviderError("x", category="busy"), 409),
    (ProviderError("x", category="forbidden"), 403),
    (ProviderError("x", category="invalid"), 422),
    (ProviderError("x", category="transient"), 503),
    (ProviderError("x", category="unknown"), 502),
    (PayloadError([("$.caller", "required")]), 422),
    (SignatureError("stale"), 403),
    (EventError("not JSON"), 400),
    (UnsupportedOperation("hold", ["dial"]), 501),
    (RateLimited("slow down", retry_after=2.4), 503),
    (OutcomeUnknown("lost"), 504),
    (TransportError("t", reason="read_timeout"), 504),
    (TransportError("t", reason="deadline"), 504),
    (TransportError("t", reason="refused"), 502),
    (AuthenticationError("no"), 502),
    (ConfigurationError("bad"), 500),
    (KeyError("boom"), 500),
])
def test_status_for(error, status):
    assert status_for(error) == status


def test_every_category_has_a_status():
    assert set(CATEGORY_STATUS) == set(CATEGORIES)


def test_webhook_statuses_refuse_forgeries_and_acknowledge_unreadable_bodies():
    assert webhook_status(SignatureError("wrong")) == 403
    assert webhook_status(EventError("not JSON")) == 200
    assert webhook_status(RuntimeError("handler failed")) == 500


def test_retry_after_only_for_rate_limits():
    assert retry_after(RateLimited("x", retry_after=2.6)) == "3"
    assert retry_after(RateLimited("x")) is None
    assert retry_after(ProviderError("x")) is None


def test_problem_bodies_name_the_error_and_hide_secrets_and_foreign_errors():
    SECRETS.add("hunter2-secret")
    try:
        body = problem(ProviderError("refused for hunter2-secret", category="busy",
                                     code="extension_not_idle", provider="yeastar"))
    finally:
        SECRETS.discard("hunter2-secret")
    assert body["status"] == 409 and body["code"] == "extension_not_idle"
    assert body["category"] == "busy" and "hunter2-secret" not in str(body["message"])
    assert problem(KeyError("internal detail")) == {
        "status": 500, "error": "InternalError", "message": "internal error"}

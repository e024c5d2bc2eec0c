"""What a failed send proves, as the campaign records it: only proof of "nothing was done" lets
an item move to another profile; anything that may have happened is ``unknown``, never resent."""

from __future__ import annotations

import pytest

from telephony_core.campaigns.sender import verdict
from telephony_core.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PayloadError,
    ProviderBug,
    ProviderError,
    RateLimited,
    TelephonyError,
    TransportError,
    UnsupportedOperation,
)
from telephony_core.http import MalformedReply


@pytest.mark.parametrize(("error", "status", "again"), [
    (TransportError("refused", request_sent=False, reason="refused"), "refused", False),
    (TransportError("reset", request_sent=True, reason="reset"), "unknown", False),
    (OutcomeUnknown("timed out", reason="read_timeout"), "unknown", False),
    (MalformedReply("not JSON"), "unknown", False),
    (ProviderBug("bug before sending"), "refused", False),
    (PayloadError([("to", "bad")]), "refused", False),
    (UnsupportedOperation("send_sms", ["dial"]), "refused", False),
    (AuthenticationError("bad password"), "refused", False),
    (RateLimited("slow down", retry_after=2.0), "refused", True),
    (ProviderError("busy", code="extension_busy", category="busy"), "refused", True),
    (ProviderError("no such", code="not_found", category="not_found"), "refused", False),
    (ProviderError("down", code="server_error", category="transient", vendor_code="503"),
     "refused", True),
    (ProviderError("crashed", code="server_error", category="transient", vendor_code="500"),
     "unknown", False),
    (ProviderError("failed", code="sms_failed", category="unknown"), "unknown", False),
    (TelephonyError("the client is closed"), "unknown", False),
    (RuntimeError("a bug in the client"), "unknown", False),
])
def test_verdicts(error, status, again):
    out = verdict(error)
    assert out["status"] == status
    assert bool(out.get("again")) is again
    if isinstance(error, RateLimited):
        assert out["retry_after"] == 2.0

"""Yeastar's errno table (vendors.md) mapped onto the canonical error categories."""

from __future__ import annotations

from telephony_core.errors import AuthenticationError, EventError, ProviderError, TelephonyError

__all__ = ["ERRNO", "TOKEN_ERRNOS", "error_for", "report_error"]

#: errno -> (category, canonical code, meaning)
ERRNO: dict[str, tuple[str, str, str]] = {
    "10002": ("invalid", "unsupported_format", "unsupported packet format"),
    "10003": ("invalid", "unsupported_request", "unsupported API request"),
    "10004": ("invalid", "missing_parameter", "a required parameter is blank"),
    "10005": ("not_found", "call_not_found", "callid does not exist"),
    "10006": ("not_found", "extension_not_found", "extension does not exist"),
    "10007": ("not_found", "call_not_found", "call does not exist"),
    "10008": ("busy", "extension_not_idle", "extension is not idle"),
    "10009": ("forbidden", "monitor_not_allowed", "extension does not allow monitoring"),
    "10010": ("forbidden", "monitor_mode_mismatch", "monitor mode does not match"),
    "10011": ("not_found", "number_not_found", "called number does not exist"),
    "10012": ("not_found", "ivr_not_found", "IVR does not exist"),
    "10013": ("not_found", "queue_not_found", "queue does not exist"),
    "10014": ("not_found", "ringgroup_not_found", "ring group does not exist"),
    "10015": ("invalid", "call_not_connected", "call is not connected"),
    "10016": ("invalid", "offer_window_expired", "accept/refuse window timed out"),
    "10017": ("transient", "configuration_failed", "extension configuration failed"),
    "10018": ("transient", "configuration_failed", "IVR configuration failed"),
    "10019": ("transient", "configuration_failed", "queue configuration failed"),
    "10023": ("not_found", "prompt_not_found", "audio file does not exist"),
    "10024": ("forbidden", "no_outbound_permission", "extension has no outbound-call permission"),
    "10025": ("transient", "too_frequent", "configuration applied too often (retry later)"),
    "10026": ("not_found", "gsm_trunk_not_found", "GSM module name does not exist"),
    "10027": ("busy", "gsm_busy", "GSM module busy / none idle"),
    "10028": ("invalid", "number_blank", "number is blank"),
    "10030": ("invalid", "sms_empty", "SMS content is blank"),
    "10031": ("invalid", "number_invalid", "callee number does not meet the requirement"),
    # appendix A of the guide; 10020-10022 are the hotel wake-up alarms
    "10020": ("invalid", "alarm_failed", "failed to add or modify an alarm"),
    "10021": ("not_found", "alarm_not_found", "the alarm does not exist"),
    "10022": ("invalid", "alarm_exists", "the alarm already exists"),
    # the vendor's help site (api_error_code.html), cited in vendor-fidelity.md Y14
    "10029": ("not_found", "sms_file_not_found", "the SMS file does not exist"),
    "10032": ("invalid", "wrong_password", "wrong password"),
    "10033": ("invalid", "pbx_refused", "refused (errno 10033; the vendor's table gives no "
                                        "more detail)"),
    "20007": ("invalid", "blank_data", "blank data"),
    "20008": ("invalid", "wrong_port", "wrong port"),
    "20009": ("invalid", "blank_request", "blank request"),
    "20011": ("transient", "heartbeat_failed", "heartbeat configuration request failed"),
    "20012": ("not_found", "recording_not_found", "the recording file does not exist"),
    "20013": ("invalid", "wrong_captcha", "wrong captcha (random string)"),
    "20014": ("not_found", "recording_deleted", "the recording file has been deleted"),
    "20000": ("invalid", "json_only", "only JSON is supported"),
    "20001": ("invalid", "post_only", "only POST is supported"),
    "30001": ("transient", "pbx_error", "internal PBX error"),
    "30003": ("transient", "pbx_error", "internal PBX error"),
    "20010": ("transient", "pbx_error", "failed to send the request to apisrv"),
}
# 20015-20021: the help site's random-string errors for recordings, CDR and voicemail downloads
# (vendor-fidelity.md Y14 lists them as a group, without each one's wording)
for _errno in range(20015, 20022):
    ERRNO[str(_errno)] = ("invalid", "download_refused",
                          "a recording/CDR/voicemail download random string was refused")
AUTH_ERRNOS = {
    "20002": "login failed: this client's address is locked out (five failed logins; 10 minutes)",
    "20003": "login failed: bad username or password",
    "20004": "no such token", "20005": "token blank", "20006": "token timed out",
}
TOKEN_ERRNOS = frozenset({"20004", "20005", "20006"})


def error_for(errno: str) -> TelephonyError:
    """The typed error for a ``{"status": "Failed", "errno": ...}`` reply."""
    errno = str(errno)
    if errno in AUTH_ERRNOS:
        return AuthenticationError(f"Yeastar refused: {AUTH_ERRNOS[errno]} (errno {errno})")
    category, code, meaning = ERRNO.get(errno, ("unknown", "pbx_refused", "an undocumented error"))
    return ProviderError(f"Yeastar refused the request: {meaning}", code=code,
                         category=category, vendor_code=errno)  # type: ignore[arg-type]


def report_error(problem: str) -> EventError:
    """The typed error for an event report the provider cannot read (``problem`` names what is
    missing or wrong)."""
    return EventError(f"Yeastar report: {problem}", provider="yeastar")

"""Twilio resource representations the emulator answers with.

Each builder starts from the example Twilio's OpenAPI description gives for that response
(../shared/specs/twilio/twilio_api_v2010.json, MIT: ``CreateCall`` example ``create``,
``ListConference`` example ``readFull``, ``CreateParticipant`` example ``createWithSid``,
``CreateMessage`` example ``create``) and fills in the emulated values, so the keys and JSON
types are the spec's. The tests validate every reply against the spec's response schema.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

API = "2010-04-01"


def rfc2822(when: datetime) -> str:
    """Twilio's date format: ``Tue, 31 Aug 2010 20:36:28 +0000``."""
    return format_datetime(when)


def _call_uris(base: str, sid: str) -> dict[str, str]:
    names = ("notifications", "recordings", "payments", "events", "siprec", "streams",
             "transcriptions", "user_defined_message_subscriptions", "user_defined_messages")
    camel = {"notifications": "Notifications", "recordings": "Recordings",
             "payments": "Payments", "events": "Events", "siprec": "Siprec",
             "streams": "Streams", "transcriptions": "Transcriptions",
             "user_defined_message_subscriptions": "UserDefinedMessageSubscriptions",
             "user_defined_messages": "UserDefinedMessages"}
    return {n: f"{base}/Calls/{sid}/{camel[n]}.json" for n in names}


def call(account: str, sid: str, *, to: str, from_: str, status: str, direction: str,
         created: datetime, parent: str | None = None, duration: int | None = None) -> dict:
    base = f"/{API}/Accounts/{account}"
    stamp = rfc2822(created)
    return {
        "account_sid": account, "answered_by": None, "api_version": API, "caller_name": None,
        "date_created": stamp, "date_updated": stamp, "direction": direction,
        "duration": None if duration is None else str(duration), "end_time": None,
        "forwarded_from": None, "from": from_, "from_formatted": from_, "group_sid": None,
        "parent_call_sid": parent, "phone_number_sid": None, "price": None,
        "price_unit": "USD", "sid": sid,
        "start_time": stamp if status != "queued" else None, "status": status,
        "subresource_uris": _call_uris(base, sid), "to": to, "to_formatted": to,
        "trunk_sid": None, "uri": f"{base}/Calls/{sid}.json", "queue_time": "0",
    }


def page(account: str, key: str, path: str, items: list[dict[str, Any]], query: str,
         page_size: int) -> dict[str, Any]:
    uri = f"/{API}/Accounts/{account}/{path}?{query}" if query else \
        f"/{API}/Accounts/{account}/{path}"
    return {key: items, "end": max(0, len(items) - 1), "first_page_uri": uri,
            "next_page_uri": None, "page": 0, "page_size": page_size,
            "previous_page_uri": None, "start": 0, "uri": uri}


def conference(account: str, sid: str, name: str, status: str, created: datetime) -> dict:
    base = f"/{API}/Accounts/{account}/Conferences/{sid}"
    stamp = rfc2822(created)
    return {"status": status, "region": "us1", "sid": sid, "date_updated": stamp,
            "date_created": stamp,
            "subresource_uris": {"participants": f"{base}/Participants.json",
                                 "recordings": f"{base}/Recordings.json"},
            "friendly_name": name, "uri": f"{base}.json", "api_version": API,
            "account_sid": account, "reason_conference_ended": None,
            "call_sid_ending_conference": None}


def participant(account: str, conference_sid: str, call_sid: str, *, status: str,
                created: datetime, muted: bool = False, hold: bool = False,
                coaching: bool = False, coached: str | None = None,
                end_on_exit: bool = False) -> dict:
    stamp = rfc2822(created)
    return {"account_sid": account, "call_sid": call_sid, "label": None,
            "conference_sid": conference_sid, "date_created": stamp, "date_updated": stamp,
            "end_conference_on_exit": end_on_exit, "muted": muted, "hold": hold,
            "status": status, "start_conference_on_enter": True, "coaching": coaching,
            "call_sid_to_coach": coached, "queue_time": None,
            "uri": f"/{API}/Accounts/{account}/Conferences/{conference_sid}/Participants/"
                   f"{call_sid}.json"}


def message(account: str, sid: str, *, to: str, from_: str | None, service: str | None,
            body: str, created: datetime, segments: int) -> dict:
    stamp = rfc2822(created)
    base = f"/{API}/Accounts/{account}/Messages/{sid}"
    return {"account_sid": account, "api_version": API, "body": body, "date_created": stamp,
            "date_sent": None, "date_updated": stamp, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": from_, "num_media": "0",
            "num_segments": str(segments), "price": None, "price_unit": None,
            "messaging_service_sid": service, "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"}, "to": to,
            "uri": f"{base}.json"}


def error(code: int, message: str, status: int) -> dict[str, Any]:
    """Twilio's error body (https://www.twilio.com/docs/usage/twilios-response)."""
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}

"""The Twilio provider's declaration (light: no requests, no implementation import)."""

from telephony_core.provider import ProviderSpec
from telephony_core.webhook_url import webhook_url_option

_E164 = "^\\+[1-9][0-9]{1,14}$"
_URL = "^https?://[^\\s]+$"

SPEC = ProviderSpec(
    name="twilio",
    title="Twilio Programmable Voice and Messaging (REST API 2010-04-01)",
    package="telephony_twilio",
    implementation="telephony_twilio.provider:TwilioProvider",
    emulator="telephony_twilio.emulator:create",
    operations={
        "dial": "schemas/dial.json",
        "play_prompt": "schemas/play_prompt.json",
        "send_sms": "schemas/send_sms.json",
        "hangup": "schemas/call.json",
        "transfer": "schemas/transfer.json",
        "list_calls": "schemas/list_calls.json",
        "hold": "schemas/conference_call.json",
        "unhold": "schemas/conference_call.json",
        "mute": "schemas/conference_call.json",
        "unmute": "schemas/conference_call.json",
        "monitor": "schemas/monitor.json",
    },
    config_schema={"type": "object", "properties": {
        "host": {"type": "string", "minLength": 1, "default": "api.twilio.com"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "username": {"type": "string", "pattern": "^(AC|SK)[0-9a-fA-F]{32}$",
                     "description": "the URL's user: an Account SID (AC...) with its Auth Token, "
                                    "or an API key SID (SK...) with its secret"},
        "password": {"type": "string", "minLength": 1, "writeOnly": True,
                     "description": "the URL's password: the Auth Token or the API key secret"},
        "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$",
                        "description": "the Account SID (AC + 32 hex); required with API-key "
                                       "credentials"},
        "auth_token": {"type": "string", "minLength": 1, "writeOnly": True,
                       "description": "the account's Auth Token"},
        "api_key": {"type": "string", "pattern": "^SK[0-9a-fA-F]{32}$", "writeOnly": True,
                    "description": "an API key SID (SK + 32 hex), used with api_secret instead "
                                   "of the Auth Token"},
        "api_secret": {"type": "string", "minLength": 1, "writeOnly": True,
                       "description": "the API key's secret"},
        "webhook_auth_token": {"type": "string", "minLength": 1, "writeOnly": True,
                               "description": "the Auth Token that checks X-Twilio-Signature; "
                                              "required for events with API-key credentials"},
        "caller_id": {"type": "string", "pattern": _E164,
                      "description": "default From number of dial and play_prompt (E.164)"},
        "sms_from": {"type": "string", "pattern": _E164,
                     "description": "default From number of send_sms (E.164)"},
        "messaging_service_sid": {"type": "string", "pattern": "^MG[0-9a-fA-F]{32}$",
                                  "description": "default Messaging Service of send_sms "
                                                 "(used when sms_from is not set)"},
        "conference": {"type": "boolean", "default": False,
                       "description": "dial puts both parties in a conference, so that hold, "
                                      "mute and monitor can act on the call"},
        "hold_url": {"type": "string", "pattern": _URL,
                     "description": "HoldUrl: TwiML or audio Twilio plays to a held "
                                    "participant (Twilio's default hold music otherwise)"},
        "webhook_url": webhook_url_option(
            "sent as StatusCallback (POST; call events initiated, ringing, answered, "
            "completed) of every call and message this client creates; Twilio signs each "
            "callback with it"),
        "status_callback": {"type": "string", "pattern": _URL,
                            "description": "the older name of webhook_url (give one of the "
                                           "two)"},
    }},
    url_userinfo=("username", "password"),
    events=True,
    plugin_api=2,
    details={
        "dial": "POST Calls.json To=caller, inline TwiML <Dial><Number|Sip>callee</...></Dial>; "
                "with conference=true two POST Calls.json (caller, then callee) whose TwiML joins "
                "one <Conference>; never re-sent",
        "play_prompt": "POST Calls.json with inline TwiML <Play> per URL; URLs only; no key "
                       "menu (a <Gather> needs an application URL)",
        "send_sms": "POST Messages.json (From or MessagingServiceSid); Body up to 1,600 "
                    "characters; never re-sent",
        "hangup": "POST Calls/{Sid}.json Status=completed",
        "transfer": "POST Calls/{Sid}.json with inline TwiML <Dial> (blind redirect)",
        "list_calls": "GET Calls.json?Status= queued, ringing, in-progress",
        "hold": "conference participants only (dial with conference=true): Participants/{Sid} "
                "Hold=true; music on hold = Twilio's default or the hold_url option (HoldUrl); "
                "no stored music-on-hold settings to read or change",
        "unhold": "conference participants only: Participants/{Sid} Hold=false",
        "mute": "conference participants only: Participants/{Sid} Muted=true",
        "unmute": "conference participants only: Participants/{Sid} Muted=false",
        "monitor": "conference participants only: a sip: supervisor added as a participant: "
                   "listen Muted=true, whisper Coaching=true+CallSidToCoach, barge full",
    },
    docs="CPaaS: REST API with inline TwiML; conference mode for hold, mute and monitor; "
         "signed status callbacks.",
)

"""The Telnyx provider's declaration (light: imports nothing heavy)."""

from telephony_core.provider import ProviderSpec
from telephony_core.webhook_url import webhook_url_option

SPEC = ProviderSpec(
    name="telnyx",
    title="Telnyx Call Control v2 and Messaging",
    package="telephony_telnyx",
    implementation="telephony_telnyx.provider:TelnyxProvider",
    emulator="telephony_telnyx.emulator:create",
    plugin_api=2,
    operations={
        "dial": "schemas/dial.json",
        "play_prompt": "schemas/play_prompt.json",
        "transfer": "schemas/transfer.json",
        "hangup": "schemas/hangup.json",
        "monitor": "schemas/monitor.json",
        "list_calls": "schemas/list_calls.json",
        "send_sms": "schemas/send_sms.json",
    },
    config_schema={"type": "object", "required": ["api_key", "connection_id"], "properties": {
        "host": {"type": "string", "minLength": 1, "default": "api.telnyx.com"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "path": {"type": "string", "pattern": "^(/[A-Za-z0-9._~-]+)*$", "default": "/v2",
                 "description": "the API's base path (/v2)"},
        "api_key": {"type": "string", "minLength": 1, "maxLength": 512, "writeOnly": True,
                    "description": "your Telnyx API key (sent as a Bearer token)"},
        "connection_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                          "description": "the Call Control App id (formerly connection id) "
                                         "calls are placed through"},
        "public_key": {"type": "string", "pattern": "^[A-Za-z0-9+/]{43}=$", "writeOnly": True,
                       "description": "the account's Ed25519 public key (base64, from the "
                                      "portal) that webhook signatures are checked with; not "
                                      "a secret, but masked in output like one"},
        "verify_signatures": {"type": "boolean", "default": True,
                              "description": "check each webhook's Ed25519 signature (turn off "
                                             "only behind a gateway that already checks it)"},
        "signature_tolerance": {"type": "number", "minimum": 1, "maximum": 3600, "default": 300,
                                "description": "seconds a webhook's telnyx-timestamp may be "
                                               "old (or ahead) before it is refused"},
        "caller_id": {"type": "string", "pattern": "^\\+[1-9][0-9]{1,14}$",
                      "description": "the +E.164 number monitor calls to supervisors come from"},
        "sms_from": {"type": "string", "minLength": 1, "maxLength": 64,
                     "description": "default SMS sender (+E.164 number, short code or "
                                    "alphanumeric id) when send_sms gives none"},
        "messaging_profile_id": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$",
                                 "description": "messaging profile to send SMS through (needed "
                                                "for number pools and alphanumeric senders)"},
        "webhook_url": webhook_url_option(
            "sent as webhook_url of every call leg this client places (DialCall: dial, "
            "play_prompt, the callee leg of a dial, supervisor legs) and of every message "
            "(SendMessage): Telnyx sends that call's or message's webhooks there instead of "
            "the Call Control App's or messaging profile's URL"),
        "ring_timeout": {"type": "integer", "minimum": 5, "maximum": 600, "default": 30,
                         "description": "seconds each dialled leg may ring (timeout_secs)"},
    }},
    url_userinfo=("api_key",),  # type: ignore[arg-type]
    events=True,
    details={
        "dial": "two Call Control legs: POST /calls rings the caller; on its call.answered "
                "webhook, Client.handle_event dials the callee with link_to + "
                "bridge_on_answer (flow state in client_state); command_id on both",
        "play_prompt": "one prompt: dial with audio_url (http/https) or media_name (Telnyx "
                       "media storage), played when answered; 2-5 prompts and a key menu: "
                       "playback_start / gather_using_audio steps sent by handle_event, then "
                       "transfer on a key or hangup",
        "transfer": "TransferCall on a leg (call:CALL_CONTROL_ID), with command_id",
        "hangup": "HangupCall on a leg, with command_id",
        "monitor": "a new supervisor leg (sip:) dialled with supervise_call_control_id and "
                   "supervisor_role monitor/whisper/barge; needs the caller_id option",
        "list_calls": "ListConnectionActiveCalls of the configured connection; parties only "
                      "for calls this library placed (from client_state), state unknown",
        "send_sms": "SendMessage (POST /messages); no idempotency key: at most once",
    },
    docs="CPaaS Call Control: one control id per call leg, webhooks signed with Ed25519; "
         "commands take a command_id that makes a repeat harmless.",
)

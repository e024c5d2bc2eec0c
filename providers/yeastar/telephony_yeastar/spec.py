"""The Yeastar provider's declaration (light)."""

from telephony_core.provider import ProviderSpec
from telephony_core.webhook_url import webhook_url_option

SPEC = ProviderSpec(
    name="yeastar",
    title="Yeastar S-Series IP-PBX",
    package="telephony_yeastar",
    implementation="telephony_yeastar.provider:YeastarProvider",
    plugin_api=2,
    emulator="telephony_yeastar.emulator:create",
    operations={
        "dial": "schemas/dial.json", "transfer": "schemas/transfer.json",
        "hold": "schemas/by_extension.json", "unhold": "schemas/by_extension.json",
        "mute": "schemas/by_extension.json", "unmute": "schemas/by_extension.json",
        "hangup": "schemas/hangup.json", "monitor": "schemas/monitor.json",
        "play_prompt": "schemas/play_prompt.json", "send_sms": "schemas/send_sms.json",
        "list_calls": "schemas/list_calls.json", "accept_call": "schemas/offered_call.json",
        "reject_call": "schemas/offered_call.json",
    },
    config_schema={"type": "object", "required": ["host", "username", "password"], "properties": {
        "host": {"type": "string", "minLength": 1, "description": "the PBX's address"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8088},
        "username": {"type": "string", "minLength": 1, "description": "the API user"},
        "password": {"type": "string", "minLength": 1, "writeOnly": True,
                     "description": "the API password (sent as its MD5)"},
        "api_version": {"type": "string", "pattern": "^v1\\.[0-9]+\\.[0-9]+$", "default": "v1.0.0",
                        "description": "the API version in the path, e.g. v1.0.0 (endpoints "
                                       "introduced later, such as sms/send in v1.0.1, always "
                                       "use at least their own)"},
        "report_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8260,
                        "description": "where the PBX POSTs event reports (given at login)"},
        "webhook_url": webhook_url_option(
            "given to the PBX at login and in every heartbeat as the report url with urltag 1 "
            "(written without its scheme); the PBX posts every event report there; its port "
            "replaces report_port"),
        "report_url": {"type": "string", "minLength": 1, "pattern": "^https?://[^/?#]+",
                       "description": "the older name of webhook_url (accepted; both given "
                                      "and different is an error)"},
        "report_format": {"type": "string", "enum": ["1.0.2", "legacy"], "default": "1.0.2",
                          "description": "the report shape asked for at login: 1.0.2 (the "
                                         "parties in a \"call\" list) or legacy (no version "
                                         "sent: one \"ext\" key per extension, the guide's "
                                         "samples); parse_event reads both"},
        "report_ip": {"type": "string", "minLength": 1,
                      "description": "the heartbeat's ipaddr (where reports go); default: the "
                                     "local address this host uses to reach the PBX"},
        "heartbeat_after": {"type": "number", "minimum": 10, "maximum": 1790, "default": 1500,
                            "description": "idle seconds before a heartbeat (tokens die at 1800)"},
    }},
    events=True,
    details={
        "dial": "ext->ext, ext->tel, tel->tel (callback), ext->ivr, tel->ivr, tel->queue, "
                "tel->ringgroup; a tel: caller needs permission_extension",
        "transfer": "call:ID from dial, an event or list_calls (the outbound leg's own id is "
                    "found by outbound/query); inbound to ext/ivr/queue/ringgroup/tel, "
                    "outbound to ext/ivr/tel; no report follows (the PBX reports no API "
                    "transfer)",
        "hold": "ext:N, or call:ID (the extension found by inbound/outbound query)",
        "monitor": "listen (one listener), whisper, barge; supervisor ext:, target ext: or "
                   "call:ID",
        "play_prompt": "to tel: (outbound/playprompt) or ext: (extension/playprompt); uploaded "
                       "prompt names only, not all digits, no '+'",
        "send_sms": "through a GSM trunk (sender = trunk name); at most 2000 characters, no emoji",
        "hangup": "ext:N, or call:ID (leg inbound/outbound optional; the outbound leg's own id "
                  "is found by outbound/query)",
        "list_calls": "inbound/query and outbound/query; call_id is the leg's own id; ids "
                      "take leg ids or the callid dial gave",
        "accept_call": "inbound/accept within the 10-second window",
    },
    docs="Yeastar S-Series HTTP API v1.0.x: token session, errno replies, event reports.",
)

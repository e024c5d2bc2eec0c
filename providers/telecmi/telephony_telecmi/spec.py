"""The TeleCMI provider's declaration (light)."""

from telephony_core.provider import ProviderSpec

SPEC = ProviderSpec(
    name="telecmi",
    title="TeleCMI PIOPIY (PCMO)",
    package="telephony_telecmi",
    implementation="telephony_telecmi.provider:TeleCmiProvider",
    emulator="telephony_telecmi.emulator:create",
    operations={"play_prompt": "schemas/play_prompt.json", "dial": "schemas/dial.json",
                "hold": "schemas/hold.json", "unhold": "schemas/hold.json",
                "hangup": "schemas/hangup.json"},
    config_schema={"type": "object", "required": ["appid", "secret"], "properties": {
        "host": {"type": "string", "minLength": 1, "default": "rest.telecmi.com"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "appid": {"type": "integer", "minimum": 1, "description": "your TeleCMI app id (a number)"},
        "secret": {"type": "string", "minLength": 1, "writeOnly": True,
                   "description": "your TeleCMI app secret"},
        "region": {"enum": ["global", "india"], "default": "global",
                   "description": "global: global_pcmo_make_call and /v1/call/global_action; "
                                  "india: ind_pcmo_make_call and /v1/call/action"},
        "action_host": {"type": "string", "minLength": 1, "default": "piopiy.telecmi.com",
                        "description": "host of the live-call actions (hold/unhold/hangup), "
                                       "reached with the same scheme and port as host"},
        "action_url": {"type": "string", "pattern": "^https?://",
                       "description": "base URL of the live-call actions, when its scheme or "
                                      "port differs from host's (replaces action_host)"},
    }},
    url_userinfo=("appid", "secret"),
    events=True,
    details={
        "play_prompt": "to tel: (digits, no + or leading 0), caller_id required; one PCMO play "
                       "action per prompt (file_name or file_url); no key menu; no call id",
        "dial": "tel: to tel: with a PCMO bridge; caller_id required",
        "hold": "a live call by call:CMIUUID (call/global_action, or call/action for India)",
        "hangup": "a live call by call:CMIUUID (action hangup on the same endpoint)",
    },
    docs="CPaaS voice API: calls are lists of PCMO actions; credentials travel in the body.",
    plugin_api=2,
)

"""The Infinity provider's declaration (light)."""

from telephony_core.provider import ProviderSpec

SPEC = ProviderSpec(
    name="infinity",
    title="Infinity cloud call centre",
    package="telephony_infinity",
    implementation="telephony_infinity.provider:InfinityProvider",
    emulator="telephony_infinity.emulator:create",
    operations={"dial": "schemas/dial.json", "monitor": "schemas/monitor.json",
                "play_prompt": "schemas/play_prompt.json"},
    config_schema={"type": "object", "required": ["host", "appid", "accesskey"], "properties": {
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "path": {"type": "string", "pattern": "^/", "description": "the API's base path"},
        "appid": {"type": "string", "minLength": 1, "description": "the application id"},
        "accesskey": {"type": "string", "minLength": 1, "writeOnly": True,
                      "description": "the application's access key"},
        "token_lifetime": {"type": "number", "exclusiveMinimum": 60, "default": 43200,
                           "description": "seconds a login token lives (renewed at 90%)"},
    }},
    url_userinfo=("appid", "accesskey"),
    events=True,
    details={
        "dial": "ext: agent rung first, then a tel: number (App.Sip_Call.MakeCall); no call id",
        "monitor": "listen (SpyCall monitortype 1) or whisper (1, then 2: the switch of an "
                   "ongoing listen); no barge",
        "play_prompt": "to tel:, exactly one prompt, a one-key menu to a group: is required "
                       "(App.Sip_Call.PlayVoice); no call id, join callbacks by reference",
    },
    docs="Ack-only cloud call centre: results carry no call id; callbacks carry reference.",
    plugin_api=2,
)

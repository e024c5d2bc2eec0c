"""The APIO provider's declaration (light: imports nothing but the core's spec class)."""

from telephony_core.provider import ProviderSpec

SPEC = ProviderSpec(
    name="apio",
    title="Netaxis APIO (BroadWorks)",
    package="telephony_apio",
    implementation="telephony_apio.provider:ApioProvider",
    emulator="telephony_apio.emulator:create",
    operations={
        "get_music_on_hold": "schemas/get_music_on_hold.json",
        "set_music_on_hold": "schemas/set_music_on_hold.json",
    },
    config_schema={"type": "object", "required": ["host"], "properties": {
        "host": {"type": "string", "minLength": 1, "description": "the APIO gateway's host"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "username": {"type": "string", "minLength": 1, "description": "the APIO user (basic auth)"},
        "password": {"type": "string", "minLength": 1, "writeOnly": True,
                     "description": "the APIO user's password (basic auth)"},
        "auth": {"enum": ["basic", "bearer"], "default": "basic",
                 "description": "HTTP basic (default) or a bearer token"},
        "token": {"type": "string", "minLength": 1, "writeOnly": True,
                  "description": "the bearer token, with auth=bearer"},
    }},
    details={
        "get_music_on_hold": "scope {tenant, group, user}, all required; a user without the "
                             "service is not_found",
        "set_music_on_hold": "only the fields given are sent; file null removes the file; "
                             "selection custom or group (no default)",
    },
    docs="Provisioning REST for BroadWorks: music-on-hold configuration only.",
)

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
        "host": {"type": "string", "minLength": 1, "description": "the APIO core's host"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "path_prefix": {"type": "string", "pattern": "^(/[A-Za-z0-9._~-]+)+$",
                        "default": "/api/v01/p2",
                        "description": "where the tenants' resources sit: /api/v01/p2 behind "
                                       "an APIO core, /api/v1 on a provisioning gateway "
                                       "reached directly (deployment-dependent)"},
        "token": {"type": "string", "minLength": 1, "writeOnly": True,
                  "description": "the APIO user's M2M token (never expires; sent as "
                                 "Authorization: Bearer)"},
        "username": {"type": "string", "minLength": 1,
                     "description": "an APIO core user, to log in with (when no token)"},
        "password": {"type": "string", "minLength": 1, "writeOnly": True,
                     "description": "that user's password"},
    }},
    details={
        "get_music_on_hold": "scope {tenant, group, user}, all required; a user without the "
                             "service is not_found",
        "set_music_on_hold": "only the fields given are sent; file null removes the file; "
                             "selection custom or group (no default)",
    },
    docs="Provisioning REST for BroadWorks: music-on-hold configuration only.",
    plugin_api=2,
)

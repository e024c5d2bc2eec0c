"""The ARI provider's declaration (light: imports nothing heavy)."""

from telephony_core.provider import ProviderSpec

SPEC = ProviderSpec(
    name="ari",
    title="Asterisk REST Interface (ARI)",
    package="telephony_ari",
    plugin_api=2,
    implementation="telephony_ari.provider:AriProvider",
    emulator="telephony_ari.emulator:create",
    operations={
        "dial": "schemas/dial.json",
        "transfer": "schemas/transfer.json",
        "hold": "schemas/call.json", "unhold": "schemas/call.json",
        "play_prompt": "schemas/play_prompt.json",
        "hangup": "schemas/call.json",
        "mute": "schemas/call.json", "unmute": "schemas/call.json",
        "monitor": "schemas/monitor.json",
        "list_calls": None,
        "accept_call": None, "reject_call": None,
    },
    config_schema={"type": "object", "required": ["host", "username", "password", "app"],
                   "properties": {
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8088},
        "username": {"type": "string", "minLength": 1, "description": "an ari.conf user"},
        "password": {"type": "string", "minLength": 1, "writeOnly": True,
                     "description": "that user's password (sent as HTTP Basic)"},
        "app": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                "description": "the Stasis application name this client registers"},
        "technology": {"type": "string", "pattern": "^[A-Za-z0-9]+$", "default": "PJSIP",
                       "description": "channel technology of extensions (PJSIP/1000)"},
        "trunk": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "default": "trunk",
                  "description": "endpoint of the outside line: tel:N is TECH/N@TRUNK"},
        "context": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$",
                    "default": "from-internal",
                    "description": "dialplan context reaching extensions, IVRs, queues"},
        "outbound_context": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$",
                             "default": "outbound",
                             "description": "dialplan context reaching outside numbers"},
        "events_port": {"type": "integer", "minimum": 1, "maximum": 65535,
                        "description": "port of the event WebSocket when it is not the REST "
                                       "port (the emulator serves it apart)"},
        "stream_failures": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 8,
                            "description": "failed event-stream connections in a row before "
                                           "events() raises StreamError"},
        "stream": {"type": "boolean", "default": True,
                   "description": "keep the event WebSocket (and so the Stasis app) up"},
    }},
    events=False,
    details={
        "dial": "originateWithId POST /channels/{channelId} (endpoint, extension, context): "
                "the caller's channel continues in the dialplan to the callee; the channel id "
                "comes from the idempotency key; an unknown outcome is reconciled with GET "
                "/channels/{channelId}",
        "transfer": "continueInDialplan POST /channels/{id}/continue, or redirect for sip:",
        "hold": "POST/DELETE /channels/{id}/hold",
        "play_prompt": "originateWithId into the Stasis app; on StasisStart answer and play "
                       "(playWithId); on PlaybackFinished hang up; menu keys continue in the "
                       "dialplan (follow-ups on stream events)",
        "hangup": "DELETE /channels/{id}",
        "mute": "POST/DELETE /channels/{id}/mute?direction=both",
        "monitor": "snoopChannelWithId (spy/whisper by mode), create the supervisor's "
                   "channel, a mixing bridge with both (createWithId, addChannel), then dial",
        "list_calls": "GET /channels, grouped into calls by CHANNEL(linkedid)",
        "accept_call": "continueInDialplan for a channel that entered the Stasis app",
        "reject_call": "DELETE /channels/{id}?reason=rejected",
    },
    docs="Asterisk REST Interface: REST for channels, a WebSocket for events (client.events()).",
)

"""The declaration the entry point names: data only, so listing providers imports nothing."""

from telephony_core.provider import ProviderSpec

SPEC = ProviderSpec(
    name="example",
    title="Example PBX (the plugin guide's worked example)",
    package="telephony_example",
    implementation="telephony_example.provider:ExampleProvider",
    emulator="telephony_example.emulator:create",
    events=True,  # the PBX POSTs call reports; ExampleProvider.parse_event reads them
    operations={
        "dial": "schemas/dial.json",        # narrowed: extensions call extensions or numbers
        "hangup": "schemas/hangup.json",    # narrowed: a call id only, no leg
        "list_calls": None,                 # the canonical schema, unchanged
    },
    config_schema={
        "type": "object",
        "properties": {
            "host": {"type": "string", "minLength": 1, "description": "the PBX's host name"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "username": {"type": "string", "minLength": 1, "description": "the API user"},
            "password": {"type": "string", "minLength": 1, "writeOnly": True,
                         "description": "the API user's password"},
        },
        "required": ["host", "username", "password"],
    },
    details={"dial": "POST /api/calls; the PBX rings the caller first",
             "hangup": "DELETE /api/calls/ID", "list_calls": "GET /api/calls"},
    plugin_api=2,  # sans-IO (docs/provider-contract.md): both clients run it
)

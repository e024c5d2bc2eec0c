"""The built-in ``sim`` provider's declaration (light: imports nothing of the model)."""

from ..catalogue import OPERATIONS
from ..provider import ProviderSpec
from ..webhook_url import webhook_url_option

SPEC = ProviderSpec(
    name="sim",
    title="Built-in PBX simulator",
    package="telephony_core.sim",
    implementation="telephony_core.sim.provider:SimProvider",
    operations={**dict.fromkeys(OPERATIONS), "monitor": "schemas/monitor.json",
                "play_prompt": "schemas/play_prompt.json"},
    config_schema={"type": "object", "properties": {
        "setup": {"type": "string", "minLength": 1,
                  "description": "path of a TOML or JSON PBX set-up replacing the default"},
        "webhook_url": webhook_url_option(
            "the simulator POSTs each event there as JSON (its parse_event format), in order, "
            "from a background thread, re-sending a failed post a few times")}},
    url_userinfo=None,
    http=False,
    events=True,
    details={
        "dial": "ext/tel caller to ext, tel, ivr, queue, ringgroup or group; tel->tel needs "
                "two free trunk channels",
        "transfer": "blind, of a ringing or talking call, to any PBX destination",
        "hold": "the extension's leg; a held extension may start a new call",
        "monitor": "listen (one at a time), whisper, barge; supervisor ext: only",
        "play_prompt": "to ext: or tel:, uploaded names or URLs, optional key menu",
        "get_music_on_hold": "scopes {tenant, group, user}, {extension} or {} (system)",
        "send_sms": "through a GSM trunk (sender = trunk name), at most 2000 characters",
    },
    docs="The in-process PBX model: `connect('sim://')`.",
)

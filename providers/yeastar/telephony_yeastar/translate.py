"""Pure translation of canonical payloads to Yeastar requests: (API version, path, JSON body).

Field names and value formats follow the seeds' request samples exactly; ids are strings on the
wire (seed 000 types ``fromext`` as Int: a defect of the document).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["CALL_STATES", "EMOJI", "V0", "V1", "Request", "call_info_fields", "request_for",
           "version_key"]

V0, V1 = "v1.0.0", "v1.0.1"
Request = tuple[str, str, dict[str, Any]]
CALL_STATES = {"Talking": "talking", "Progress": "ringing", "Ringing": "ringing",
               "Wait": "waiting", "Hold": "held"}
#: ranges of emoji and pictographs the PBX's SMS refuses
EMOJI = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x1F1E6, 0x1F1FF), (0xFE0F, 0xFE0F),
         (0x200D, 0x200D))


def _v(address: str) -> str:
    return address.split(":", 1)[1]


def _kind(address: str) -> str:
    return address.split(":", 1)[0]


def _yes_no(flag: bool | None) -> str:
    return "yes" if flag else "no"


def _dial(p: Mapping[str, Any]) -> Request:
    caller, callee = p["caller"], p["callee"]
    pair = (_kind(caller), _kind(callee))
    auto = {"autoanswer": _yes_no(p.get("auto_answer"))}
    fromext = {"fromext": _v(p["permission_extension"])} if "permission_extension" in p else {}
    return {
        ("ext", "ext"): (V0, "extension/dial_extension",
                         {"caller": _v(caller), "callee": _v(callee), **auto}),
        ("ext", "tel"): (V0, "extension/dial_outbound",
                         {"extid": _v(caller), "outto": _v(callee), **auto}),
        ("tel", "tel"): (V0, "outbound/dial_outbound",
                         {"caller": _v(caller), "outto": _v(callee), **fromext}),
        ("ext", "ivr"): (V0, "ivr/dial_extension",
                         {"ivrid": _v(callee), "extid": _v(caller), **auto}),
        ("tel", "ivr"): (V0, "ivr/dial_outbound",
                         {"ivrid": _v(callee), "outto": _v(caller), **fromext}),
        ("tel", "queue"): (V1, "queue/dial_outbound",
                           {"queueid": _v(callee), "outto": _v(caller), **fromext}),
        ("tel", "ringgroup"): (V1, "ringgroup/dial_outbound",
                               {"ringgroupid": _v(callee), "outto": _v(caller), **fromext}),
    }[pair]


_TRANSFER_FIELD = {"ext": "extid", "ivr": "ivrid", "queue": "queueid", "ringgroup": "ringgroupid"}
_TRANSFER_ACTION = {"ext": "transfer_extension", "ivr": "transfer_ivr", "queue": "transfer_queue",
                    "ringgroup": "transfer_ringgroup", "tel": "transfer_outbound"}


def _transfer(p: Mapping[str, Any]) -> Request:
    leg, to = p.get("leg") or "inbound", p["to"]
    body: dict[str, Any] = {f"{leg}id": _v(p["call"])}
    if _kind(to) == "tel":
        body.update(outto=_v(to), fromext=_v(p["permission_extension"]))
    else:
        body[_TRANSFER_FIELD[_kind(to)]] = _v(to)
    return V0, f"{leg}/{_TRANSFER_ACTION[_kind(to)]}", body


def _monitor(p: Mapping[str, Any]) -> Request:
    watcher, watched = {"listen": ("listener", "listenedext"),
                        "whisper": ("whisperer", "whisperedext"),
                        "barge": ("bargein", "bargedext")}[p["mode"]]
    return V0, f"extension/{p['mode']}", {watcher: _v(p["supervisor"]), watched: _v(p["call"])}


def _play_prompt(p: Mapping[str, Any]) -> Request:
    prompt = "+".join(p["prompts"])
    if _kind(p["to"]) == "ext":
        return V0, "extension/playprompt", {"extid": _v(p["to"]), "prompt": prompt,
                                            "autoanswer": _yes_no(p.get("auto_answer"))}
    body = {"outto": _v(p["to"]), "prompt": prompt}
    if "permission_extension" in p:
        body["fromext"] = _v(p["permission_extension"])
    if "auto_answer" in p:
        body["autoanswer"] = _yes_no(p["auto_answer"])
    return V0, "outbound/playprompt", body


def _hangup(p: Mapping[str, Any]) -> Request:
    if _kind(p["call"]) == "ext":
        return V0, "extension/hangup", {"extid": _v(p["call"])}
    leg = p.get("leg") or "inbound"
    return V0, f"{leg}/hangup", {f"{leg}id": _v(p["call"])}


def _sms(p: Mapping[str, Any]) -> Request:
    return V1, "sms/send", {"trunk": p["sender"], "phonenumber": _v(p["to"]).lstrip("+"),
                            "message": quote(p["text"], safe="")}


def request_for(operation: str, p: Mapping[str, Any]) -> Request:
    """The (version, resource/action, body) of every single-request operation."""
    if operation in ("hold", "unhold", "mute", "unmute"):
        return V0, f"extension/{operation}", {"extid": _v(p["call"])}
    if operation in ("accept_call", "reject_call"):
        action = "accept" if operation == "accept_call" else "refuse"
        return V0, f"inbound/{action}", {"inboundid": _v(p["call"])}
    return {"dial": _dial, "transfer": _transfer, "monitor": _monitor,
            "play_prompt": _play_prompt, "hangup": _hangup, "send_sms": _sms}[operation](p)


def query_for(direction: str, ids: list[str] | None) -> Request:
    """inbound/query or outbound/query; no ids means every call."""
    body = {f"{direction}id": ",".join(_v(i) for i in ids)} if ids else {}
    return V0, f"{direction}/query", body


def call_info_fields(direction: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A query row as CallInfo fields; outbound calls go from an extension to a number,
    inbound calls from a number to the extension answering (``callee``), else the number it
    called. ``call_id`` is the leg's own id (outboundid/inboundid): every call operation takes
    it as ``call:ID``, as it takes the callid dial returned."""
    caller_kind, callee_kind = ("ext", "tel") if direction == "outbound" else ("tel", "tel")
    status = str(row.get("status", ""))
    callee = f"{callee_kind}:{row['to']}" if row.get("to") else None
    # query-inbound-calls.md: "callee": [{"extid": "1002"}] names the extension answering
    callees = row.get("callee") if direction == "inbound" else None
    if isinstance(callees, list):
        ext = next((c.get("extid") for c in callees if isinstance(c, dict) and c.get("extid")),
                   None)
        callee = f"ext:{ext}" if ext else callee
    return {"call_id": str(row[f"{direction}id"]), "direction": direction,
            "caller": f"{caller_kind}:{row['from']}" if row.get("from") else None,
            "callee": callee, "state": CALL_STATES.get(status, "unknown"),
            "trunk": row.get("trunk") or None}


@functools.lru_cache(maxsize=64)  # a handful of versions, compared on every request
def version_key(version: str) -> tuple[int, ...]:
    """``"v1.0.10"`` -> ``(1, 0, 10)``, so versions compare as numbers, not text."""
    return tuple(int(part) for part in version.removeprefix("v").split("."))


def first_emoji(text: str) -> int | None:
    """The index of the first emoji in ``text`` (the PBX refuses them), or None."""
    for index, char in enumerate(text):
        code = ord(char)
        if any(low <= code <= high for low, high in EMOJI):
            return index
    return None

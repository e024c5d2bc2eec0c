"""The async client's cost: client CPU time per operation against raw httpx, and logins under
concurrency.

    .venv/bin/python bench/async_overhead.py [--ops 1000] [--rounds 5]

A small sans-IO provider (plugin API 2, a bearer-token session, one Route per operation) talks
to a small asyncio HTTP server in a *separate process*, so the client process's CPU time
measures the client alone (wall-clock throughput on two cores would measure the server).
Each round runs ``ops`` concurrent operations through a fresh ``AsyncClient`` and the same
bodies through a fresh raw ``httpx.AsyncClient`` with the same connection limit (100),
interleaved; the figure is the median of the paired rounds' ratios of CPU seconds per
operation. (Fresh clients, because a pool that served earlier rounds holds idle connections
that httpcore re-checks in quadratic time on every request, and rounds then differ
several-fold.) A raw httpx
client queues what exceeds its pool inside httpcore, which re-scans the whole queue each time a
connection frees up; the AsyncClient waits for a connection on a semaphore instead. So a third
baseline, raw httpx behind the same semaphore, shows the library's own cost like for like.
Then 100 tasks and 32 threads meet an expired
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
from telephony_core.wire import HttpProvider, Route, Token, WireReply, WireRequest

SERVER = textwrap.dedent("""
    # A small asyncio HTTP/1.1 server (keep-alive, no threads): it answers in microseconds and
    # always alike, so the client's CPU per operation does not swing with the server's speed.
    import asyncio, json, sys

    state = {"token": "t1", "logins": 0}

    def answer(path, auth):
        if path == "/login":
            state["logins"] += 1
            return 200, {"token": state["token"]}
        if path == "/expire":
            state["token"] = state["token"] + "x"
            return 200, {}
        if path == "/stats":
            return 200, dict(state)
        if auth != "Bearer " + state["token"]:
            return 401, {}
        return 200, {"ok": True}

    async def serve(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\\r\\n\\r\\n")
                lines = head.decode("latin-1").split("\\r\\n")
                path = lines[0].split(" ")[1].split("?")[0]
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                lower = {k.lower(): v for k, v in headers.items()}
                length = int(lower.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                status, body = answer(path, lower.get("authorization"))
                data = json.dumps(body).encode()
                reason = "OK" if status == 200 else "Unauthorized"
                writer.write(f"HTTP/1.1 {status} {reason}\\r\\nContent-Type: application/json"
                             f"\\r\\nContent-Length: {len(data)}\\r\\n\\r\\n".encode() + data)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=2048)
        print(server.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)

    asyncio.run(main())
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


async def raw_round(raw: httpx.AsyncClient, base: str, ops: int,
                    in_flight: asyncio.Semaphore | None = None) -> float:
    async def post() -> None:
        reply = await raw.post(base + "/hold", json={"call": "ext:1000"},
                               headers={"Authorization": "Bearer t1"})
        reply.json()

    async def one() -> None:
        if in_flight is None:
            await post()
        else:
            async with in_flight:
                await post()

    start = time.process_time()
    await asyncio.gather(*(one() for _ in range(ops)))
    return (time.process_time() - start) / ops


def stats(base: str) -> dict:
    with urllib.request.urlopen(base + "/stats") as reply:
        return json.loads(reply.read())


def expire(base: str) -> None:
    urllib.request.urlopen(urllib.request.Request(base + "/expire", method="POST")).read()


def _raw_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=100,
                                                 max_keepalive_connections=100),
                             trust_env=False, timeout=30)


async def _fresh_round(kind: str, url: str, base: str, ops: int) -> float:
    """One round on a fresh client of ``kind``, after one request (the library's login):
    a pool that has served rounds before carries idle connections, which httpcore re-checks
    in quadratic time on every request, so reused clients make rounds differ several-fold."""
    if kind == "library":
        async with telephony_core.connect_async(url, deadline=120, timeout=60) as client:
            await client.hold("ext:1000")
            return await library_round(client, ops)
    async with _raw_client() as raw:
        await raw_round(raw, base, 1)
        limit = asyncio.Semaphore(100) if kind == "limited" else None
        return await raw_round(raw, base, ops, limit)


async def measure(url: str, base: str, ops: int, rounds: int
                  ) -> tuple[float, float, float, list[float], list[float], int]:
    kinds = ("library", "raw", "limited")
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for i in range(rounds):  # interleaved, rotating which goes first
        for kind in kinds[i % 3:] + kinds[:i % 3]:
            times[kind].append(await _fresh_round(kind, url, base, ops))
    async with telephony_core.connect_async(url, deadline=120, timeout=60) as client:
        await client.hold("ext:1000")
        before = stats(base)["logins"]
        expire(base)
        await asyncio.gather(*(client.hold("ext:1000") for _ in range(100)))
        task_logins = stats(base)["logins"] - before
    lib_times, raw_times, limited_times = (times[kind] for kind in kinds)
    ratios = sorted(lib / raw for lib, raw in zip(lib_times, raw_times, strict=True))
    limited_ratios = sorted(lib / raw for lib, raw in zip(lib_times, limited_times, strict=True))
    return (statistics.median(lib_times), statistics.median(raw_times),
            statistics.median(limited_times), ratios, limited_ratios, task_logins)


async def layers_only(url: str, ops: int, rounds: int) -> tuple[float, float]:
    """CPU per operation of the library's own layers (facade, session, driver, provider) with
    no network: the client's transport answers at once. Beside it, the same number of bare
    coroutines gathered, which is what asyncio itself costs per operation."""
    ok, logged_in = WireReply(200, {}, b'{"ok": true}'), WireReply(200, {}, b'{"token": "t1"}')

    async def answer(request: WireRequest) -> WireReply:
        return logged_in if request.path == "/login" else ok

    async def bare() -> None:
        await asyncio.sleep(0)

    async with telephony_core.connect_async(url, deadline=120) as client:
        client._transport.send = answer  # type: ignore[union-attr]
        client._session._send = answer  # type: ignore[union-attr]
        await client.hold("ext:1000")
        library, gathered = [], []
        for _ in range(rounds):
            start = time.process_time()
            await asyncio.gather(*(client.hold("ext:1000") for _ in range(ops)))
            library.append((time.process_time() - start) / ops)
            start = time.process_time()
            await asyncio.gather(*(bare() for _ in range(ops)))
            gathered.append((time.process_time() - start) / ops)
    return statistics.median(library), statistics.median(gathered)


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
        lib, raw, limited, ratios, limited_ratios, tasks = asyncio.run(
            measure(url, base, args.ops, args.rounds))
        threads = thread_logins(url, base)
        layers, gathered = asyncio.run(layers_only(url, args.ops, args.rounds))
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    print(f"{args.ops} concurrent operations, {args.rounds} interleaved rounds")
    print(f"CPU per operation: AsyncClient {lib * 1e6:.0f} us; raw httpx {raw * 1e6:.0f} us; "
          f"raw httpx with at most 100 in flight {limited * 1e6:.0f} us")
    print(f"AsyncClient / raw httpx (median of {len(ratios)} paired rounds): "
          f"{statistics.median(ratios):.4f} (range {ratios[0]:.3f}-{ratios[-1]:.3f}; "
          f"target 1.05: {'met' if statistics.median(ratios) <= 1.05 else 'missed'})")
    print(f"AsyncClient / raw httpx with at most 100 in flight (like for like): "
          f"{statistics.median(limited_ratios):.3f} "
          f"(range {limited_ratios[0]:.3f}-{limited_ratios[-1]:.3f})")
    print(f"The library's layers alone, no network: {layers * 1e6:.1f} us per operation "
          f"({gathered * 1e6:.1f} us of it is asyncio gathering a coroutine), "
          f"{(layers - gathered) / raw * 100:.1f}% of raw httpx's CPU per operation")
    print(f"100 tasks meeting an expired token: {tasks} login(s); 32 threads: {threads}")


if __name__ == "__main__":
    main()

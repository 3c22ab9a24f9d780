"""100 HTTP requests at once with aiohttp, against the lab's delayed loopback server.

The server (its port passed as ``--port``) answers ``GET /?ms=M&status=S`` with
status S after M milliseconds, and ``GET /stats[?reset]`` at once with its
counters ``answered=A abandoned=B peak=P`` (abandoned: connections the client
closed before the answer; peak: the most requests it served at once).

alone            BASELINE: the slowest single request (1.9 x delay), alone.
gather           N requests with delays spread from delay to 1.9 x delay, all
                 at once with asyncio.gather on one ClientSession.
connector_limit  N requests of delay through TCPConnector(limit=cap): at most
                 cap connections, so ceil(N/cap) waves.
semaphore        the same with an asyncio.Semaphore(cap) and an unlimited
                 connector (limit=0).
timeout          N requests, ``--slow`` of them asking for 3 x --timeout-ms, each
                 with aiohttp.ClientTimeout(total=--timeout-ms): the slow ones time out.
task_group       request 0 answers 500 after delay, the others would take
                 10 x delay; inside an asyncio.TaskGroup (3.11) the failure
                 cancels the others, and aiohttp closes their connections.

Prints one JSON object: interpreter facts, aiohttp's version and TCPConnector
defaults, and per variant elapsed_s (best of --repeat for the timed ones) with
the server's view (server_peak, server_closed, server_answered).
"""

import argparse
import asyncio
import inspect
import sys
import time

import aiohttp

from probelib import emit, positive_int

HOST = "127.0.0.1"


def spread(i, d):
    return d + (i % 10) * d // 10


class Server:
    def __init__(self, port):
        self.base = f"http://{HOST}:{port}"

    def url(self, ms, status=200):
        return f"{self.base}/?ms={ms}&status={status}"

    async def stats(self, session, reset=False):
        async with session.get(self.base + ("/stats?reset" if reset else "/stats")) as r:
            text = await r.text()
        return {k: int(v) for k, v in (item.split("=") for item in text.split())}


async def fetch(session, url, **kwargs):
    async with session.get(url, **kwargs) as response:
        response.raise_for_status()
        return await response.read()


async def timed(coro):
    start = time.perf_counter()
    await coro
    return time.perf_counter() - start


async def main_async(args):
    server = Server(args.port)
    n, d, cap, slow = args.requests, args.delay_ms, args.cap, args.slow
    result = {}
    # A separate session reads the counters, so its connection never counts against a limit under test.
    async with aiohttp.ClientSession() as admin, aiohttp.ClientSession() as session:
        best = float("inf")
        for _ in range(args.repeat):
            best = min(best, await timed(fetch(session, server.url(spread(9, d)))))
        result["alone"] = {"elapsed_s": best}

        await server.stats(admin, reset=True)
        best = float("inf")
        for _ in range(args.repeat):
            best = min(best, await timed(asyncio.gather(*(fetch(session, server.url(spread(i, d)))
                                                          for i in range(n)))))
        result["gather"] = {"elapsed_s": best, "server_peak": (await server.stats(admin))["peak"]}

    await server_reset(server)
    best = float("inf")
    for _ in range(args.repeat):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=cap)) as capped:
            best = min(best, await timed(asyncio.gather(*(fetch(capped, server.url(d)) for _ in range(n)))))
    result["connector_limit"] = {"elapsed_s": best, "server_peak": (await server_stats(server))["peak"]}

    await server_reset(server)
    best = float("inf")
    for _ in range(args.repeat):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as unlimited:
            sem = asyncio.Semaphore(cap)

            async def guarded():
                async with sem:
                    return await fetch(unlimited, server.url(d))

            best = min(best, await timed(asyncio.gather(*(guarded() for _ in range(n)))))
    result["semaphore"] = {"elapsed_s": best, "server_peak": (await server_stats(server))["peak"]}

    # Per-request timeout: the slow ones raise asyncio.TimeoutError, the others succeed.
    before = await server_stats(server)
    counts = {"ok": 0, "timed_out": 0, "other": 0}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        timeout = aiohttp.ClientTimeout(total=args.timeout_ms / 1000)

        async def one(i):
            try:
                await fetch(session, server.url(3 * args.timeout_ms if i < slow else d), timeout=timeout)
                counts["ok"] += 1
            except asyncio.TimeoutError:
                counts["timed_out"] += 1
            except aiohttp.ClientError:
                counts["other"] += 1

        elapsed = await timed(asyncio.gather(*(one(i) for i in range(n))))
    closed = await await_closed(server, before, slow)
    result["timeout"] = {"elapsed_s": elapsed, **counts, "server_closed": closed}

    # Cancel the rest on the first failure: TaskGroup cancels its other tasks and raises an ExceptionGroup.
    before = await server_stats(server)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.perf_counter()
        try:
            async with asyncio.TaskGroup() as group:
                for i in range(n):
                    url = server.url(d, 500) if i == 0 else server.url(10 * d)
                    group.create_task(fetch(session, url))
        except* aiohttp.ClientResponseError:
            pass
        elapsed = time.perf_counter() - start
    after = await await_settled(server)
    result["task_group"] = {"elapsed_s": elapsed, "server_closed": after["abandoned"] - before["abandoned"],
                            "server_reached": after["received"] - before["received"],
                            "server_answered": after["answered"] - before["answered"]}
    return result


async def server_stats(server, reset=False):
    async with aiohttp.ClientSession() as admin:
        return await server.stats(admin, reset)


async def server_reset(server):
    await server_stats(server, reset=True)


async def await_settled(server):
    """Polls (up to 2 s) until every request that reached the server was answered or seen closed; a request
    cancelled before it was sent never reaches the server at all."""
    deadline = time.monotonic() + 2
    while True:
        stats = await server_stats(server)
        if stats["received"] <= stats["answered"] + stats["abandoned"] or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.005)


async def await_closed(server, before, expected):
    """The server sees a closed connection a moment after the client closed it: poll, up to 2 s."""
    deadline = time.monotonic() + 2
    while True:
        closed = (await server_stats(server))["abandoned"] - before["abandoned"]
        if closed >= expected or time.monotonic() > deadline:
            return closed
        await asyncio.sleep(0.005)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=positive_int, required=True)
    parser.add_argument("--requests", type=positive_int, default=100)
    parser.add_argument("--delay-ms", type=positive_int, default=100)
    parser.add_argument("--cap", type=positive_int, default=10)
    parser.add_argument("--slow", type=positive_int, default=5)
    parser.add_argument("--timeout-ms", type=positive_int, default=500)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    defaults = inspect.signature(aiohttp.TCPConnector.__init__).parameters
    result = {"aiohttp": aiohttp.__version__,
              "default_limit": defaults["limit"].default,
              "default_limit_per_host": defaults["limit_per_host"].default}
    result.update(asyncio.run(main_async(args)))
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

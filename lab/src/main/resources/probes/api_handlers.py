"""Probe: the api-handlers endpoints on FastAPI + uvicorn, loaded by a closed-loop aiohttp client.

The probe runs itself twice: with --serve it is the server (FastAPI on uvicorn, on a loopback socket it binds
itself and whose port it prints), otherwise it is the client, which starts the server as a child process, loads it
case by case and always stops it. Endpoints:

  /io-async?ms=N      async def + await asyncio.sleep: the wait costs no thread, only a timer on the event loop
  /io-def?ms=N        def + time.sleep: FastAPI runs a def endpoint in anyio's worker-thread pool (40 tokens by
                      default), so at most 40 of them wait at once
  /io-blocking-in-async?ms=N
                      Broken: time.sleep inside an async def, which blocks the event loop and every request on it
  /stats, /reset      the server's counters: the most handlers running at once per endpoint kind, the distinct
                      threads that ran them, anyio's default thread limiter's total_tokens

A case is a list of streams (path, clients); each client sends a request, waits for the answer and sends the next,
until the duration is over. Prints one JSON object: the versions, total_tokens, and per case each stream's
throughput and latency percentiles, with the server's counters for that case.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from probelib import emit, positive_int


# --------------------------------------------------------------------------------------------------- the server

def serve():
    import anyio.to_thread
    import fastapi
    import uvicorn

    app = fastapi.FastAPI()
    lock = threading.Lock()
    stats = {}

    def reset():
        stats.clear()
        for kind in ("async", "def", "broken"):
            stats[kind] = {"running": 0, "peak": 0, "threads": set(), "calls": 0}

    reset()

    def enter(kind):
        with lock:
            s = stats[kind]
            s["running"] += 1
            s["calls"] += 1
            s["peak"] = max(s["peak"], s["running"])
            s["threads"].add(threading.get_ident())

    def leave(kind):
        with lock:
            stats[kind]["running"] -= 1

    @app.get("/io-async")
    async def io_async(ms: int = 0):
        enter("async")
        try:
            await asyncio.sleep(ms / 1000)  # the coroutine is suspended; the loop serves others meanwhile
        finally:
            leave("async")
        return "waited"

    @app.get("/io-def")
    def io_def(ms: int = 0):
        enter("def")
        try:
            time.sleep(ms / 1000)  # blocks one of anyio's worker threads, not the loop
        finally:
            leave("def")
        return "waited"

    @app.get("/io-blocking-in-async")
    async def io_blocking_in_async(ms: int = 0):
        enter("broken")
        try:
            time.sleep(ms / 1000)  # Broken: a blocking call in an async def stops the whole event loop
        finally:
            leave("broken")
        return "slept on the loop"

    @app.get("/stats")
    async def get_stats():
        with lock:
            out = {k: {"peak": v["peak"], "threads": len(v["threads"]), "calls": v["calls"]}
                   for k, v in stats.items()}
        out["total_tokens"] = anyio.to_thread.current_default_thread_limiter().total_tokens
        out["loop_thread_is_main"] = threading.current_thread() is threading.main_thread()
        out["active_threads"] = threading.active_count()
        return out

    @app.post("/reset")
    async def post_reset():
        with lock:
            reset()
        return "reset"

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(sock.getsockname()[1], flush=True)
    # The plain asyncio loop and h11, pinned so that the run does not depend on which extras are installed.
    config = uvicorn.Config(app, loop="asyncio", http="h11", lifespan="off", access_log=False,
                            log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


# --------------------------------------------------------------------------------------------------- the client

async def load(base, streams, seconds):
    """Runs every stream at once for `seconds`; returns per stream (requests, sorted latencies in s) and the wall
    time."""
    import aiohttp

    # limit=0: no cap on connections (aiohttp's default is 100 per session), so the clients are the only limit.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds
        results = [[] for _ in streams]

        async def client(path, out):
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with session.get(base + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path} answered {response.status}")
                out.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(client(path, results[i])
                               for i, (path, clients) in enumerate(streams) for _ in range(clients)))
        wall = time.perf_counter() - start
    return results, wall


def percentile_ms(sorted_values, q):
    """The q-th percentile in ms, or None (JSON null; JSON has no NaN) when nothing was measured."""
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k] * 1e3


async def http_json(base, method, path):
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.request(method, base + path) as response:
            return json.loads(await response.text())


def run_case(base, name, streams, seconds):
    asyncio.run(http_json(base, "POST", "/reset"))
    results, wall = asyncio.run(load(base, streams, seconds))
    stats = asyncio.run(http_json(base, "GET", "/stats"))
    out = {"streams": [], "server": stats}
    for (path, clients), latencies in zip(streams, results):
        latencies.sort()
        out["streams"].append({
            "path": path, "clients": clients, "requests": len(latencies), "seconds": wall,
            "throughput": len(latencies) / wall,
            "p50_ms": percentile_ms(latencies, 50), "p99_ms": percentile_ms(latencies, 99),
            "max_ms": percentile_ms(latencies, 100)})
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--clients", type=positive_int, default=80)
    parser.add_argument("--io-ms", type=positive_int, default=200)
    parser.add_argument("--short-io-ms", type=positive_int, default=50)
    parser.add_argument("--short-clients", type=positive_int, default=20)
    parser.add_argument("--broken-ms", type=positive_int, default=300)
    parser.add_argument("--broken-clients", type=positive_int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--cases", default="async-io,def-io,broken")
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    import aiohttp
    import fastapi
    import uvicorn
    from importlib import metadata

    # The server's stderr goes to a file, not a pipe: a pipe nobody reads would block the server once full.
    server_log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"], stdout=subprocess.PIPE,
                              stderr=server_log, text=True)
    try:
        port_line = server.stdout.readline().strip()
        if not port_line.isdigit():
            server.wait(timeout=5)
            server_log.seek(0)
            raise RuntimeError(f"the server printed no port: {port_line!r} {server_log.read()[-2000:]}")
        base = f"http://127.0.0.1:{port_line}"
        # Wait until uvicorn answers.
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", int(port_line)), timeout=1):
                    pass
                asyncio.run(http_json(base, "GET", "/stats"))
                break
            except OSError:
                time.sleep(0.05)
        wait = args.io_ms
        all_cases = {
            "async-io": [(f"/io-async?ms={wait}", args.clients)],
            "def-io": [(f"/io-def?ms={wait}", args.clients)],
            # The Broken case's neighbours wait less than the blocking sleep lasts, so that they feel it.
            "broken-baseline": [(f"/io-async?ms={args.short_io_ms}", args.short_clients)],
            "broken": [(f"/io-async?ms={args.short_io_ms}", args.short_clients),
                       (f"/io-blocking-in-async?ms={args.broken_ms}", args.broken_clients)],
        }
        # A short warm-up of both kinds, so that the first case does not pay for imports and thread starts.
        run_case(base, "warm-up", [(f"/io-async?ms=1", 4), (f"/io-def?ms=1", 4)], 0.3)
        cases = {}
        for name in args.cases.split(","):
            cases[name] = run_case(base, name, all_cases[name], args.seconds)
        stats = asyncio.run(http_json(base, "GET", "/stats"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_log.close()
    emit({
        "fastapi": fastapi.__version__, "uvicorn": uvicorn.__version__,
        "starlette": metadata.version("starlette"), "anyio": metadata.version("anyio"),
        "aiohttp": aiohttp.__version__,
        "total_tokens": stats["total_tokens"], "loop_thread_is_main": stats["loop_thread_is_main"],
        "io_ms": wait, "broken_ms": args.broken_ms, "clients": args.clients,
        "cases": cases,
    })


if __name__ == "__main__":
    main()

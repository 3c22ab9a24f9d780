"""Echo round trips over loopback TCP on asyncio's default loop and on uvloop (libuv), same code, same run.

An echo server and C client connections run on one loop in one thread; every client
does M request/response round trips of 8 bytes, all clients at once. Two APIs:
streams (asyncio.start_server / open_connection, write then readexactly) and
Protocols (loop.create_server / create_connection, data_received writes back). The
same code runs on each loop in turn (asyncio, uvloop, asyncio, uvloop, ... --repeat
times); the best wall time and the best process CPU time of each are kept.

Prints one JSON object: "runs" (per loop and API: wall_s, cpu_s, round_trips_per_s,
cpu_us_per_round_trip, OS threads before and after), "loops" (per loop: its class,
its selector -- asyncio's only: uvloop has none, libuv drives epoll itself -- and
whether it is an asyncio.AbstractEventLoop), and "threads_with_pool_of_2" (a fresh
process with UV_THREADPOOL_SIZE=2: its threads after one uvloop connection). Without
uvloop installed only asyncio runs and "uvloop_version" is absent.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

from probelib import emit, positive_int

HOST = "127.0.0.1"
MESSAGE = b"ping...\n"


async def handle(reader, writer):
    try:
        while True:
            data = await reader.readexactly(len(MESSAGE))
            writer.write(data)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()



async def play(reader, writer, rounds):
    for _ in range(rounds):
        writer.write(MESSAGE)
        await reader.readexactly(len(MESSAGE))


class EchoProtocol(asyncio.Protocol):
    """The server side without streams: the loop calls data_received, which writes the bytes back."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


class PingProtocol(asyncio.Protocol):
    """A client without streams: sends a message, and the next one each time a whole echo has arrived."""

    def __init__(self, rounds, done):
        self.left = rounds
        self.done = done
        self.pending = 0

    def connection_made(self, transport):
        self.transport = transport

    def start(self):
        self.transport.write(MESSAGE)

    def data_received(self, data):
        self.pending += len(data)
        while self.pending >= len(MESSAGE):
            self.pending -= len(MESSAGE)
            self.left -= 1
            if self.left > 0:
                self.transport.write(MESSAGE)
            elif not self.done.done():
                self.done.set_result(None)


async def one_run_protocols(connections, rounds):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoProtocol, HOST, 0, backlog=connections)
    port = server.sockets[0].getsockname()[1]
    clients = []
    for _ in range(connections):
        done = loop.create_future()
        _, protocol = await loop.create_connection(lambda d=done: PingProtocol(rounds, d), HOST, port)
        clients.append(protocol)
    start = time.perf_counter()
    for c in clients:
        c.start()
    await asyncio.gather(*(c.done for c in clients))
    elapsed = time.perf_counter() - start
    for c in clients:
        c.transport.close()
    server.close()
    await server.wait_closed()
    await asyncio.sleep(0)  # let the closing transports' callbacks run before the loop closes
    return elapsed, {}


async def one_run(connections, rounds):
    loop = asyncio.get_running_loop()
    handlers = []

    async def tracked(reader, writer):
        handlers.append(asyncio.current_task())
        await handle(reader, writer)

    server = await asyncio.start_server(tracked, HOST, 0, backlog=connections)
    port = server.sockets[0].getsockname()[1]
    pairs = [await asyncio.open_connection(HOST, port) for _ in range(connections)]
    start = time.perf_counter()
    await asyncio.gather(*(play(r, w, rounds) for r, w in pairs))
    elapsed = time.perf_counter() - start
    facts = {"loop_class": f"{type(loop).__module__}.{type(loop).__qualname__}",
             "selector_class": type(loop._selector).__name__ if hasattr(loop, "_selector") else None,
             "abstract_event_loop": isinstance(loop, asyncio.AbstractEventLoop)}
    for _, w in pairs:
        w.close()
    await asyncio.gather(*handlers)  # each handler sees the end of its stream and closes its side
    server.close()
    await server.wait_closed()
    return elapsed, facts


def run_on(new_loop, run, connections, rounds):
    """One batch on a fresh loop: (wall seconds, process CPU seconds, facts)."""
    loop = new_loop()
    try:
        cpu = time.process_time()
        wall, facts = loop.run_until_complete(run(connections, rounds))
        return wall, time.process_time() - cpu, facts
    finally:
        loop.close()


def os_threads():
    return len(os.listdir("/proc/self/task"))


def threads_after_uvloop():
    """A fresh process: how many OS threads after one uvloop connection (libuv's pool starts on first use)."""
    import uvloop
    before = os_threads()
    run_on(uvloop.new_event_loop, one_run_protocols, 1, 1)
    return {"before": before, "after": os_threads(),
            "uv_threadpool_size_env": os.environ.get("UV_THREADPOOL_SIZE")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=positive_int, default=100)
    parser.add_argument("--rounds", type=positive_int, default=200)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--threads-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads_only:
        emit(threads_after_uvloop())
        return 0
    loops = {"asyncio": asyncio.new_event_loop}
    result = {"connections": args.connections, "rounds": args.rounds, "threads_at_start": os_threads(),
              "loops": {}}
    try:
        import uvloop
    except ImportError:
        uvloop = None
    else:
        loops["uvloop"] = uvloop.new_event_loop  # uvloop >= 0.18 also has uvloop.run(main())
        result["uvloop_version"] = uvloop.__version__
        result["uvloop_has_run"] = hasattr(uvloop, "run")
    apis = {"streams": one_run, "protocols": one_run_protocols}
    best = {}
    total = args.connections * args.rounds
    for _ in range(args.repeat):  # taking turns spreads a slow spell of the machine over every variant
        for api, run in apis.items():
            for name, factory in loops.items():
                threads_before = os_threads()
                wall, cpu, facts = run_on(factory, run, args.connections, args.rounds)
                key = f"{name}_{api}"
                entry = best.setdefault(key, {"wall_s": float("inf"), "cpu_s": float("inf"),
                                              "threads_before": threads_before, "threads_after": os_threads()})
                entry["wall_s"] = min(entry["wall_s"], wall)
                entry["cpu_s"] = min(entry["cpu_s"], cpu)
                if facts:
                    result["loops"].setdefault(name, {}).update(facts)
    for key, entry in best.items():
        entry["round_trips_per_s"] = total / entry["wall_s"]
        entry["cpu_us_per_round_trip"] = entry["cpu_s"] * 1e6 / total
    result["runs"] = best
    if uvloop is not None:
        env = {**os.environ, "UV_THREADPOOL_SIZE": "2"}
        child = subprocess.run([sys.executable, __file__, "--threads-only"], env=env, capture_output=True,
                               text=True, timeout=60, check=True)
        result["threads_with_pool_of_2"] = json.loads(child.stdout)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

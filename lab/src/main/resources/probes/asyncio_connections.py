"""One asyncio thread serving many TCP connections: what it costs and what stalls it.

An echo server (asyncio.start_server, one handler coroutine per connection) and N
clients (asyncio.open_connection) run on the same loop, in the same thread, over
loopback TCP. The probe reports:

- held: N connections open at once; the process's OS threads (/proc/self/task) and
  threading.active_count(); the loop's selector class and how many sockets it watches;
  Python heap per connection (tracemalloc, both ends and both handler tasks) and
  resident memory per connection (VmRSS).
- round: every client sends one line and awaits its echo, all at once (best of --repeat).
- blocked: one handler calls time.sleep(B) (a synchronous call standing in for a
  blocking driver) while every other client has a ping in flight; for each ping: its
  round-trip time and whether its echo came back after the blocking call returned.
- offloaded: the same, with the blocking call in asyncio.to_thread.
- debug: loop.set_debug(True) and a handler that blocks for --slow-ms; the asyncio
  logger's "Executing ... took" reports are captured.
- limit: a line longer than the StreamReader's limit (64 KiB by default) sent to readline().

Prints one JSON object.
"""

import argparse
import asyncio
import gc
import logging
import os
import sys
import threading
import time
import tracemalloc

from probelib import emit, positive_int

HOST = "127.0.0.1"  # numeric: open_connection then needs no getaddrinfo, so no executor thread starts


def os_threads():
    return len(os.listdir("/proc/self/task"))


def rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def timed_sleep(seconds):
    """A blocking call (a stand-in for a synchronous driver); returns the moment it returned."""
    time.sleep(seconds)
    return time.perf_counter()


class EchoServer:
    """Echoes each line; a line 'BLOCK <ms> <mode>' makes its handler block (or offload) for ms first."""

    def __init__(self):
        self.block_started = None
        self.block_ended = None

    async def handle(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"BLOCK"):
                    _, ms, mode = line.split()
                    seconds = int(ms) / 1000
                    self.block_started = time.perf_counter()
                    if mode == b"inline":
                        self.block_ended = timed_sleep(seconds)  # Broken: the whole loop stops here
                    else:
                        self.block_ended = await asyncio.to_thread(timed_sleep, seconds)  # the loop goes on
                writer.write(line)
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def round_trip(reader, writer, payload):
    start = time.perf_counter()
    writer.write(payload)
    line = await reader.readline()
    assert line == payload, (line, payload)
    return start, time.perf_counter()


async def blocked_part(server, clients, block_ms, mode):
    """Client 0 asks its handler to block; every other client sends a ping right after, before the loop runs again.

    All the writes happen in one stretch of this coroutine (a socket write goes straight to the kernel), so every
    ping is on its way before the blocking handler starts; each ping's time runs from its own write to its echo."""
    server.block_started = server.block_ended = None
    r0, w0 = clients[0]
    w0.write(f"BLOCK {block_ms} {mode}\n".encode())
    sent = []
    for _, w in clients[1:]:
        sent.append(time.perf_counter())
        w.write(b"ping\n")

    async def echo_of(reader):
        line = await reader.readline()
        assert line == b"ping\n", line
        return time.perf_counter()

    blocker = asyncio.ensure_future(r0.readline())
    received = await asyncio.gather(*(echo_of(r) for r, _ in clients[1:]))
    await blocker
    latencies = sorted((end - start) * 1000 for start, end in zip(sent, received))
    return {"max_ms": latencies[-1], "min_ms": latencies[0], "p50_ms": latencies[len(latencies) // 2],
            "pings": len(latencies),
            "sent_before_block_started": sum(1 for t in sent if t < server.block_started),
            "echoes_after_block_ended": sum(1 for t in received if t >= server.block_ended)}


async def debug_part(server, clients, slow_ms):
    """Debug mode on, one handler blocks for slow_ms (> slow_callback_duration): the asyncio logger reports it."""
    loop = asyncio.get_running_loop()
    capture = LogCapture()
    logger = logging.getLogger("asyncio")
    logger.addHandler(capture)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    loop.set_debug(True)  # read on every pass of the loop, so it takes effect at once
    try:
        r0, w0 = clients[0]
        await round_trip(r0, w0, f"BLOCK {slow_ms} inline\n".encode())
    finally:
        loop.set_debug(False)
        logger.removeHandler(capture)
    return {"slow_callback_duration_s": loop.slow_callback_duration, "blocked_ms": slow_ms,
            "reports": [m for m in capture.messages if m.startswith("Executing")]}


async def main_async(args):
    loop = asyncio.get_running_loop()
    server_logic = EchoServer()
    server = await asyncio.start_server(server_logic.handle, HOST, 0, backlog=args.connections)
    port = server.sockets[0].getsockname()[1]
    result = {"loop_class": type(loop).__name__, "selector_class": type(loop._selector).__name__,
              "default_selector": selectors_default(), "threads_before": os_threads()}

    gc.collect()
    tracemalloc.start()
    heap_before = tracemalloc.get_traced_memory()[0]
    rss_before = rss_bytes()
    clients = []
    for _ in range(args.connections):
        clients.append(await asyncio.open_connection(HOST, port))
    for r, w in clients:  # every handler has started and read once
        await round_trip(r, w, b"hello\n")
    gc.collect()
    heap_after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss_after = rss_bytes()
    n = args.connections
    result["held"] = {
        "connections": n,
        "os_threads": os_threads(),
        "python_threads": threading.active_count(),
        "watched_sockets": len(loop._selector.get_map()),
        "tasks": len(asyncio.all_tasks()),
        "heap_per_connection_b": (heap_after - heap_before) / n,
        "rss_per_connection_b": (rss_after - rss_before) / n,
    }

    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        await asyncio.gather(*(round_trip(r, w, b"x\n") for r, w in clients))
        best = min(best, time.perf_counter() - start)
    result["round"] = {"all_ms": best * 1000, "per_round_trip_us": best * 1e6 / n,
                       "os_threads": os_threads()}

    result["blocked"] = await blocked_part(server_logic, clients, args.block_ms, "inline")
    result["offloaded"] = await blocked_part(server_logic, clients, args.block_ms, "thread")

    result["debug"] = await debug_part(server_logic, clients, args.slow_ms)
    result["limit"] = await over_limit(loop)

    for _, w in clients:
        w.close()
    server.close()
    await server.wait_closed()
    return result


async def over_limit(loop):
    """A line longer than StreamReader's default limit: readline() refuses it instead of buffering it whole."""
    default = asyncio.streams._DEFAULT_LIMIT  # 2 ** 16; also the 'limit' keyword's default
    reader = asyncio.StreamReader(loop=loop)
    reader.feed_data(b"a" * (default + 1) + b"\n")
    reader.feed_eof()
    try:
        await reader.readline()
        error = None
    except ValueError as e:
        error = f"{type(e).__name__}: {e}"
    return {"default_limit": default, "line_bytes": default + 2, "error": error}


def selectors_default():
    import selectors
    return selectors.DefaultSelector.__name__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=positive_int, default=300)
    parser.add_argument("--block-ms", type=positive_int, default=150)
    parser.add_argument("--slow-ms", type=positive_int, default=150)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    result["nofile_soft_limit"] = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[0]
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

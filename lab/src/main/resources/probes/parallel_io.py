"""Parallel I/O in CPython: HTTP requests and small-file reads, one after another vs overlapped.

HTTP (against the lab's loopback DelayedServer on --port, which answers every GET after its delay):
one after another with http.client; a ThreadPoolExecutor of --requests workers, each blocking in
http.client (a thread blocked in a socket call has released the GIL); and asyncio streams
(asyncio.open_connection) under asyncio.gather, one coroutine per request.

Files (--files files named f000000.bin ... in --dir, written by the lab): one thread reading each with
open().read(); a ThreadPoolExecutor() with its default max_workers; and asyncio.to_thread per file under
asyncio.gather. asyncio has no asynchronous file API, so to_thread hands each read to the loop's default
executor; the probe records which threads ran them.

Prints one JSON object: interpreter facts, the best elapsed seconds of each variant (--repeat runs; the
sequential HTTP baseline runs once), default_max_workers, and where asyncio.to_thread's reads ran.
"""

import argparse
import asyncio
import http.client
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from probelib import emit, positive_int

HOST = "127.0.0.1"


def get(port):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or body != b"ok\n":
            raise RuntimeError(f"unexpected answer {response.status} {body!r}")
    finally:
        conn.close()


async def get_stream(port):
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode("ascii"))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected answer {head[:40]!r}")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
    finally:
        writer.close()
        await writer.wait_closed()


def timed(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def read_one(path):
    with open(path, "rb") as f:
        return len(f.read())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=positive_int, required=True)
    parser.add_argument("--requests", type=positive_int, default=24)
    parser.add_argument("--delay-ms", type=positive_int, default=30)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--files", type=positive_int, default=2_000)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    n, port = args.requests, args.port
    paths = [os.path.join(args.dir, f"f{i:06d}.bin") for i in range(args.files)]
    expected = sum(os.path.getsize(p) for p in paths)

    get(port)  # the first request pays for imports and the first connection: not timed
    result = {"requests": n, "delay_s": args.delay_ms / 1000}
    result["http_sequential_s"] = timed(lambda: [get(port) for _ in range(n)], 1)
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda _: None, range(n)))  # start the workers before timing

        def threads():
            list(pool.map(lambda _: get(port), range(n)))

        result["http_threads_s"] = timed(threads, args.repeat)

    async def streams():
        await asyncio.gather(*(get_stream(port) for _ in range(n)))

    result["http_asyncio_s"] = timed(lambda: asyncio.run(streams()), args.repeat)

    def sequential():
        if sum(read_one(p) for p in paths) != expected:
            raise RuntimeError("short read")

    sequential()  # the page cache and the interpreter's code paths warm up: not timed
    result["files_sequential_s"] = timed(sequential, args.repeat)
    with ThreadPoolExecutor() as pool:
        result["default_max_workers"] = pool._max_workers  # what max_workers=None became

        def pooled():
            if sum(pool.map(read_one, paths, chunksize=1)) != expected:
                raise RuntimeError("short read")

        result["files_threads_s"] = timed(pooled, args.repeat)

    seen = set()
    on_loop = 0

    def read_noting(path, loop_thread):
        nonlocal on_loop
        me = threading.current_thread()
        seen.add(me.name)
        if me is loop_thread:
            on_loop += 1
        return read_one(path)

    async def to_thread():
        loop_thread = threading.current_thread()
        sizes = await asyncio.gather(*(asyncio.to_thread(read_noting, p, loop_thread) for p in paths))
        if sum(sizes) != expected:
            raise RuntimeError("short read")

    result["files_to_thread_s"] = timed(lambda: asyncio.run(to_thread()), args.repeat)
    result["to_thread_workers"] = len(seen)
    result["to_thread_on_loop_thread"] = on_loop
    result["to_thread_prefix"] = ",".join(sorted({name.rsplit("_", 1)[0] + "_*" for name in seen}))
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

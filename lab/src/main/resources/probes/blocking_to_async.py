"""Converting blocking socket code to asyncio, step by step, against a delayed loopback server.

The server (started by the lab, its port passed as ``--port``) answers ``ok\\n``
``delay`` after each line it reads. Every variant makes ``--requests`` requests
(N), each on its own connection: connect, send ``ping\\n``, read the answer.

sequential     BASELINE: plain blocking ``socket`` code, one request after the
               other. Needs N x delay.
gather         the converted version: ``asyncio.open_connection`` +
               ``writer.write``/``await writer.drain()``/``await
               reader.readline()``, all N gathered. About one delay.
blocking_in_async
               Broken: the same blocking ``socket`` calls moved into
               ``async def`` coroutines and gathered. Each coroutine holds the
               loop's only thread while it waits, so they run one at a time:
               N x delay again.
to_thread      the incremental cure: the blocking function unchanged, wrapped
               in ``asyncio.to_thread`` (3.9+); the loop's default executor is
               a ThreadPoolExecutor of ``--workers`` (k) threads, so about
               ceil(N/k) x delay.
semaphore      the converted version with ``asyncio.Semaphore(k)`` around each
               request: at most k in flight (counted), about ceil(N/k) x delay.

Timings are the best of ``--repeat`` runs, except the two N x delay variants,
which run once (they can only be slower than N x delay, never faster).

Prints one JSON object on stdout: the interpreter facts, then
  requests, delay_s, workers, default_executor_workers (min(32, cpu_count + 4),
  what to_thread gets without set_default_executor), and per variant an object
  with elapsed_s and, except sequential, peak_in_flight: the most requests
  between connect and answer at once, over all runs.
"""

import argparse
import asyncio
import concurrent.futures
import os
import socket
import sys
import threading
import time
from probelib import emit, positive_int

HOST = "127.0.0.1"


def blocking_request(port):
    """The original blocking code: one request on its own connection."""
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(b"ping\n")
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = sock.recv(16)
            if not chunk:
                raise ConnectionError("the server closed the connection before answering")
            answer += chunk
    return answer


async def async_request(port):
    """The converted code: the same request with asyncio streams."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(b"ping\n")
        await writer.drain()
        answer = await reader.readline()
        if not answer.endswith(b"\n"):
            raise ConnectionError("the server closed the connection before answering")
        return answer
    finally:
        writer.close()
        await writer.wait_closed()


def sequential(port, n):
    for _ in range(n):
        blocking_request(port)


async def gather(port, n, counter):
    async def counted():
        counter.enter()
        try:
            return await async_request(port)
        finally:
            counter.leave()

    await asyncio.gather(*(counted() for _ in range(n)))


async def blocking_in_async(port, n, counter):
    async def request():  # Broken: async def around blocking calls changes nothing
        counter.enter()
        try:
            return blocking_request(port)
        finally:
            counter.leave()

    await asyncio.gather(*(request() for _ in range(n)))


class InFlight:
    """Counts requests in flight and remembers the peak. Worker threads call it too, and ``+=`` is not atomic
    across threads even with the GIL, hence the lock."""

    def __init__(self):
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def enter(self):
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self):
        with self._lock:
            self.now -= 1


async def to_thread(port, n, workers, counter):
    loop = asyncio.get_running_loop()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    loop.set_default_executor(pool)  # asyncio.to_thread runs on the default executor

    def counted():
        counter.enter()
        try:
            return blocking_request(port)
        finally:
            counter.leave()

    try:
        await asyncio.gather(*(asyncio.to_thread(counted) for _ in range(n)))
    finally:
        pool.shutdown(wait=True)


async def semaphore(port, n, limit, counter):
    sem = asyncio.Semaphore(limit)

    async def capped():
        async with sem:
            counter.enter()
            try:
                return await async_request(port)
            finally:
                counter.leave()

    await asyncio.gather(*(capped() for _ in range(n)))


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=positive_int, required=True)
    parser.add_argument("--requests", type=positive_int, default=20)
    parser.add_argument("--delay-ms", type=positive_int, default=50)
    parser.add_argument("--workers", type=positive_int, default=4)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    port, n, k = args.port, args.requests, args.workers

    result = {
        "requests": n,
        "delay_s": args.delay_ms / 1000,
        "workers": k,
        "default_executor_workers": min(32, (os.cpu_count() or 1) + 4),
        "sequential": {"elapsed_s": timed(lambda: sequential(port, n))},
    }
    broken_peak = InFlight()
    result["blocking_in_async"] = {"elapsed_s": timed(lambda: asyncio.run(blocking_in_async(port, n, broken_peak))),
                                   "peak_in_flight": broken_peak.peak}
    best = {"gather": float("inf"), "to_thread": float("inf"), "semaphore": float("inf")}
    gather_peak = InFlight()
    thread_peak = InFlight()
    sem_peak = InFlight()
    for _ in range(args.repeat):  # taking turns spreads a slow spell over every variant
        best["gather"] = min(best["gather"], timed(lambda: asyncio.run(gather(port, n, gather_peak))))
        best["to_thread"] = min(best["to_thread"],
                                timed(lambda: asyncio.run(to_thread(port, n, k, thread_peak))))
        best["semaphore"] = min(best["semaphore"],
                                timed(lambda: asyncio.run(semaphore(port, n, k, sem_peak))))
    result["gather"] = {"elapsed_s": best["gather"], "peak_in_flight": gather_peak.peak}
    result["to_thread"] = {"elapsed_s": best["to_thread"], "peak_in_flight": thread_peak.peak}
    result["semaphore"] = {"elapsed_s": best["semaphore"], "peak_in_flight": sem_peak.peak}
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

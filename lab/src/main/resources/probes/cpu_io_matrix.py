"""CPU-bound vs I/O-bound work on one thread, many threads and many processes.

CPU part: the same total amount of pure-Python work (``--cpu-iterations`` loop
iterations of ``burn``) is run
  * sequentially on one thread,
  * split in ``--workers`` equal chunks over that many ``threading.Thread``,
  * split in the same chunks over a ``multiprocessing.Pool(workers)`` created
    inside the timed region (process start-up included, teardown excluded),
  * the same again on a pool created before timing ("warm").

I/O part (only when ``--port`` is given and non-zero): a request opens a TCP
connection to 127.0.0.1:PORT, sends ``b"ping\\n"``, reads until ``b"\\n"`` and
closes. ``--requests`` requests are made one after another on one thread, then
spread over ``--io-threads`` threads with a ThreadPoolExecutor.

Every CPU timing is repeated ``--repeat`` times and every I/O timing ``--io-repeat`` times,
taking turns between variants; the best (minimum) is reported, in
seconds.

Prints one JSON object on stdout:
  python          platform.python_version()
  implementation  platform.python_implementation()
  cpu_count       os.cpu_count()
  cpu             object:
    iterations        total loop iterations (N)
    workers           number of threads / processes (W)
    sequential_s      N iterations on one thread
    threads_s         W threads, N/W iterations each
    processes_s       Pool(W) created + map over the W chunks
    processes_warm_s  map over the W chunks on an already started Pool(W)
  io              null when no port was given, else object:
    requests          number of requests (R)
    threads           number of client threads (T)
    one_thread_s      R requests one after another on one thread
    threads_s         R requests spread over T threads
"""

import argparse
import math
import multiprocessing
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from probelib import best_of_each, burn, emit, positive_int, run_threads, split

IO_TIMEOUT_S = 10.0


def measure_cpu(iterations, workers, repeat):
    chunks = split(iterations, workers)

    # A warm pool (workers started before the timer) takes turns with one thread and with threads, so the
    # three compare the same slice of the machine's time.
    with multiprocessing.Pool(workers) as pool:
        pool.map(burn, [0] * workers, chunksize=1)  # make sure the workers are up
        timed = best_of_each(
            repeat,
            sequential=lambda: burn(iterations),
            threads=lambda: run_threads(burn, [(c,) for c in chunks]),
            warm=lambda: pool.map(burn, chunks, chunksize=1))
    sequential, threads, warm = timed["sequential"], timed["threads"], timed["warm"]

    # A cold pool: creating it (starting its worker processes) is timed; tearing it down is not.
    processes = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        with multiprocessing.Pool(workers) as pool:
            pool.map(burn, chunks, chunksize=1)
            processes = min(processes, time.perf_counter() - start)

    return {
        "iterations": iterations,
        "workers": workers,
        "sequential_s": sequential,
        "threads_s": threads,
        "processes_s": processes,
        "processes_warm_s": warm,
    }


def request(port):
    """One request/response round trip on a fresh TCP connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"ping\n")
        reply = b""
        while b"\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"server closed connection after {reply!r}")
            reply += chunk
    return reply


def measure_io(port, requests, io_threads, repeat):
    def one_thread():
        for _ in range(requests):
            request(port)

    def many_threads():
        with ThreadPoolExecutor(io_threads) as pool:
            # list() forces completion and re-raises any request error.
            list(pool.map(request, [port] * requests))

    best = best_of_each(repeat, one=one_thread, many=many_threads)
    return {
        "requests": requests,
        "threads": io_threads,
        "one_thread_s": best["one"],
        "threads_s": best["many"],
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-iterations", type=positive_int, default=2_000_000)
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1)
    parser.add_argument("--port", type=int, default=0,
                        help="TCP port of the delayed echo server; 0 skips the I/O part")
    parser.add_argument("--requests", type=positive_int, default=32)
    parser.add_argument("--io-threads", type=positive_int, default=16)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--io-repeat", type=positive_int, default=3,
                        help="runs of the I/O part (its time is mostly waiting, so it varies little)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = {
        "cpu": measure_cpu(args.cpu_iterations, args.workers, args.repeat),
        "io": (measure_io(args.port, args.requests, args.io_threads, args.io_repeat)
               if args.port else None),
    }
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost of a handoff between two CPython threads, and of a switch between two asyncio tasks.

threads: two threads ping-pong a token ``--round-trips`` times through two
queue.SimpleQueue objects. Each handoff wakes the other thread (the OS
scheduler switches to it, possibly on the other core) and the woken thread
takes the GIL. Reported per handoff (two handoffs per round trip).

asyncio: two tasks on one event loop each ``await asyncio.sleep(0)``
``--round-trips`` times; each await hands control back to the loop, which
resumes the other task. No OS thread switch, no GIL handoff: one Python-level
switch. Reported per switch.

threads_one_core: the thread ping-pong again with the whole process pinned to
one CPU (os.sched_setaffinity), so the woken thread runs on the core the
waker just left. Measured last (pinning cannot be undone safely); null where
pinning is unavailable or the machine has one CPU.

Each timing is the best of ``--repeat`` interleaved runs, in microseconds.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  round_trips                 N
  thread_handoff_us           best time per thread handoff
  asyncio_switch_us           best time per asyncio task switch
  thread_handoff_one_core_us  best time per thread handoff on one pinned core, or null
"""

import argparse
import asyncio
import math
import os
import queue
import sys
import threading
import time
from probelib import emit, positive_int


def thread_handoff_us(round_trips):
    ping, pong = queue.SimpleQueue(), queue.SimpleQueue()

    def echo():
        for _ in range(round_trips):
            pong.put(ping.get())

    peer = threading.Thread(target=echo)
    peer.start()
    start = time.perf_counter()
    for i in range(round_trips):
        ping.put(i)
        pong.get()
    elapsed = time.perf_counter() - start
    peer.join()
    return elapsed / (2 * round_trips) * 1e6


def asyncio_switch_us(round_trips):
    async def yielder():
        for _ in range(round_trips):
            await asyncio.sleep(0)

    async def both():
        start = time.perf_counter()
        await asyncio.gather(yielder(), yielder())
        return time.perf_counter() - start

    return asyncio.run(both()) / (2 * round_trips) * 1e6


def best(repeat, **variants):
    result = {name: math.inf for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            result[name] = min(result[name], fn())
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=positive_int, default=20_000)
    parser.add_argument("--repeat", type=positive_int, default=5)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    n = args.round_trips
    measured = best(args.repeat, threads=lambda: thread_handoff_us(n), tasks=lambda: asyncio_switch_us(n))
    one_core = None
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        one_core = best(args.repeat, threads=lambda: thread_handoff_us(n))["threads"]
    emit({
        "round_trips": n,
        "thread_handoff_us": measured["threads"],
        "asyncio_switch_us": measured["tasks"],
        "thread_handoff_one_core_us": one_core,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

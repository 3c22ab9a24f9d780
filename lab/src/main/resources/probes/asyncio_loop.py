"""asyncio: concurrency on a single thread, and what a blocking call does to it.

gather: ``asyncio.run`` a main coroutine that gathers ``--tasks`` coroutines;
each records ``threading.get_ident()`` and awaits ``asyncio.sleep(delay)``.
The time of the gather (measured inside the running loop) and the number of
distinct thread idents seen by the coroutines (over all repeats) are reported.

blocking: a heartbeat coroutine loops ``await asyncio.sleep(heartbeat)`` for
about block + 100 ms and records the largest gap between consecutive wake-ups,
while another coroutine, after one heartbeat, calls ``time.sleep(block)`` -- a
blocking call inside a coroutine, which stalls the whole event loop. The same
heartbeat without the blocking coroutine gives the baseline.

Every measurement is repeated ``--repeat`` times; the best (minimum) is
reported, in seconds.

Prints one JSON object on stdout:
  python           platform.python_version()
  implementation   platform.python_implementation()
  cpu_count        os.cpu_count()
  gather           object:
    tasks              number of coroutines gathered (N)
    delay_s            asyncio.sleep duration of each coroutine
    elapsed_s          time for the gather of all N coroutines
    distinct_threads   number of distinct threading.get_ident() values seen
  blocking         object:
    block_s            duration of the blocking time.sleep call
    heartbeat_s        heartbeat asyncio.sleep interval
    max_gap_s          largest gap between heartbeats with the blocking call
    baseline_max_gap_s largest gap between heartbeats without it
"""

import argparse
import asyncio
import sys
import threading
import time
from probelib import emit, positive_int

EXTRA_RUN_S = 0.1  # the heartbeat runs for block + this long


async def gather_run(tasks, delay, idents):
    async def worker():
        idents.add(threading.get_ident())
        await asyncio.sleep(delay)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return time.perf_counter() - start


def measure_gather(tasks, delay, repeat):
    idents = set()
    elapsed = min(asyncio.run(gather_run(tasks, delay, idents)) for _ in range(repeat))
    return {
        "tasks": tasks,
        "delay_s": delay,
        "elapsed_s": elapsed,
        "distinct_threads": len(idents),
    }


async def heartbeat(interval, duration):
    """Sleep in steps of `interval` for `duration`; return the largest gap."""
    start = previous = time.perf_counter()
    max_gap = 0.0
    while True:
        await asyncio.sleep(interval)
        now = time.perf_counter()
        max_gap = max(max_gap, now - previous)
        previous = now
        if now - start >= duration:
            return max_gap


async def blocker(interval, block):
    await asyncio.sleep(interval)  # let one heartbeat happen first
    time.sleep(block)  # deliberately blocks the event loop


async def blocking_run(interval, block, with_blocker):
    duration = block + EXTRA_RUN_S
    if not with_blocker:
        return await heartbeat(interval, duration)
    max_gap, _ = await asyncio.gather(heartbeat(interval, duration), blocker(interval, block))
    return max_gap


def measure_blocking(block, interval, repeat):
    def best(with_blocker):
        return min(asyncio.run(blocking_run(interval, block, with_blocker))
                   for _ in range(repeat))

    return {
        "block_s": block,
        "heartbeat_s": interval,
        "max_gap_s": best(True),
        "baseline_max_gap_s": best(False),
    }


def non_negative_int(text):
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=positive_int, default=100)
    parser.add_argument("--delay-ms", type=non_negative_int, default=50)
    parser.add_argument("--block-ms", type=non_negative_int, default=200)
    parser.add_argument("--heartbeat-ms", type=positive_int, default=10)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = {
        "gather": measure_gather(args.tasks, args.delay_ms / 1000, args.repeat),
        "blocking": measure_blocking(args.block_ms / 1000, args.heartbeat_ms / 1000,
                                     args.repeat),
    }
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

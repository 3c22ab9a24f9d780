"""Cooperative multitasking in asyncio, beside preemptive OS threads.

A ticker asks to run every --tick-ms ms and records the largest gap between two of its ticks, while a CPU-bound
worker burns --burn-ms ms of pure-Python work. The worker starts only after the ticker has ticked twice, and burns
by the clock, so its whole burn lies inside the ticker's run.

asyncio, no await:   the worker is a coroutine that never awaits while it burns. The event loop cannot take the thread
                     back from a running coroutine, so the ticker's next tick waits for the whole burn (gap >= burn).
asyncio, sleep(0):   the same burn with ``await asyncio.sleep(0)`` after every slice of about 0.1-0.3 ms: each is a
                     yield point where the loop runs the ticker when it is due.
threads:             the ticker and the worker are OS threads. The OS preempts, and CPython's GIL is handed over every
                     switch interval (sys.getswitchinterval(), 5 ms by default) when another thread asks for it, so
                     the ticker keeps ticking, a few ms late at most.

Each gap is the smallest of --repeat runs. Prints one JSON object on stdout; times in seconds.
"""

import argparse
import asyncio
import sys
import threading
import time

from probelib import burn, emit, positive_int

SLICE = 2_000  # iterations of burn(): about 0.1-0.3 ms


def largest_gap(ticks):
    return max(b - a for a, b in zip(ticks, ticks[1:]))


async def asyncio_run(burn_s, tick_s, yield_points):
    ticks = []
    done = asyncio.Event()

    async def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(tick_s)

    async def worker():
        await asyncio.sleep(2 * tick_s)
        end = time.perf_counter() + burn_s
        while time.perf_counter() < end:
            burn(SLICE)
            if yield_points:
                await asyncio.sleep(0)
        await asyncio.sleep(2 * tick_s)
        done.set()

    await asyncio.gather(ticker(), worker())
    return largest_gap(ticks)


def threads_run(burn_s, tick_s):
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(tick_s)

    def worker():
        time.sleep(2 * tick_s)
        end = time.perf_counter() + burn_s
        while time.perf_counter() < end:
            burn(SLICE)
        time.sleep(2 * tick_s)
        done.set()

    threads = [threading.Thread(target=ticker), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return largest_gap(ticks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burn-ms", type=positive_int, default=200)
    parser.add_argument("--tick-ms", type=positive_int, default=10)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()
    burn_s, tick_s = args.burn_ms / 1000, args.tick_ms / 1000
    emit({
        "switch_interval_s": sys.getswitchinterval(),
        "burn_s": burn_s,
        "tick_s": tick_s,
        "asyncio_no_await_gap_s": min(asyncio.run(asyncio_run(burn_s, tick_s, False)) for _ in range(args.repeat)),
        "asyncio_sleep0_gap_s": min(asyncio.run(asyncio_run(burn_s, tick_s, True)) for _ in range(args.repeat)),
        "threads_gap_s": min(threads_run(burn_s, tick_s) for _ in range(args.repeat)),
    })


if __name__ == "__main__":
    main()

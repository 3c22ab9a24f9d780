"""Many simulated I/O operations on asyncio: each one awaits asyncio.sleep(latency), at most C at a time.

Every variant runs --ops operations through asyncio.gather, each behind an
asyncio.Semaphore(C), and times the whole batch against the ideal
ops x latency / C. Variants: the default event loop, and uvloop's when it is
installed (``uvloop`` is null otherwise). Both run at C = --concurrency and,
with --low, at C / 10, so the output shows where the one loop thread stops keeping up: the
ideal needs C / latency operations per second.

Prints one JSON object: interpreter facts, ops, latency_s, and per variant
elapsed_s (best of --repeat), concurrency and ideal_s.
"""

import argparse
import asyncio
import sys
import time

from probelib import emit, positive_int


async def batch(ops, latency, concurrency):
    sem = asyncio.Semaphore(concurrency)

    async def one():
        async with sem:
            await asyncio.sleep(latency)  # the simulated I/O wait

    await asyncio.gather(*(one() for _ in range(ops)))


def best(run, repeat, ops, latency, concurrency):
    elapsed = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(batch(ops, latency, concurrency))
        elapsed = min(elapsed, time.perf_counter() - start)
    return {"elapsed_s": elapsed, "concurrency": concurrency, "ideal_s": ops * latency / concurrency}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=positive_int, default=20_000)
    parser.add_argument("--latency-ms", type=positive_int, default=10)
    parser.add_argument("--concurrency", type=positive_int, default=1_000)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--low", action="store_true", help="also run every loop at C / 10")
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000
    low = max(1, args.concurrency // 10)
    result = {"ops": args.ops, "latency_s": latency,
              "asyncio": best(asyncio.run, args.repeat, args.ops, latency, args.concurrency)}
    if args.low:
        result["asyncio_low"] = best(asyncio.run, args.repeat, args.ops, latency, low)
    try:
        import uvloop
    except ImportError:
        result["uvloop"] = None
    else:
        def run_uv(coro):
            loop = uvloop.new_event_loop()
            try:
                return loop.run_until_complete(coro)
            finally:
                loop.close()

        result["uvloop"] = best(run_uv, args.repeat, args.ops, latency, args.concurrency)
        if args.low:
            result["uvloop_low"] = best(run_uv, args.repeat, args.ops, latency, low)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

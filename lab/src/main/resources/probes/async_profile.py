"""Profiling an asyncio program with cProfile: where the CPU time goes, and what a coroutine looks like to a
deterministic profiler.

N request coroutines each await a short sleep (waiting, not CPU) and then run a known hot function, 20 times the
work of a cold one. cProfile must rank hot_checksum first by own time; the coroutine handle_request is counted as
called once per resumption (each await that suspends returns into the profiler as a new call).
Arguments: requests. Prints one JSON object on stdout (probelib facts first).
"""

import asyncio
import cProfile
import pstats
import sys

from probelib import emit

HOT, COLD = 40_000, 2_000


def hot_checksum(n=HOT):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def cold_format(n=COLD):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


async def handle_request(i):
    await asyncio.sleep(0.001)  # waiting: no CPU, invisible to a CPU profiler's own-time ranking
    await asyncio.sleep(0)
    return hot_checksum() + cold_format()


async def main(requests):
    await asyncio.gather(*(handle_request(i) for i in range(requests)))


def run(requests):
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(main(requests))
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    by_name = {}
    for (filename, _, name), (cc, nc, tottime, cumtime, _) in stats.items():
        if filename == __file__:
            by_name[name] = {"primitive_calls": cc, "calls": nc, "tottime": tottime, "cumtime": cumtime}
    ranked = sorted(((k[2], v[2]) for k, v in stats.items()), key=lambda kv: -kv[1])
    total = sum(v[2] for v in stats.values())
    return {"top_by_own_time": [name for name, _ in ranked[:5]], "mine": by_name,
            "hot_share": by_name.get("hot_checksum", {}).get("tottime", 0) / total if total else 0}


if __name__ == "__main__":
    emit(run(int(sys.argv[1])))

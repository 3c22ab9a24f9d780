"""asyncio and the GIL: one thread runs every coroutine, so asyncio neither escapes the GIL nor suffers from it.

heartbeat   A coroutine wakes every ``--beat-ms`` (asyncio.sleep) and records
            when it ran. Another coroutine then runs pure-Python work for
            about ``--burst-ms`` without awaiting. The loop runs one callback
            at a time, so no heartbeat runs during the burst: the largest gap
            between heartbeats is at least the burst's own duration.

speed-ups   The same total work done once on the loop's thread (baseline), and
            split in two halves awaited together with asyncio.gather:
  to-thread-python    asyncio.to_thread(burn, half) x 2: the loop's default
                      ThreadPoolExecutor; pure Python holds the GIL, so the
                      two halves take turns
  to-thread-hashlib   asyncio.to_thread(sha256, buffer) x 2, each buffer half
                      of ``--hash-mb`` MiB: hashlib releases the GIL for data of
                      2048 bytes or more, so the halves hash on two cores
  process-python      loop.run_in_executor(ProcessPoolExecutor(2), burn, half)
                      x 2: two processes, two GILs. The pool is started and
                      warmed before any timing.
            Baselines: burn(total) and sha256 of both buffers in turn, on the
            loop's thread. Each timing is the best of ``--repeat`` runs, taking
            turns.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  heartbeat   {beat_ms, burst_ms (the burst's own duration), max_gap_ms,
               median_gap_ms (outside the burst)}
  speedups    {name: {baseline_s, split_s, speedup, cores}} for the three variants;
              cores: the most CPU this process used per second of a split
              run (a thread waiting for the GIL uses none, so pure Python on
              two threads stays near 1.0); null for the process pool, whose
              CPU is spent in the workers
  iterations, hash_mb   the work sizes
"""

import argparse
import asyncio
import concurrent.futures
import hashlib
import statistics
import sys
import time

from probelib import burn, emit, positive_int

MIB = 1 << 20
CALIBRATE_ITERATIONS = 100_000


def iterations_for(ms):
    """Iterations of burn() that take about `ms` on this machine (best of three)."""
    best = min(_timed(lambda: burn(CALIBRATE_ITERATIONS)) for _ in range(3))
    return max(1, int(CALIBRATE_ITERATIONS * (ms / 1000) / best))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sha256(buffer):
    return hashlib.sha256(buffer).digest()


async def heartbeat(beat_ms, burst_iterations):
    beats = []
    stop = asyncio.Event()

    async def beat():
        while not stop.is_set():
            beats.append(time.perf_counter())
            await asyncio.sleep(beat_ms / 1000)

    async def burst():
        start = time.perf_counter()
        burn(burst_iterations)  # no await inside: the loop cannot run anything else meanwhile
        return start, time.perf_counter()

    beater = asyncio.create_task(beat())
    await asyncio.sleep(20 * beat_ms / 1000)  # some heartbeats before the burst
    start, end = await burst()
    await asyncio.sleep(20 * beat_ms / 1000)  # and some after it
    stop.set()
    await beater
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    outside = [b - a for a, b in zip(beats, beats[1:]) if b <= start or a >= end]
    return {
        "beat_ms": beat_ms,
        "burst_ms": (end - start) * 1e3,
        "max_gap_ms": max(gaps) * 1e3,
        "median_gap_ms": statistics.median(outside) * 1e3 if outside else None,
    }


async def best_of_each_async(repeat, **variants):
    """probelib.best_of_each for coroutines: each variant is a no-argument coroutine function, awaited on the loop,
    taking turns. Returns ({name: smallest elapsed seconds}, {name: largest cores used}), where cores used is this
    process's CPU time (all its threads, not its child processes) divided by the elapsed time of the run."""
    best = {name: float("inf") for name in variants}
    cores = {name: 0.0 for name in variants}
    for _ in range(repeat):
        for name, variant in variants.items():
            start, cpu = time.perf_counter(), time.process_time()
            await variant()
            elapsed = time.perf_counter() - start
            best[name] = min(best[name], elapsed)
            cores[name] = max(cores[name], (time.process_time() - cpu) / elapsed)
    return best, cores


async def speedups(iterations, hash_mb, repeat):
    loop = asyncio.get_running_loop()
    half = iterations // 2
    buffers = [bytes(hash_mb * MIB // 2) for _ in range(2)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        # Start both workers (and import this module in them) before any timing.
        await asyncio.gather(*(loop.run_in_executor(pool, burn, 1000) for _ in range(2)))

        async def python_one():
            burn(iterations)  # on the loop's own thread, like a coroutine that never awaits

        async def python_threads():
            await asyncio.gather(asyncio.to_thread(burn, half), asyncio.to_thread(burn, iterations - half))

        async def python_processes():
            await asyncio.gather(loop.run_in_executor(pool, burn, half),
                                 loop.run_in_executor(pool, burn, iterations - half))

        async def hashlib_one():
            for buffer in buffers:
                sha256(buffer)

        async def hashlib_threads():
            await asyncio.gather(*(asyncio.to_thread(sha256, buffer) for buffer in buffers))

        best, cores = await best_of_each_async(repeat, python_one=python_one, python_threads=python_threads,
                                        python_processes=python_processes, hashlib_one=hashlib_one,
                                        hashlib_threads=hashlib_threads)
    return {
        "to-thread-python": pair(best["python_one"], best["python_threads"], cores["python_threads"]),
        "to-thread-hashlib": pair(best["hashlib_one"], best["hashlib_threads"], cores["hashlib_threads"]),
        "process-python": pair(best["python_one"], best["python_processes"], None),
    }


def pair(baseline, split, cores):
    return {"baseline_s": baseline, "split_s": split, "speedup": baseline / split, "cores": cores}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beat-ms", type=positive_int, default=1)
    parser.add_argument("--burst-ms", type=positive_int, default=200)
    parser.add_argument("--work-ms", type=positive_int, default=300)
    parser.add_argument("--hash-mb", type=positive_int, default=128)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    burst_iterations = iterations_for(args.burst_ms)
    iterations = iterations_for(args.work_ms)
    beat = asyncio.run(heartbeat(args.beat_ms, burst_iterations))
    emit({
        "heartbeat": beat,
        "speedups": asyncio.run(speedups(iterations, args.hash_mb, args.repeat)),
        "iterations": iterations,
        "hash_mb": args.hash_mb,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

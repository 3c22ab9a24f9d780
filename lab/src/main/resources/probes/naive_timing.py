"""Benchmarking threads vs processes on CPU-bound pure Python: one naive cold timing vs the right measurement.

Start-up: a ProcessPoolExecutor (spawn start method, ``--workers`` workers) is
created, given one trivial task per worker and shut down, timed, ``--repeat``
times; the best is the start-up cost S.

The work is then sized so that one thread needs about S seconds for it: the
total work W is split into ``--workers`` equal chunks of ``burn``.

naive: the usual first attempt. One timing of each variant, each creating its
pool inside the timed region (``with Executor(...) as ex: list(ex.map(...))``),
threads first, then processes. The process pool's start-up lands in its timing,
so with work this size the faster variant looks slower.

measured: both pools are created before timing, each is warmed up with one
untimed round, then the two are timed in turns ``--repeat`` times with
``timeit.Timer(...).timeit(number=1)`` (the stdlib's timer: perf_counter, the
garbage collector off while it times) and the best and the median of each are
reported.

Prints one JSON object on stdout (times in seconds):
  startup_s            best process-pool start-up (S)
  iterations           total burn iterations (W)
  workers              threads or processes per pool
  naive                {"threads_s", "processes_s"}: one cold timing each, pool start included
  measured             {"threads_s", "processes_s"}: warm pools, best of --repeat, in turns;
                       {"threads_median_s", "processes_median_s"}: the medians of the same runs
"""

import argparse
import concurrent.futures as cf
import multiprocessing
import statistics
import sys
import time
import timeit

from probelib import burn, emit, positive_int, split


def noop(_):
    return None


def startup_cost(context, workers, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
            list(pool.map(noop, range(workers)))
        best = min(best, time.perf_counter() - start)
    return best


def iterations_for(seconds):
    """How many burn iterations take about `seconds` on one thread here (measured, after a warm-up)."""
    burn(100_000)
    start = time.perf_counter()
    burn(1_000_000)
    per_iteration = (time.perf_counter() - start) / 1_000_000
    return max(10_000, int(seconds / per_iteration))


def run_on(pool, chunks):
    return list(pool.map(burn, chunks))


def timed_in_turns(repeat, **variants):
    """Times every variant once per turn with timeit, `repeat` turns; returns the samples of each, in seconds."""
    timers = {name: timeit.Timer(fn) for name, fn in variants.items()}
    samples = {name: [] for name in variants}
    for _ in range(repeat):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(number=1))
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    context = multiprocessing.get_context("spawn")

    startup = startup_cost(context, args.workers, args.repeat)
    iterations = iterations_for(startup)
    chunks = split(iterations, args.workers)

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(args.workers) as pool:
        run_on(pool, chunks)
    naive_threads = time.perf_counter() - start
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        run_on(pool, chunks)
    naive_processes = time.perf_counter() - start

    with cf.ThreadPoolExecutor(args.workers) as threads, \
            cf.ProcessPoolExecutor(args.workers, mp_context=context) as processes:
        run_on(threads, chunks)  # warm-up: workers started, code paths run once
        run_on(processes, chunks)
        samples = timed_in_turns(args.repeat, threads=lambda: run_on(threads, chunks),
                                 processes=lambda: run_on(processes, chunks))

    emit({
        "startup_s": startup,
        "iterations": iterations,
        "workers": args.workers,
        "naive": {"threads_s": naive_threads, "processes_s": naive_processes},
        "measured": {"threads_s": min(samples["threads"]), "processes_s": min(samples["processes"]),
                     "threads_median_s": statistics.median(samples["threads"]),
                     "processes_median_s": statistics.median(samples["processes"])},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

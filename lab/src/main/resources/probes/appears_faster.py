"""Three CPython measurements that make threads look faster than they are, each beside the honest one.

Parts (``--part``, repeatable; all three by default):
  submit  Broken: timing only the loop of ``executor.submit``. The tasks wait on a threading.Event that is set
          only after that loop's clock has stopped, so the submit timing cannot contain any of the work.
          Correct: stop the clock after every ``future.result()``. One untimed warm-up, then ``--repeat`` runs.
  cpu     ``--threads`` threads on pure-Python CPU work vs the same work on one thread: wall time
          (time.perf_counter), the process's CPU time (time.process_time, all threads) and what each thread
          reports for itself (time.thread_time). Under the GIL the threads take turns, so the process's CPU time
          is no more than its wall time, while each thread alone reports only its own share of it.
  cache   Broken: the sequential version runs first on a fresh functools.lru_cache, then the threaded version
          runs on the same, now warm, cache. Correct: cache_clear() before every run, variants timed in turns,
          and process CPU time (time.process_time) beside wall time: the threads redid all the work.

Prints one JSON object on stdout with one key per part run:
  submit: {"runs", "tasks", "best_share" (best submit / best until result), "submit_ms": [...],
           "until_result_ms": [...]}
  cpu:    {"threads", "sequential": {"wall_s", "cpu_s"}, "threaded": {"wall_s", "cpu_s", "thread_mean_s"}}
          (each the run with the smallest wall time of ``--repeat``)
  cache:  {"keys", "workers", "naive": {"sequential_s", "threaded_s", "threaded_cpu_s", "threaded_misses"},
           "fresh": {"sequential_s", "sequential_cpu_s", "threaded_s", "threaded_cpu_s", "threaded_misses"}}
          (``--repeat`` pairs of runs each; the least of each value, but the most naive misses and CPU)
"""

import argparse
import functools
import math
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from probelib import burn, emit, positive_int, split


def submit_part(tasks, work, workers, repeat):
    rounds = max(1, work // tasks)
    submit_ms, until_ms = [], []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda _: None, range(workers * 4)))  # start the workers: submit should only queue
        for run in range(repeat + 1):  # run 0 is an untimed warm-up
            go = threading.Event()

            def task():
                go.wait()
                return burn(rounds)

            start = time.perf_counter()
            futures = [pool.submit(task) for _ in range(tasks)]
            submitted = time.perf_counter()
            go.set()  # only now may any task start its work
            for f in futures:
                f.result()
            done = time.perf_counter()
            if run == 0:
                continue
            submit_ms.append((submitted - start) * 1e3)
            until_ms.append((done - start) * 1e3)
    # best of each: a submit loop descheduled by a busy machine is the machine, not the trap
    return {"runs": repeat, "tasks": tasks, "best_share": min(submit_ms) / min(until_ms), "submit_ms": submit_ms,
            "until_result_ms": until_ms}


def timed(threads, work):
    """Runs `work` burn iterations on `threads` threads; returns wall, process CPU and mean per-thread CPU time."""
    own = []

    def worker(n):
        start = time.thread_time()
        burn(n)
        own.append(time.thread_time() - start)  # list.append is atomic under the GIL

    workers = [threading.Thread(target=worker, args=(n,)) for n in split(work, threads)]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"wall_s": wall, "cpu_s": cpu, "thread_mean_s": sum(own) / len(own)}


def cpu_part(threads, work, repeat):
    best = {"sequential": None, "threaded": None}
    for _ in range(repeat):
        for name, n in (("sequential", 1), ("threaded", threads)):  # in turns
            r = timed(n, work)
            if best[name] is None or r["wall_s"] < best[name]["wall_s"]:
                best[name] = r
    del best["sequential"]["thread_mean_s"]  # one thread: the same as cpu_s
    return {"threads": threads, **best}


def cache_part(keys, work, workers, repeat):
    rounds = max(1, work // keys)
    misses = [0]

    @functools.lru_cache(maxsize=None)
    def compute(key):
        misses[0] += 1  # a miss runs here; a racy count is fine for a report
        return burn(rounds + key)

    def sequential():
        for k in range(keys):
            compute(k)

    def measured(fn):
        """Runs fn; returns its wall time, process CPU time and the cache misses it caused."""
        before = misses[0]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall0, time.process_time() - cpu0, misses[0] - before

    # one pool for every run, started before any timing (as the JVM side does): its start-up is not the trap
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda _: None, range(workers * 4)))

        def threaded():
            list(pool.map(compute, range(keys)))

        # broken: the threads run second, on the cache the sequential run has just warmed; repeated so that one
        # slow spell of the machine does not decide the ratio (the best of each is kept, the most misses and CPU)
        naive_seq = naive_thr = math.inf
        naive_cpu = naive_misses = 0
        for _ in range(repeat):
            compute.cache_clear()
            naive_seq = min(naive_seq, measured(sequential)[0])
            wall, cpu, missed = measured(threaded)
            naive_thr, naive_cpu, naive_misses = min(naive_thr, wall), max(naive_cpu, cpu), max(naive_misses, missed)
        # in turns; wall time keeps the best run, CPU time (which the scheduler's share does not change) the least,
        # misses the fewest of any run
        fresh = {"sequential": [math.inf, math.inf, math.inf], "threaded": [math.inf, math.inf, math.inf]}
        for _ in range(repeat):
            for name, fn in (("sequential", sequential), ("threaded", threaded)):
                compute.cache_clear()
                fresh[name] = [min(a, b) for a, b in zip(fresh[name], measured(fn))]
    seq, thr = fresh["sequential"], fresh["threaded"]
    return {"keys": keys, "workers": workers,
            "naive": {"sequential_s": naive_seq, "threaded_s": naive_thr, "threaded_cpu_s": naive_cpu,
                      "threaded_misses": naive_misses},
            "fresh": {"sequential_s": seq[0], "sequential_cpu_s": seq[1], "threaded_s": thr[0],
                      "threaded_cpu_s": thr[1], "threaded_misses": thr[2]}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=["submit", "cpu", "cache"])
    parser.add_argument("--tasks", type=positive_int, default=100, help="tasks submitted; keys cached")
    parser.add_argument("--threads", type=positive_int, default=4, help="threads in the cpu part")
    parser.add_argument("--workers", type=positive_int, default=2, help="pool size (submit and cache parts)")
    parser.add_argument("--work", type=positive_int, default=1_000_000, help="burn iterations per part")
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    parts = args.part or ["submit", "cpu", "cache"]
    result = {}
    if "submit" in parts:
        result["submit"] = submit_part(args.tasks, args.work, args.workers, args.repeat)
    if "cpu" in parts:
        result["cpu"] = cpu_part(args.threads, args.work, args.repeat)
    if "cache" in parts:
        result["cache"] = cache_part(args.tasks, args.work, args.workers, args.repeat)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

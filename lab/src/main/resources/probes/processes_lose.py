"""Where a process pool loses to threads: tiny tasks, large arguments, I/O-bound work, GIL-releasing work.

Each case runs the same tasks on a ThreadPoolExecutor and a ProcessPoolExecutor of ``--workers`` workers (and
serially, for tiny tasks). Pools are started and warmed up outside the timed region, so what is timed is the
per-task cost: submitting, pickling, the pipe round trip, unpickling.

  tiny       ``--tiny-tasks`` calls of a function that adds 1 to its argument
  large      ``--workers`` tasks each given a ``--large-mb`` MiB bytes object and returning its length
  io         ``--io-tasks`` tasks that sleep ``--io-ms`` ms each; also the memory the pool's workers hold
             (proportional set size, from /proc/<pid>/smaps_rollup) beside the thread pool's
  gil_free   ``--workers`` tasks each hashing a ``--hash-mb`` MiB buffer with hashlib.sha256 (which releases the
             GIL); each task makes its own buffer so that nothing large is pickled

Every timing is repeated ``--repeat`` times; the best (minimum) is reported, in seconds.

Prints one JSON object on stdout:
  start_method  multiprocessing.get_start_method()
  tiny          {tasks, serial_s, threads_s, processes_s}
  large         {megabytes, tasks, threads_s, processes_s}
  io            {tasks, sleep_ms, threads_s, processes_s, process_workers_pss_kib, thread_workers_kib}
  gil_free      {megabytes, tasks, threads_s, processes_s}
"""

import argparse
import hashlib
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from probelib import best_of_each, emit, positive_int

MIB = 1 << 20


def add_one(x):
    return x + 1


def length(data):
    return len(data)


def nap(ms):
    time.sleep(ms / 1000)
    return ms


def hash_fresh(megabytes):
    return hashlib.sha256(bytes(megabytes * MIB)).digest()


def run_all(pool, fn, args):
    return list(pool.map(fn, args))


def warm(pool, workers):
    # Start every worker before timing: a process pool forks its workers lazily.
    list(pool.map(nap, [20] * workers))


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--tiny-tasks", type=positive_int, default=5_000)
    parser.add_argument("--large-mb", type=positive_int, default=50)
    parser.add_argument("--io-tasks", type=positive_int, default=16)
    parser.add_argument("--io-ms", type=positive_int, default=20)
    parser.add_argument("--hash-mb", type=positive_int, default=64)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    w = args.workers
    big = [bytes(args.large_mb * MIB) for _ in range(w)]
    rss_before_threads = rss_kib()
    with ThreadPoolExecutor(w) as threads, ProcessPoolExecutor(w) as processes:
        warm(threads, w)
        thread_workers_kib = max(0, rss_kib() - rss_before_threads)
        warm(processes, w)
        process_pss = sum(pss_kib(pid) for pid in processes._processes)  # the workers' own pids
        tiny_args = range(args.tiny_tasks)
        tiny = best_of_each(args.repeat,
                            serial=lambda: [add_one(x) for x in tiny_args],
                            threads=lambda: run_all(threads, add_one, tiny_args),
                            processes=lambda: run_all(processes, add_one, tiny_args))
        large = best_of_each(args.repeat,
                             threads=lambda: run_all(threads, length, big),
                             processes=lambda: run_all(processes, length, big))
        io_args = [args.io_ms] * args.io_tasks
        io = best_of_each(args.repeat,
                          threads=lambda: run_all(threads, nap, io_args),
                          processes=lambda: run_all(processes, nap, io_args))
        hash_args = [args.hash_mb] * w
        gil_free = best_of_each(args.repeat,
                                threads=lambda: run_all(threads, hash_fresh, hash_args),
                                processes=lambda: run_all(processes, hash_fresh, hash_args))
    emit({
        "start_method": multiprocessing.get_start_method(),
        "workers": w,
        "tiny": {"tasks": args.tiny_tasks, "serial_s": tiny["serial"], "threads_s": tiny["threads"],
                 "processes_s": tiny["processes"]},
        "large": {"megabytes": args.large_mb, "tasks": w, "threads_s": large["threads"],
                  "processes_s": large["processes"]},
        "io": {"tasks": args.io_tasks, "sleep_ms": args.io_ms, "threads_s": io["threads"],
               "processes_s": io["processes"], "process_workers_pss_kib": process_pss,
               "thread_workers_kib": thread_workers_kib},
        "gil_free": {"megabytes": args.hash_mb, "tasks": w, "threads_s": gil_free["threads"],
                     "processes_s": gil_free["processes"]},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

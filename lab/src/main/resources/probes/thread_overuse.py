"""Thread overuse in CPython: many threads vs a ThreadPoolExecutor sized to the cores, on the same CPU work.

The work is ``--chunks`` chunks of pure-Python CPU work (``--work`` iterations of probelib.burn in all).
Two variants, timed in turns, ``--repeat`` times each (best kept):
  many   one threading.Thread per chunk (``--chunks`` threads), all started at once
  pool   a ThreadPoolExecutor(max_workers=``--workers``) running the same chunks (the pool is created inside the
         timing, as the threads of the other variant are)
For each run the process's context switches (resource.getrusage(RUSAGE_SELF): ru_nvcsw voluntary + ru_nivcsw
involuntary; the kernel adds an exited thread's counts to its process) are read before and after.
Then ``--chunks`` threads are parked on a threading.Event and the growth of VmSize and VmRSS in /proc/self/status
is read (skipped where /proc is missing).

Prints one JSON object on stdout:
  switch_interval           sys.getswitchinterval(), in seconds
  stack_size                threading.stack_size() (0: the platform default, the RLIMIT_STACK soft limit on glibc)
  default_pool_workers      ThreadPoolExecutor()._max_workers: min(32, os.cpu_count() + 4) since Python 3.8
  chunks, workers, work, repeat
  many, pool: {"best_s", "switches", "voluntary", "involuntary"}  (switches etc. from the run with the fewest)
  parked: {"vmsize_kib", "vmrss_kib"} growth for ``--chunks`` parked threads, or null without /proc
"""

import argparse
import os
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from probelib import burn, emit, positive_int, split

STATUS = "/proc/self/status"


def switches():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw, usage.ru_nivcsw


def on_many_threads(chunks):
    threads = [threading.Thread(target=burn, args=(n,)) for n in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def on_pool(chunks, workers):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(burn, chunks))


def status_kib(field):
    with open(STATUS) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise ValueError(f"{field} missing from {STATUS}")


def parked_growth(threads):
    """Growth of VmSize and VmRSS while `threads` threads wait on one Event; None without /proc."""
    if not os.path.exists(STATUS):
        return None
    release = threading.Event()
    parked = threading.Semaphore(0)

    def park():
        parked.release()
        release.wait()

    before = status_kib("VmSize"), status_kib("VmRSS")
    started = []
    try:
        for _ in range(threads):
            t = threading.Thread(target=park)
            t.start()
            started.append(t)
        for _ in range(threads):
            parked.acquire()
        return {"vmsize_kib": status_kib("VmSize") - before[0], "vmrss_kib": status_kib("VmRSS") - before[1]}
    finally:
        release.set()
        for t in started:
            t.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=positive_int, default=1000, help="chunks of work = threads in 'many'")
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="pool size")
    parser.add_argument("--work", type=positive_int, default=3_000_000, help="burn iterations in all")
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    chunks = split(args.work, args.chunks)
    variants = {"many": lambda: on_many_threads(chunks), "pool": lambda: on_pool(chunks, args.workers)}
    results = {name: {"best_s": float("inf"), "switches": None} for name in variants}
    for _ in range(args.repeat):
        for name, run in variants.items():  # in turns, so a slow spell of the machine hits both
            vol0, invol0 = switches()
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
            vol1, invol1 = switches()
            r = results[name]
            r["best_s"] = min(r["best_s"], elapsed)
            total = (vol1 - vol0) + (invol1 - invol0)
            if r["switches"] is None or total < r["switches"]:
                r.update(switches=total, voluntary=vol1 - vol0, involuntary=invol1 - invol0)
    with ThreadPoolExecutor() as default_pool:
        default_workers = default_pool._max_workers  # the documented default, read rather than recomputed
    emit({"switch_interval": sys.getswitchinterval(), "stack_size": threading.stack_size(),
          "default_pool_workers": default_workers, "chunks": args.chunks, "workers": args.workers,
          "work": args.work, "repeat": args.repeat, **results, "parked": parked_growth(args.chunks)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

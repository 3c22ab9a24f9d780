"""joblib.Parallel with its three backends, batching, n_jobs=-1 and Memory caching.

  cpu        ``--tasks`` calls of ``burn(--iterations // tasks)`` (pure Python, holds the GIL): serially, then with
             Parallel(n_jobs=--jobs) on the backends loky (joblib's default), multiprocessing and threading
  gil_free   ``--jobs`` calls hashing a ``--hash-mb`` MiB buffer (made once per process) with hashlib.sha256
             (releases the GIL): serially, on threading and on loky
  batching   ``--tiny-tasks`` calls of a function adding 1, on loky with batch_size=1 and batch_size='auto'
  n_jobs     joblib.effective_n_jobs(-1) and os.cpu_count()
  memory     a function cached with joblib.Memory in a temporary directory: the first call computes, the
             second with the same argument loads the stored result

Worker pools are warmed up before timing (loky keeps its workers between calls; the multiprocessing backend
starts a pool per Parallel call, which is part of what it costs). Every timing is repeated ``--repeat`` times;
the best (minimum) is reported, in seconds.

Prints one JSON object on stdout:
  joblib     joblib.__version__
  jobs       n_jobs used
  cpu        {serial_s, loky_s, multiprocessing_s, threading_s}
  gil_free   {megabytes, serial_s, threading_s, loky_s}
  batching   {tasks, batch_1_s, batch_auto_s}
  n_jobs     {effective_minus_1, cpu_count}
  memory     {first_s, second_s, same_result}
"""

import argparse
import hashlib
import os
import sys
import tempfile
import time

import joblib
from joblib import Memory, Parallel, delayed
from probelib import best_of_each, burn, emit, positive_int, split

MIB = 1 << 20


def add_one(x):
    return x + 1


_BUFFERS = {}


def hash_buffer(megabytes):
    # The buffer is made once per process and reused: allocating and faulting in 64 MiB holds the GIL (and the
    # kernel's page-table lock) for longer than hashing it, which would measure the allocator, not hashlib.
    data = _BUFFERS.get(megabytes)
    if data is None:
        data = _BUFFERS[megabytes] = bytes(megabytes * MIB)
    return hashlib.sha256(data).digest()


def parallel(backend, jobs, fn, args, batch_size="auto"):
    return Parallel(n_jobs=jobs, backend=backend, batch_size=batch_size)(delayed(fn)(a) for a in args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=positive_int, default=2)
    parser.add_argument("--iterations", type=positive_int, default=4_000_000)
    parser.add_argument("--tasks", type=positive_int, default=4)
    parser.add_argument("--hash-mb", type=positive_int, default=64)
    parser.add_argument("--tiny-tasks", type=positive_int, default=5_000)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    jobs = args.jobs
    chunks = split(args.iterations, args.tasks)
    parallel("loky", jobs, add_one, range(jobs * 4))  # start loky's reusable workers before timing
    cpu = best_of_each(args.repeat,
                       serial=lambda: [burn(c) for c in chunks],
                       loky=lambda: parallel("loky", jobs, burn, chunks),
                       multiprocessing=lambda: parallel("multiprocessing", jobs, burn, chunks),
                       threading=lambda: parallel("threading", jobs, burn, chunks))
    hashes = [args.hash_mb] * jobs
    hash_buffer(args.hash_mb)  # the parent's buffer exists before timing; loky's workers make theirs when warmed
    parallel("loky", jobs, hash_buffer, hashes)
    gil_free = best_of_each(args.repeat,
                            serial=lambda: [hash_buffer(m) for m in hashes],
                            threading=lambda: parallel("threading", jobs, hash_buffer, hashes),
                            loky=lambda: parallel("loky", jobs, hash_buffer, hashes))
    tiny = range(args.tiny_tasks)
    batching = best_of_each(args.repeat,
                            batch_1=lambda: parallel("loky", jobs, add_one, tiny, batch_size=1),
                            batch_auto=lambda: parallel("loky", jobs, add_one, tiny, batch_size="auto"))
    with tempfile.TemporaryDirectory(prefix="conclab-joblib-") as location:
        memory = Memory(location, verbose=0)
        cached_burn = memory.cache(burn)
        start = time.perf_counter()
        first = cached_burn(args.iterations // 2)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second = cached_burn(args.iterations // 2)
        second_s = time.perf_counter() - start
    emit({
        "joblib": joblib.__version__,
        "jobs": jobs,
        "cpu": {"tasks": args.tasks, "iterations": args.iterations, "serial_s": cpu["serial"],
                "loky_s": cpu["loky"], "multiprocessing_s": cpu["multiprocessing"],
                "threading_s": cpu["threading"]},
        "gil_free": {"megabytes": args.hash_mb, "serial_s": gil_free["serial"],
                     "threading_s": gil_free["threading"], "loky_s": gil_free["loky"]},
        "batching": {"tasks": args.tiny_tasks, "batch_1_s": batching["batch_1"],
                     "batch_auto_s": batching["batch_auto"]},
        "n_jobs": {"effective_minus_1": joblib.effective_n_jobs(-1), "cpu_count": os.cpu_count()},
        "memory": {"first_s": first_s, "second_s": second_s, "same_result": first == second},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

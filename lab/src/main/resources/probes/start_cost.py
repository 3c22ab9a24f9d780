"""Cost of starting threads vs processes, and memory isolation between them.

Start cost: ``--count`` no-op workers are created and started, then all of them
are joined; the total time divided by the number of workers is reported, in
microseconds per worker. Measured for
  * threading.Thread,
  * multiprocessing.Process with the default start method (fork on Linux),
  * multiprocessing.Process from the "spawn" context, with min(count, 5)
    workers only (each spawned child starts a fresh interpreter).
Every timing is repeated ``--repeat`` times; the best (minimum) is reported.

Isolation: a thread sets the module-level global ``counter`` to 1 and the
parent checks whether it sees the write; after a reset, a child process
(default start method) does the same.

Prints one JSON object on stdout:
  python                python platform.python_version()
  implementation        platform.python_implementation()
  cpu_count             os.cpu_count()
  default_start_method  multiprocessing.get_start_method()
  thread_us             microseconds per thread started + joined
  process_us            microseconds per default-method process started + joined
  spawn_process_us      microseconds per "spawn" process started + joined
  count                 number of threads / default-method processes (N)
  isolation             object:
    thread_write_seen_by_parent   True if the parent sees the thread's write
    process_write_seen_by_parent  True if the parent sees the child's write
"""

import argparse
import math
import multiprocessing
import sys
import threading
import time
from probelib import emit, positive_int

MAX_SPAWNED = 5

counter = 0


def noop():
    pass


def set_counter():
    global counter
    counter = 1


def per_item_us(factory, count, repeat):
    """Best-of-`repeat` microseconds per worker to start and join `count` workers."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        workers = [factory(target=noop) for _ in range(count)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


def write_seen_by_parent(factory):
    """Run set_counter in a worker made by `factory`; did the parent see it?"""
    global counter
    counter = 0
    worker = factory(target=set_counter)
    worker.start()
    worker.join()
    if getattr(worker, "exitcode", 0) != 0:
        raise RuntimeError(f"worker exited with code {worker.exitcode}")
    seen = counter == 1
    counter = 0
    return seen


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=positive_int, default=50)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    spawn = multiprocessing.get_context("spawn")
    result = {
        "default_start_method": multiprocessing.get_start_method(),
        "thread_us": per_item_us(threading.Thread, args.count, args.repeat),
        "process_us": per_item_us(multiprocessing.Process, args.count, args.repeat),
        "spawn_process_us": per_item_us(spawn.Process, min(args.count, MAX_SPAWNED),
                                        args.repeat),
        "count": args.count,
        "isolation": {
            "thread_write_seen_by_parent": write_seen_by_parent(threading.Thread),
            "process_write_seen_by_parent": write_seen_by_parent(multiprocessing.Process),
        },
    }
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Amdahl's law with a multiprocessing.Pool: a serial part, then a parallel part over 1..N processes.

The total work is ``--iterations`` iterations of ``burn``; the fraction ``--serial-percent`` of it runs in the
parent, the rest is split into one chunk per worker and mapped over a ``multiprocessing.Pool(n)``. The timed
region includes the pool's start-up and shutdown and the pickling of arguments and results, because a real
program pays for them too: they add to the serial part. ``pool_overhead_s`` is a pool of n started, given n
empty tasks and closed, alone.

Every timing is repeated ``--repeat`` times; the best (minimum) is reported, in seconds.

Prints one JSON object on stdout:
  start_method     multiprocessing.get_start_method()
  serial_percent   the nominal serial fraction s, in percent
  iterations       total loop iterations
  serial_s         the whole work on one process, no pool
  pools            list of {workers, elapsed_s, pool_overhead_s}
"""

import argparse
import multiprocessing
import sys
from probelib import burn, emit, positive_int, split, best_of_each


def nothing(_):
    return None


def with_pool(workers, serial_iterations, parallel_iterations):
    burn(serial_iterations)
    with multiprocessing.Pool(workers) as pool:
        pool.map(burn, split(parallel_iterations, workers), chunksize=1)


def pool_only(workers):
    with multiprocessing.Pool(workers) as pool:
        pool.map(nothing, range(workers), chunksize=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=positive_int, default=3_000_000)
    parser.add_argument("--serial-percent", type=int, default=25)
    parser.add_argument("--max-workers", type=positive_int, default=2)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    if not 0 <= args.serial_percent <= 100:
        parser.error(f"--serial-percent must be within 0..100, got {args.serial_percent}")
    serial_iterations = args.iterations * args.serial_percent // 100
    parallel_iterations = args.iterations - serial_iterations
    best = best_of_each(args.repeat, serial=lambda: burn(args.iterations))
    pools = []
    for workers in range(1, args.max_workers + 1):
        timed = best_of_each(args.repeat,
                             pool=lambda: with_pool(workers, serial_iterations, parallel_iterations),
                             overhead=lambda: pool_only(workers))
        pools.append({"workers": workers, "elapsed_s": timed["pool"], "pool_overhead_s": timed["overhead"]})
    emit({
        "start_method": multiprocessing.get_start_method(),
        "serial_percent": args.serial_percent,
        "iterations": args.iterations,
        "serial_s": best["serial"],
        "pools": pools,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

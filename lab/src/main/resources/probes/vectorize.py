"""One computation three ways in CPython: numpy vectorized vs a Python loop vs multiprocessing over chunks.

The computation is a dot product of two float32 arrays of ``--n`` elements.

numpy: ``numpy.dot`` over the whole arrays (one C call, SIMD inside).
loop: a pure-Python ``for`` loop over the same values as Python lists, on one process.
processes: the same loop split into ``--workers`` chunks, exactly one per worker process (a barrier sees to it) of a
multiprocessing Pool started (fork) before timing; each worker reads its chunk from
lists it inherited at fork, so only two indices and one float cross a pipe per chunk.

The loop runs over ``--py-n`` elements (fewer than numpy's: it is ~100x slower);
per-element times make the two comparable. Every timing is the best of ``--repeat``.

Prints one JSON object on stdout:
  n, py_n, workers
  numpy_s          best time of numpy.dot over n elements
  loop_s           best time of the Python loop over py_n elements, one process
  processes_s      best time of the same loop split over `workers` processes
  numpy_ns_per_el, loop_ns_per_el
  loop_result, processes_result   the two sums (must agree)
"""

import argparse
import multiprocessing
import sys

import numpy

from probelib import best_of_each, emit, positive_int, split

A = []
B = []


def loop_dot(start, stop):
    acc = 0.0
    a, b = A, B
    for i in range(start, stop):
        acc += a[i] * b[i]
    return acc


# Set before the pool forks, so every worker inherits it. Each chunk waits here first: a worker that finished its
# chunk cannot take a second one, so with as many chunks as workers every worker runs exactly one. Without it,
# Pool.map let one worker run both chunks now and then (the other had not picked up its task yet), and the
# "parallel" run was a sequential one.
BARRIER = None


def _chunk(bounds):
    BARRIER.wait()
    return loop_dot(*bounds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=positive_int, default=4_000_000)
    parser.add_argument("--py-n", type=positive_int, default=1_000_000)
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)

    rng = numpy.random.default_rng(42)
    a = rng.random(args.n, dtype=numpy.float32)
    b = rng.random(args.n, dtype=numpy.float32)
    py_n = min(args.py_n, args.n)
    A.extend(a[:py_n].tolist())
    B.extend(b[:py_n].tolist())
    sizes = split(py_n, args.workers)
    bounds, start = [], 0
    for size in sizes:
        bounds.append((start, start + size))
        start += size

    results = {}
    # fork: the workers inherit A, B and the barrier instead of receiving them through pickles.
    global BARRIER
    context = multiprocessing.get_context("fork")
    BARRIER = context.Barrier(args.workers)
    with context.Pool(args.workers) as pool:
        pool.map(_chunk, [(0, 1)] * args.workers)  # workers started and warm before timing

        def processes():
            results["processes"] = sum(pool.map(_chunk, bounds))

        def loop():
            results["loop"] = loop_dot(0, py_n)

        best = best_of_each(args.repeat, numpy=lambda: numpy.dot(a, b), loop=loop, processes=processes)
    emit({
        "n": args.n,
        "py_n": py_n,
        "workers": args.workers,
        "numpy_s": best["numpy"],
        "loop_s": best["loop"],
        "processes_s": best["processes"],
        "numpy_ns_per_el": best["numpy"] / args.n * 1e9,
        "loop_ns_per_el": best["loop"] / py_n * 1e9,
        "loop_result": results["loop"],
        "processes_result": results["processes"],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Data-parallel logistic regression in CPython: numpy on one process vs the same shards on worker processes.

Full-batch gradient descent for ``--steps`` steps on ``--rows`` x ``--features`` generated
rows (numpy's default_rng, seed 42). Each step the rows are cut into ``--workers`` shards;
each shard's gradient is computed with numpy, the gradients are added in shard order and
averaged, and the weights are updated: synchronous gradient averaging.

  sequential   the shards one after another in this process
  processes    one shard per worker of a multiprocessing Pool (fork, started before timing);
               the workers inherited the data at fork, so each step only the weights go
               out and one gradient per shard comes back through the pipes

BLAS is pinned to one thread (OPENBLAS_NUM_THREADS etc., set before numpy loads), so
the only parallelism is the processes'. Timings are the best of ``--repeat``.

Prints one JSON object on stdout:
  rows, features, steps, workers
  sequential_s, processes_s       best training times
  sequential_accuracy, processes_accuracy   training-set accuracy of the final weights
  max_weight_diff                 max |w_sequential - w_processes| (0.0: bit-identical)
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402

import numpy  # noqa: E402

from probelib import best_of_each, emit, positive_int  # noqa: E402

DATA = {}


def shard_gradient(args):
    w, lo, hi = args
    x, y = DATA["x"][lo:hi], DATA["y"][lo:hi]
    p = 1.0 / (1.0 + numpy.exp(-(x @ w)))
    return x.T @ (p - y)


def train(bounds, steps, rate, gradients):
    rows, features = DATA["x"].shape
    w = numpy.zeros(features)
    for _ in range(steps):
        total = numpy.zeros(features)
        for g in gradients([(w, lo, hi) for lo, hi in bounds]):  # shard order
            total += g
        w = w - rate * total / rows
    return w


def accuracy(w):
    return float(numpy.mean(((DATA["x"] @ w) >= 0) == (DATA["y"] == 1)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=positive_int, default=200_000)
    parser.add_argument("--features", type=positive_int, default=32)
    parser.add_argument("--steps", type=positive_int, default=30)
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)

    rng = numpy.random.default_rng(42)
    hidden = rng.uniform(-1, 1, args.features)
    x = rng.standard_normal((args.rows, args.features))
    y = (rng.random(args.rows) < 1 / (1 + numpy.exp(-(x @ hidden)))).astype(numpy.float64)
    DATA["x"], DATA["y"] = x, y
    edges = [args.rows * k // args.workers for k in range(args.workers + 1)]
    bounds = list(zip(edges[:-1], edges[1:]))
    rate = 0.5
    result = {}
    # fork: the workers inherit DATA, so the rows are never pickled.
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        pool.map(shard_gradient, [(numpy.zeros(args.features), 0, 1)] * args.workers)  # warm workers

        def sequential():
            result["sequential"] = train(bounds, args.steps, rate, lambda jobs: [shard_gradient(j) for j in jobs])

        def processes():
            result["processes"] = train(bounds, args.steps, rate, lambda jobs: pool.map(shard_gradient, jobs))

        best = best_of_each(args.repeat, sequential=sequential, processes=processes)
    emit({
        "rows": args.rows,
        "features": args.features,
        "steps": args.steps,
        "workers": args.workers,
        "sequential_s": best["sequential"],
        "processes_s": best["processes"],
        "sequential_accuracy": accuracy(result["sequential"]),
        "processes_accuracy": accuracy(result["processes"]),
        "max_weight_diff": float(numpy.max(numpy.abs(result["sequential"] - result["processes"]))),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

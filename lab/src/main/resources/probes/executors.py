"""concurrent.futures: ThreadPoolExecutor vs ProcessPoolExecutor.

defaults: the max_workers an executor picks when none is given, next to the
documented formula.

cpu: ``--tasks`` tasks of ``burn(--cpu-iterations)`` submitted to a pool of
``--workers`` threads vs processes. tiny: ``--tiny-tasks`` calls of a trivial
function through ``executor.map`` (default chunksize) on the same pools. Each
executor is created outside the timed region and warmed first with trivial
tasks (one per worker, so that every worker process is already started).
Every timing is repeated ``--repeat`` times; the best (minimum) is reported, in
seconds.

lambda: a lambda submitted to a ProcessPoolExecutor cannot be pickled; the
error raised by ``future.result()`` is reported as it actually happens.

exception: a task raising ValueError("boom"): does ``future.result()``
re-raise a ValueError with that message, for each executor?

Prints one JSON object on stdout:
  python           platform.python_version()
  implementation   platform.python_implementation()
  cpu_count        os.cpu_count()
  defaults         object:
    thread_default_max_workers   ThreadPoolExecutor()._max_workers
    thread_documented_default    min(32, (os.cpu_count() or 1) + 4)
    process_default_max_workers  ProcessPoolExecutor()._max_workers
    process_documented_default   os.cpu_count()
  cpu              object:
    tasks            number of burn tasks (N)
    workers          pool size (W)
    thread_pool_s    N tasks on ThreadPoolExecutor(W)
    process_pool_s   N tasks on ProcessPoolExecutor(W)
  tiny             object:
    tasks            number of trivial tasks (M)
    thread_pool_s    executor.map over M items on ThreadPoolExecutor(W)
    process_pool_s   executor.map over M items on ProcessPoolExecutor(W)
  lambda_in_process_pool  object:
    error_type       type(e).__name__ of the error from future.result(), or null
    message          str(e), or null if no error was raised
  exception        object:
    thread_pool_reraises   True if ValueError("boom") is re-raised
    process_pool_reraises  True if ValueError("boom") is re-raised
"""

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from probelib import best_of_each, burn, emit, positive_int


def ident(x):
    return x


def boom():
    raise ValueError("boom")


def warm_up(executor, workers):
    """Run one trivial task per worker so that all workers are started."""
    for future in [executor.submit(ident, k) for k in range(workers)]:
        future.result()


def run_burn_tasks(executor, tasks, iterations):
    futures = [executor.submit(burn, iterations) for _ in range(tasks)]
    for future in futures:
        future.result()


def run_tiny_tasks(executor, tasks):
    # list() consumes the iterator, i.e. waits for every result.
    list(executor.map(ident, range(tasks)))


def reraises_value_error(executor):
    try:
        executor.submit(boom).result()
    except ValueError as e:
        return str(e) == "boom"
    return False


def measure_defaults():
    with ThreadPoolExecutor() as thread_pool:
        thread_default = thread_pool._max_workers
    with ProcessPoolExecutor() as process_pool:
        process_default = process_pool._max_workers
    return {
        "thread_default_max_workers": thread_default,
        "thread_documented_default": min(32, (os.cpu_count() or 1) + 4),
        "process_default_max_workers": process_default,
        "process_documented_default": os.cpu_count(),
    }


def measure_lambda():
    with ProcessPoolExecutor(1) as pool:
        future = pool.submit(lambda: 1)
        wait([future])
        try:
            future.result()
        except Exception as e:  # whatever actually happens is the result
            return {"error_type": type(e).__name__, "message": str(e)}
    return {"error_type": None, "message": None}


def measure_pools(tasks, iterations, tiny_tasks, workers, repeat):
    with ThreadPoolExecutor(workers) as thread_pool, \
            ProcessPoolExecutor(workers) as process_pool:
        warm_up(thread_pool, workers)
        warm_up(process_pool, workers)
        cpu_best = best_of_each(
            repeat,
            thread=lambda: run_burn_tasks(thread_pool, tasks, iterations),
            process=lambda: run_burn_tasks(process_pool, tasks, iterations))
        tiny_best = best_of_each(
            repeat,
            thread=lambda: run_tiny_tasks(thread_pool, tiny_tasks),
            process=lambda: run_tiny_tasks(process_pool, tiny_tasks))
        cpu = {"tasks": tasks, "workers": workers,
               "thread_pool_s": cpu_best["thread"], "process_pool_s": cpu_best["process"]}
        tiny = {"tasks": tiny_tasks,
                "thread_pool_s": tiny_best["thread"], "process_pool_s": tiny_best["process"]}
        exception = {
            "thread_pool_reraises": reraises_value_error(thread_pool),
            "process_pool_reraises": reraises_value_error(process_pool),
        }
    return cpu, tiny, exception


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=positive_int, default=4)
    parser.add_argument("--cpu-iterations", type=positive_int, default=1_000_000)
    parser.add_argument("--tiny-tasks", type=positive_int, default=2000)
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    defaults = measure_defaults()
    cpu, tiny, exception = measure_pools(args.tasks, args.cpu_iterations, args.tiny_tasks,
                                         args.workers, args.repeat)
    result = {
        "defaults": defaults,
        "cpu": cpu,
        "tiny": tiny,
        "lambda_in_process_pool": measure_lambda(),
        "exception": exception,
    }
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

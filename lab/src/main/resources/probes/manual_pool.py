"""A process worker pool written by hand, beside concurrent.futures.ProcessPoolExecutor.

The manual pool is the lesson: a task queue, N worker processes that loop get -> run -> put, a result queue
that carries (index, ok, value) back, results put in order by index, and one None poison pill per worker to stop
them. A task that raises does not kill its worker: the worker catches the exception and sends it back as the
task's result. All results are drained BEFORE the workers are joined (a process that still has items in a queue's
feeder buffer cannot exit; see the multiprocessing "joining processes that use queues" guideline).

Prints one JSON object on stdout:
  python, implementation, cpu_count          (from probelib)
  start_method        multiprocessing.get_start_method()
  manual              object: workers, tasks, in_order (results equal [f(x) for x] in order, failing one aside),
                      error (the failed task's error text), failed_index, later_tasks_ok (tasks after the failure
                      still ran), alive_after_failure (workers alive after the failure), exitcodes after
                      shutdown, all_stopped, seconds
  executor            object: in_order, error_at_result (the exception re-raised by future.result()),
                      seconds
"""

import argparse
import multiprocessing as mp
import time
import concurrent.futures as cf
from probelib import emit, positive_int

FAIL_AT = 3


def square(x):
    if x == FAIL_AT:
        raise ValueError(f"task {x} failed on purpose")
    return x * x


def worker(tasks, results):
    while True:
        job = tasks.get()
        if job is None:  # the poison pill: one per worker
            return
        index, fn, arg = job
        try:
            results.put((index, True, fn(arg)))
        except Exception as e:  # captured and returned: the worker lives on
            results.put((index, False, f"{type(e).__name__}: {e}"))


class ManualPool:
    def __init__(self, workers):
        self.tasks, self.results = mp.Queue(), mp.Queue()
        self.procs = [mp.Process(target=worker, args=(self.tasks, self.results)) for _ in range(workers)]
        for p in self.procs:
            p.start()

    def map(self, fn, args):
        for i, a in enumerate(args):
            self.tasks.put((i, fn, a))
        out = [None] * len(args)
        for _ in args:  # drain every result before anyone joins
            i, ok, value = self.results.get(timeout=30)
            out[i] = (ok, value)
        return out

    def shutdown(self):
        for _ in self.procs:
            self.tasks.put(None)
        for p in self.procs:
            p.join(timeout=30)
        return [p.exitcode for p in self.procs]


def run_manual(workers, tasks):
    start = time.perf_counter()
    pool = ManualPool(workers)
    out = pool.map(square, list(range(tasks)))
    alive = sum(p.is_alive() for p in pool.procs)
    # a second batch after the failure: the pool still serves
    again = pool.map(square, [FAIL_AT + 1, FAIL_AT + 2])
    exitcodes = pool.shutdown()
    expected = [(True, x * x) for x in range(tasks)]
    ok_part = [o for i, o in enumerate(out) if i != FAIL_AT]
    return {
        "workers": workers,
        "tasks": tasks,
        "in_order": ok_part == [e for i, e in enumerate(expected) if i != FAIL_AT],
        "failed_index": next((i for i, o in enumerate(out) if not o[0]), -1),
        "error": out[FAIL_AT][1] if not out[FAIL_AT][0] else "",
        "later_tasks_ok": again == [(True, (FAIL_AT + 1) ** 2), (True, (FAIL_AT + 2) ** 2)],
        "alive_after_failure": alive,
        "exitcodes": exitcodes,
        "all_stopped": all(c == 0 for c in exitcodes) and not any(p.is_alive() for p in pool.procs),
        "seconds": time.perf_counter() - start,
    }


def run_executor(workers, tasks):
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=workers) as ex:
        futures = [ex.submit(square, x) for x in range(tasks)]
        values, error = [], ""
        for i, f in enumerate(futures):
            try:
                values.append(f.result(timeout=30))
            except ValueError as e:
                error = f"{type(e).__name__}: {e}"
                values.append(None)
        later = ex.submit(square, FAIL_AT + 1).result(timeout=30)
    return {
        "in_order": [v for i, v in enumerate(values) if i != FAIL_AT] == [x * x for x in range(tasks) if x != FAIL_AT],
        "error_at_result": error,
        "later_tasks_ok": later == (FAIL_AT + 1) ** 2,
        "seconds": time.perf_counter() - start,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--tasks", type=positive_int, default=20)
    args = parser.parse_args()
    tasks = max(args.tasks, FAIL_AT + 1)
    emit({
        "start_method": mp.get_start_method(),
        "manual": run_manual(args.workers, tasks),
        "executor": run_executor(args.workers, tasks),
    })


if __name__ == "__main__":
    main()

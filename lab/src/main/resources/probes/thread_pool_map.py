"""ThreadPoolExecutor.map: ordering, exceptions, timeout and speed-up.

order: ``--order-items`` items on a pool with one worker per item; item i may
finish only after item i+1 has (it waits on an Event that item i+1 sets), so
the items finish in reverse order by construction. ``executor.map`` is
iterated and the order of its results recorded. A second run forces the
futures themselves to complete in reverse order (a done-callback releases the
previous item) and records the order ``as_completed`` yields them in.

exception: items 0..2 where item 2 raises ValueError first (items 0 and 1 wait
until it has); ``executor.map`` is iterated until it raises. Records the
values yielded before the exception and the exception's type.

timeout: ``executor.map(fn, [0], timeout=T)`` where the item waits on an
Event that is set only after the TimeoutError; records the error's type and
the time from the call of map until it was raised.

speedup: ``--items`` calls of ``time.sleep(--wait-ms)`` through
``executor.map`` on a pool of ``--workers`` threads vs one worker. Best of
``--repeat`` interleaved runs, in seconds.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  order      object:
    completion_order   item indices in the order they finished, in the executor.map run
    map_order          indices in the order executor.map yielded their results
    as_completed_order indices in the order as_completed yielded the futures (second run)
    futures_completion_order  the order those futures completed in (done-callbacks)
  exception  object:
    yielded_before     values yielded before the exception
    error_type         type(e).__name__ of the exception raised by the iterator
  timeout    object:
    timeout_s          T
    error_type         type(e).__name__ of what the iterator raised
    is_builtin_timeout_error  isinstance(e, TimeoutError) (the builtin; 3.11+ alias)
    raised_after_s     seconds from the call of map until the error
  speedup    object:
    items, workers, wait_ms
    one_worker_s       best wall time on ThreadPoolExecutor(1)
    workers_s          best wall time on ThreadPoolExecutor(workers)
"""

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from probelib import best_of_each, emit, positive_int

GIVE_UP_S = 30


def run_reversed(pool, n, consume):
    """Submit range(n) so that the futures complete in reverse order, and hand the futures to `consume`.

    Future i-1 may finish only once future i is done: a done-callback on future i sets the Event item i-1 waits
    on. Item n-1, which starts the chain, waits for `go`; `go` is set once the consumer is waiting on future n-1
    (a waiter is installed on it), so no future is finished before the consumer starts waiting. Returns what
    `consume` returned and the order in which the futures completed."""
    may_finish = [threading.Event() for _ in range(n)]
    completed = []
    lock = threading.Lock()

    def work(i):
        if not may_finish[i].wait(GIVE_UP_S):
            raise RuntimeError(f"item {i} was never allowed to finish")
        return i

    def done(i):
        def callback(_future):
            with lock:
                completed.append(i)
            if i > 0:
                may_finish[i - 1].set()
        return callback

    futures = [pool.submit(work, i) for i in range(n)]
    for i, future in enumerate(futures):
        future.add_done_callback(done(i))

    def start_when_consumer_waits():
        # _waiters is CPython's list of as_completed/wait waiters on a future; without it, start at once.
        deadline = time.monotonic() + GIVE_UP_S
        while getattr(futures[-1], "_waiters", [1]) == [] and time.monotonic() < deadline:
            time.sleep(0.0005)
        may_finish[n - 1].set()

    starter = threading.Thread(target=start_when_consumer_waits)
    starter.start()
    try:
        return consume(futures), completed
    finally:
        may_finish[n - 1].set()
        starter.join()


def measure_order(n):
    with ThreadPoolExecutor(max_workers=n) as pool:
        map_order, completion_order = map_reversed(pool, n)
    with ThreadPoolExecutor(max_workers=n) as pool:
        as_completed_order, futures_completed = run_reversed(
            pool, n, lambda fs: [f.result() for f in as_completed(fs)])
    return {"completion_order": completion_order, "map_order": map_order,
            "as_completed_order": as_completed_order, "futures_completion_order": futures_completed}


def map_reversed(pool, n):
    """executor.map over range(n), where item i may finish only after item i+1 has finished."""
    may_finish = [threading.Event() for _ in range(n)]
    finished = []
    lock = threading.Lock()

    def work(i):
        if i < n - 1 and not may_finish[i].wait(GIVE_UP_S):
            raise RuntimeError(f"item {i} was never allowed to finish")
        with lock:
            finished.append(i)
        if i > 0:
            may_finish[i - 1].set()
        return i

    return list(pool.map(work, range(n))), finished


def measure_exception():
    """Item 2 fails first (items 0 and 1 wait until it has failed), yet map yields 0 and 1 before raising."""
    item_2_failed = threading.Event()

    def work(i):
        if i == 2:
            item_2_failed.set()
            raise ValueError("item 2 is bad")
        if not item_2_failed.wait(GIVE_UP_S):
            raise RuntimeError("item 2 never ran")
        return i * 10

    yielded = []
    error_type = None
    with ThreadPoolExecutor(max_workers=3) as pool:
        try:
            for value in pool.map(work, range(3)):
                yielded.append(value)
        except Exception as e:  # noqa: BLE001 - the type is what is measured
            error_type = type(e).__name__
    return {"yielded_before": yielded, "error_type": error_type}


def measure_timeout(timeout_s):
    release = threading.Event()
    error_type, builtin, raised_after = None, False, None
    with ThreadPoolExecutor(max_workers=1) as pool:
        start = time.perf_counter()
        results = pool.map(lambda i: release.wait(GIVE_UP_S), [0], timeout=timeout_s)
        try:
            list(results)
        except Exception as e:  # noqa: BLE001
            raised_after = time.perf_counter() - start
            error_type = type(e).__name__
            builtin = isinstance(e, TimeoutError)
        finally:
            release.set()  # lets the worker end, so leaving the with-block does not wait GIVE_UP_S
    return {"timeout_s": timeout_s, "error_type": error_type, "is_builtin_timeout_error": builtin,
            "raised_after_s": raised_after}


def measure_speedup(items, workers, wait_ms, repeat):
    one = ThreadPoolExecutor(max_workers=1)
    many = ThreadPoolExecutor(max_workers=workers)
    delay = wait_ms / 1000
    try:
        # Warm both pools: threads are started lazily, on the first submits.
        list(many.map(time.sleep, [0] * workers))
        list(one.map(time.sleep, [0]))
        best = best_of_each(repeat,
                            one=lambda: list(one.map(time.sleep, [delay] * items)),
                            many=lambda: list(many.map(time.sleep, [delay] * items)))
    finally:
        one.shutdown()
        many.shutdown()
    return {"items": items, "workers": workers, "wait_ms": wait_ms,
            "one_worker_s": best["one"], "workers_s": best["many"]}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=positive_int, default=16)
    parser.add_argument("--order-items", type=positive_int, default=6)
    parser.add_argument("--workers", type=positive_int, default=4)
    parser.add_argument("--wait-ms", type=positive_int, default=10)
    parser.add_argument("--timeout-ms", type=positive_int, default=100)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    emit({
        "order": measure_order(args.order_items),
        "exception": measure_exception(),
        "timeout": measure_timeout(args.timeout_ms / 1000),
        "speedup": measure_speedup(args.items, args.workers, args.wait_ms, args.repeat),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

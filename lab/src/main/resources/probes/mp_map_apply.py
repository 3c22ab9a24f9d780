"""Pool.map versus Pool.apply, measured: ordering, blocking and chunking of multiprocessing.Pool.

Parts:
  * order: tasks 0..N-1 on a 2-process pool (chunksize 1); task 0 is held on an Event until the parent lets it
    finish, so it is forced to be the slowest. The parent waits until every other task has finished, then looks:
      - map_async: not ready yet (map waits for all, then returns results in input order);
      - imap: next(timeout) raises TimeoutError (imap yields in input order, so task 0 holds back the rest);
      - imap_unordered: yields the N-1 finished results first; task 0 comes last, after its release.
  * apply: N sleeping tasks of --task-ms each on an N-process pool: a loop of pool.apply (each call blocks until
    its result is back, so they run one after another) versus apply_async for all, then get() each.
  * chunks: --tiny tiny tasks through pool.map with chunksize=1, the default, and len//processes; the default is
    read from CPython's own source of Pool._map_async (divmod(len, 4 * processes), plus one if there is a rest).
Timings are the best of --repeat runs taken in turns.

Prints one JSON object (probelib.emit) with keys order, apply, chunks, default_chunksize_rule.
"""

import argparse
import inspect
import multiprocessing
import multiprocessing.pool
import time

from probelib import best_of_each, emit, positive_int

GIVE_UP_S = 20

_release = None
_finished = None


def _init(release, finished):
    global _release, _finished
    _release, _finished = release, finished


def held_first(i):
    """Task 0 waits for the parent's release; every other task counts itself finished and returns at once."""
    if i == 0:
        if not _release.wait(GIVE_UP_S):
            raise RuntimeError("task 0 was never released")
    else:
        with _finished.get_lock():
            _finished.value += 1
    return i


def sleeper(seconds):
    time.sleep(seconds)
    return seconds


def tiny(x):
    return x + 1


def wait_for_others(finished, n):
    deadline = time.monotonic() + GIVE_UP_S
    while finished.value < n - 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {finished.value} of {n - 1} tasks finished")
        time.sleep(0.001)  # polling a shared counter; the ordering itself is forced by the Event


def order(n):
    ctx = multiprocessing.get_context("fork")
    out = {}
    for kind in ("map", "imap", "imap_unordered"):
        release, finished = ctx.Event(), ctx.Value("i", 0)
        with ctx.Pool(2, initializer=_init, initargs=(release, finished)) as pool:
            if kind == "map":
                res = pool.map_async(held_first, range(n), chunksize=1)
                wait_for_others(finished, n)
                ready_before = res.ready()
                release.set()
                results = res.get(GIVE_UP_S)
                out[kind] = {"results": results, "early": 0, "blocked_until_release": not ready_before}
            else:
                it = getattr(pool, kind)(held_first, range(n), chunksize=1)
                wait_for_others(finished, n)
                early = []
                try:
                    while len(early) < n - 1:
                        early.append(it.next(timeout=0.2))
                except multiprocessing.TimeoutError:
                    pass
                release.set()
                results = early + list(it)
                out[kind] = {"results": results, "early": len(early), "blocked_until_release": len(early) == 0}
    return out


def apply(n, task_s, repeat):
    with multiprocessing.get_context("fork").Pool(n) as pool:
        pool.map(sleeper, [0] * n)  # every worker up before timing

        def loop_apply():
            for _ in range(n):
                pool.apply(sleeper, (task_s,))

        def async_apply():
            for r in [pool.apply_async(sleeper, (task_s,)) for _ in range(n)]:
                r.get(GIVE_UP_S)

        best = best_of_each(repeat, apply_loop=loop_apply, apply_async=async_apply)
    return {"tasks": n, "task_s": task_s, "apply_loop_s": best["apply_loop"], "apply_async_s": best["apply_async"]}


def chunks(count, processes, repeat):
    data = list(range(count))
    q, r = divmod(count, processes * 4)
    default = q + (1 if r else 0)
    large = -(-count // processes)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(tiny, range(processes))
        check = pool.map(tiny, data) == [x + 1 for x in data]
        best = best_of_each(repeat,
                            one=lambda: pool.map(tiny, data, chunksize=1),
                            default=lambda: pool.map(tiny, data),
                            large=lambda: pool.map(tiny, data, chunksize=large))
    return {"tasks": count, "processes": processes, "correct": check,
            "chunksize": {"one": 1, "default": default, "large": large},
            "us_per_task": {k: v / count * 1e6 for k, v in best.items()}}


def default_rule():
    src = inspect.getsource(multiprocessing.pool.Pool._map_async)
    return ("divmod(len(iterable), len(self._pool) * 4)" in src) and ("chunksize += 1" in src)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=positive_int, default=6, help="tasks in the ordering part (>= 2)")
    ap.add_argument("--apply-tasks", type=positive_int, default=4)
    ap.add_argument("--task-ms", type=positive_int, default=50)
    ap.add_argument("--tiny", type=positive_int, default=4000)
    ap.add_argument("--processes", type=positive_int, default=2)
    ap.add_argument("--repeat", type=positive_int, default=3)
    a = ap.parse_args()
    if a.tasks < 2:
        ap.error("--tasks must be >= 2")
    emit({"order": order(a.tasks),
          "apply": apply(a.apply_tasks, a.task_ms / 1000, a.repeat),
          "chunks": chunks(a.tiny, a.processes, a.repeat),
          "default_chunksize_rule": default_rule()})


if __name__ == "__main__":
    main()

"""One poison item in a CPython fan-out: what each API does with the other items' results.

multiprocessing (a Pool of 2 processes, ``--items`` items, item ``--poison`` raises ValueError):
  pool_map        Pool.map: the call raises the poison item's exception; the caller gets no result at all,
                  although the workers computed the good items (counted through a shared Value)
  imap_unordered  Pool.imap_unordered over a wrapper that catches per item and returns ("ok", value) or
                  ("dead", item, repr(exc)): every good result arrives, the poison item lands in a dead-letter list

asyncio (``--tasks`` coroutines; the poison raises at once, the others wait on an asyncio.Event that is set only after
the caller has seen what gather/TaskGroup did, so the outcome does not depend on timing):
  gather                 gather without return_exceptions: raises the poison's exception at once; the other tasks
                         are not done then, are not cancelled, and finish after the Event is set
  gather_return_exc      gather(return_exceptions=True): every result plus the exception object, in argument order
  taskgroup              TaskGroup (3.11): the poison's failure cancels every sibling; an ExceptionGroup comes out

Prints one JSON object on stdout (keys named after the variants above).
"""

import argparse
import asyncio
import multiprocessing

from probelib import emit, positive_int

COMPUTED = None  # a multiprocessing.Value shared with the workers (fork)


def init_worker(counter):
    global COMPUTED
    COMPUTED = counter


def work(i, poison):
    if i == poison:
        raise ValueError(f"poison item {i}")
    with COMPUTED.get_lock():
        COMPUTED.value += 1
    return i * i


def work_star(args):
    return work(*args)


def guarded(args):
    """The per-item try/except: a failure becomes a value, so one item cannot fail the whole map."""
    i, poison = args
    try:
        return ("ok", work(i, poison))
    except Exception as exc:  # noqa: BLE001 - the dead letter keeps whatever the item raised
        return ("dead", i, repr(exc))


def pool_side(items, poison):
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    out = {}
    with ctx.Pool(2, initializer=init_worker, initargs=(counter,)) as pool:
        try:
            results = pool.map(work_star, [(i, poison) for i in range(items)], chunksize=1)
            out["pool_map_raised"] = None
            out["pool_map_results"] = len(results)
        except ValueError as exc:
            out["pool_map_raised"] = repr(exc)
            out["pool_map_results"] = 0
        out["pool_map_computed"] = counter.value
        counter.value = 0
        good, dead = [], []
        for r in pool.imap_unordered(guarded, [(i, poison) for i in range(items)], chunksize=4):
            if r[0] == "ok":
                good.append(r[1])
            else:
                dead.append({"item": r[1], "error": r[2]})
        out["imap_good"] = len(good)
        out["imap_dead"] = dead
        out["imap_good_correct"] = sorted(good) == sorted(i * i for i in range(items) if i != poison)
    return out


async def victim(i, release, finished):
    await release.wait()
    finished.append(i)
    return i


async def poison_task():
    raise ValueError("poison task")


async def gather_side(n):
    release = asyncio.Event()
    finished = []
    others = [asyncio.create_task(victim(i, release, finished)) for i in range(n - 1)]
    out = {}
    try:
        await asyncio.gather(poison_task(), *others)
        out["gather_raised"] = None
    except ValueError as exc:
        out["gather_raised"] = repr(exc)
    out["gather_others_done_at_raise"] = sum(t.done() for t in others)
    out["gather_others_cancelled"] = sum(t.cancelled() for t in others)
    release.set()
    await asyncio.wait(others)
    out["gather_others_finished_later"] = len(finished)

    release = asyncio.Event()
    finished = []
    others = [asyncio.create_task(victim(i, release, finished)) for i in range(n - 1)]
    gathered = asyncio.gather(poison_task(), *others, return_exceptions=True)
    await asyncio.sleep(0)  # let the poison fail first: gather still waits for the others
    out["gather_rexc_done_before_release"] = gathered.done()
    release.set()
    results = await gathered
    out["gather_rexc_results"] = sum(1 for r in results if not isinstance(r, BaseException))
    out["gather_rexc_exceptions"] = [repr(r) for r in results if isinstance(r, BaseException)]
    out["gather_rexc_first_is_exception"] = isinstance(results[0], ValueError)

    release = asyncio.Event()
    finished = []
    children = []
    try:
        async with asyncio.TaskGroup() as tg:
            children = [tg.create_task(victim(i, release, finished)) for i in range(n - 1)]
            tg.create_task(poison_task())
        out["taskgroup_raised"] = None
    except* ValueError as group:
        out["taskgroup_raised"] = type(group).__name__ + ": " + repr(group.exceptions[0])
    out["taskgroup_cancelled"] = sum(t.cancelled() for t in children)
    out["taskgroup_finished"] = len(finished)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=positive_int, default=200)
    ap.add_argument("--poison", type=int, default=137)
    ap.add_argument("--tasks", type=positive_int, default=10)
    a = ap.parse_args()
    if not 0 <= a.poison < a.items:
        ap.error(f"--poison must be an item index below --items ({a.items}), got {a.poison}")
    result = {"items": a.items, "poison": a.poison, "tasks": a.tasks}
    result.update(pool_side(a.items, a.poison))
    result.update(asyncio.run(gather_side(a.tasks)))
    emit(result)


if __name__ == "__main__":
    main()

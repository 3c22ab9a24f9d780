"""Fan-out and fan-in in CPython: asyncio.gather, TaskGroup, as_completed and a Semaphore-bounded fan-out, then
concurrent.futures' Executor.map beside as_completed.

asyncio (one event loop, ``--items`` coroutines that each await ``asyncio.sleep(--delay-ms)``, a stand-in for a
network call):
  gather        asyncio.gather of every coroutine at once
  taskgroup     asyncio.TaskGroup (3.11) with one create_task per item
  as_completed  asyncio.as_completed over every coroutine at once
  semaphore     every coroutine created at once, but each waits for an asyncio.Semaphore(--bound) before its call
For each: the most coroutines inside the call at the same time (in-flight peak), the wall time (best of
``--repeat``), and whether the results came back in argument order.

concurrent.futures (a ThreadPoolExecutor of 4 threads, 8 items): item 0 waits for a threading.Event that the last of
items 1..7 sets when it finishes (5 s timeout, so a wrong order cannot hang the probe), so item 0 always finishes last.
  map           Executor.map: results in input order, so item 0's result comes first and holds back the others
  as_completed  concurrent.futures.as_completed: results in completion order, so item 0's comes last

Prints one JSON object on stdout:
  items, bound, delay_ms
  peak_gather, peak_taskgroup, peak_as_completed, peak_semaphore   in-flight peaks
  wall_gather_s, wall_taskgroup_s, wall_as_completed_s, wall_semaphore_s
  ordered_gather, ordered_taskgroup, ordered_as_completed, ordered_semaphore   results in argument order
  count_gather, count_taskgroup, count_as_completed, count_semaphore   distinct results (all items delivered)
  map_order, as_completed_order   the item ids in the order concurrent.futures returned them
"""

import argparse
import asyncio
import concurrent.futures
import threading

from probelib import best_of_each, emit, positive_int


class InFlight:
    """Counts coroutines inside the simulated call; the loop is single-threaded, so plain ints are safe."""

    def __init__(self):
        self.now = 0
        self.peak = 0

    async def call(self, i, delay):
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(delay)
            return i
        finally:
            self.now -= 1


async def fan_gather(n, delay, meter, bound):
    return await asyncio.gather(*(meter.call(i, delay) for i in range(n)))


async def fan_taskgroup(n, delay, meter, bound):
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(meter.call(i, delay)) for i in range(n)]
    return [t.result() for t in tasks]


async def fan_as_completed(n, delay, meter, bound):
    return [await f for f in asyncio.as_completed([meter.call(i, delay) for i in range(n)])]


async def fan_semaphore(n, delay, meter, bound):
    sem = asyncio.Semaphore(bound)

    async def limited(i):
        async with sem:
            return await meter.call(i, delay)

    return await asyncio.gather(*(limited(i) for i in range(n)))


def asyncio_side(n, delay, bound, repeat):
    variants = {"gather": fan_gather, "taskgroup": fan_taskgroup, "as_completed": fan_as_completed,
                "semaphore": fan_semaphore}
    out = {}
    for name, fan in variants.items():
        meter = InFlight()
        results = asyncio.run(fan(n, delay, meter, bound))
        out["peak_" + name] = meter.peak
        out["ordered_" + name] = results == list(range(n))
        out["count_" + name] = len(set(results))
    walls = best_of_each(repeat, **{name: (lambda fan=fan: asyncio.run(fan(n, delay, InFlight(), bound)))
                                    for name, fan in variants.items()})
    for name, seconds in walls.items():
        out["wall_" + name + "_s"] = seconds
    return out


def futures_side():
    n = 8
    remaining = [n - 1]
    lock = threading.Lock()
    others_done = threading.Event()

    def work(i):
        if i == 0:
            others_done.wait(5)  # the slow item: finishes only after every other item has
            return i
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                others_done.set()
        return i

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        map_order = list(pool.map(work, range(n)))
    remaining[0] = n - 1
    others_done.clear()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {pool.submit(work, i): i for i in range(n)}
        completed_order = [f.result() for f in concurrent.futures.as_completed(futures)]
    return {"map_order": map_order, "as_completed_order": completed_order}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=positive_int, default=200)
    ap.add_argument("--bound", type=positive_int, default=10)
    ap.add_argument("--delay-ms", type=positive_int, default=20)
    ap.add_argument("--repeat", type=positive_int, default=3)
    a = ap.parse_args()
    result = {"items": a.items, "bound": a.bound, "delay_ms": a.delay_ms}
    result.update(asyncio_side(a.items, a.delay_ms / 1000, a.bound, a.repeat))
    result.update(futures_side())
    emit(result)


if __name__ == "__main__":
    main()

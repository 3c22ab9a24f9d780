"""A memory leak in an asyncio program found with tracemalloc snapshots diffed, and fixed.

1. Broken: a set that keeps every background task (the usual "keep a reference to your tasks" advice without the
   discard): each finished task keeps its result, a payload, alive. Fixed: task.add_done_callback(tasks.discard).
2. Broken: an unbounded asyncio.Queue with a consumer slower than the producer. Fixed: asyncio.Queue(maxsize):
   put_nowait() raises QueueFull, so the producer learns at once and sheds the excess (or, with await put(), waits).

For each, traced memory is measured after every round (gc.collect() first) and the first and last snapshots are
diffed with Snapshot.compare_to(..., "lineno"): the top line must be the probe's own payload allocation.
Arguments: rounds requests payload_bytes. Prints one JSON object on stdout (probelib facts first).
"""

import asyncio
import gc
import sys
import tracemalloc

from probelib import emit


def make_payload(size):
    return bytearray(size)  # PAYLOAD LINE: the allocation the snapshot diff must point at


async def handle(size):
    await asyncio.sleep(0)
    return make_payload(size)


async def tasks_case(rounds, requests, size, fixed):
    tasks = set()
    traced = []
    first = None
    for r in range(rounds):
        for _ in range(requests):
            task = asyncio.create_task(handle(size))
            tasks.add(task)
            if fixed:
                task.add_done_callback(tasks.discard)
        while any(not t.done() for t in tasks):
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # done-callbacks run in the next loop iteration
        gc.collect()
        traced.append(tracemalloc.get_traced_memory()[0])
        if r == 0:
            first = tracemalloc.take_snapshot()
    last = tracemalloc.take_snapshot()
    return traced, top_line(first, last), len(tasks)


async def queue_case(rounds, requests, size, fixed):
    drain = requests // 4  # the consumer manages a quarter of what arrives each round
    queue = asyncio.Queue(maxsize=drain if fixed else 0)
    traced = []
    first = None
    rejected = 0
    for r in range(rounds):
        consumer = asyncio.create_task(consume(queue, drain))
        for _ in range(requests):
            try:
                queue.put_nowait(make_payload(size))
            except asyncio.QueueFull:
                rejected += 1  # the fix: the producer is told at once and sheds (or slows down)
        await consumer
        gc.collect()
        traced.append(tracemalloc.get_traced_memory()[0])
        if r == 0:
            first = tracemalloc.take_snapshot()
    last = tracemalloc.take_snapshot()
    return traced, top_line(first, last), queue.qsize(), rejected


async def consume(queue, count):
    for _ in range(count):
        await queue.get()
        queue.task_done()


def top_line(first, last):
    only_here = [tracemalloc.Filter(True, __file__)]
    stats = last.filter_traces(only_here).compare_to(first.filter_traces(only_here), "lineno")
    if not stats:
        return {"line": None, "size_diff": 0}
    top = stats[0]
    frame = top.traceback[0]
    with open(frame.filename) as f:
        source = f.readlines()[frame.lineno - 1]
    return {"line": frame.lineno, "is_payload_line": "PAYLOAD LINE" in source, "size_diff": top.size_diff,
            "count_diff": top.count_diff}


def main():
    rounds, requests, size = (int(a) for a in sys.argv[1:4])
    tracemalloc.start()
    out = {}
    for name, fixed in (("tasks_broken", False), ("tasks_fixed", True)):
        traced, top, held = asyncio.run(tasks_case(rounds, requests, size, fixed))
        out[name] = {"traced": traced, "top": top, "held": held}
    for name, fixed in (("queue_broken", False), ("queue_fixed", True)):
        traced, top, qsize, rejected = asyncio.run(queue_case(rounds, requests, size, fixed))
        out[name] = {"traced": traced, "top": top, "held": qsize, "rejected": rejected}
    tracemalloc.stop()
    emit(out)


if __name__ == "__main__":
    main()

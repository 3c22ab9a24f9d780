"""Bottlenecks in asyncio: a downstream of k slots under open-loop overload, shedding, and a lock held across await.

Prints one JSON object:
  unbounded, shed: {offered, rejected, throughput (served/s), p99_ms, q1_ms, q4_ms (mean latency of the first and
                    last quarter of arrivals), mean_waiting (time-average tasks waiting for a slot), lambda_w}
  lock: {locked_ms, free_ms}
"""

import argparse
import asyncio
import time

from probelib import emit, positive_int


async def arrivals(k, service, rate, duration, bound):
    """Create one task per arrival at `rate`/s for `duration` s; each awaits a slot of an asyncio.Semaphore(k).
    With `bound`, arrivals that find `bound` requests in the system are rejected at once."""
    slots = asyncio.Semaphore(k)
    state = {"waiting": 0, "in_system": 0}
    served = []  # (arrived, started, finished), in arrival order of creation
    rejected = 0

    async def request(arrived, record):
        state["waiting"] += 1
        async with slots:
            state["waiting"] -= 1
            record[1] = time.perf_counter()
            await asyncio.sleep(service)
        record[2] = time.perf_counter()
        state["in_system"] -= 1

    samples = []

    async def sampler(stop):
        while not stop.is_set():
            samples.append(state["waiting"])
            await asyncio.sleep(0.0005)

    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler(stop))
    tasks = []
    start = time.perf_counter()
    offered = 0
    while True:
        now = time.perf_counter()
        if now - start >= duration:
            break
        due = int((now - start) * rate) + 1  # arrivals that should have happened by now
        while offered < due:
            offered += 1
            if bound is not None and state["in_system"] >= bound:
                rejected += 1  # answered at once (a 503/429), never queued
                continue
            state["in_system"] += 1
            record = [time.perf_counter(), None, None]
            served.append(record)
            tasks.append(asyncio.create_task(request(record[0], record)))
        await asyncio.sleep(0.0005)
    await asyncio.gather(*tasks)
    stop.set()
    await sampling
    last = max(r[2] for r in served)
    seconds = last - start
    latencies = [(r[2] - r[0]) * 1000 for r in served]
    waits = [(r[1] - r[0]) for r in served]
    n = len(served)
    q1 = latencies[: n // 4]
    q4 = latencies[3 * n // 4:]
    ordered = sorted(latencies)
    return {
        "offered": offered,
        "rejected": rejected,
        "throughput": n / seconds,
        "p99_ms": ordered[min(n - 1, int(0.99 * n + 0.999) - 1)],
        "q1_ms": sum(q1) / len(q1),
        "q4_ms": sum(q4) / len(q4),
        "mean_waiting": sum(samples) / len(samples),
        "lambda_w": n / seconds * (sum(waits) / n),
    }


async def lock_across_await(tasks, service):
    lock = asyncio.Lock()

    async def locked():
        async with lock:  # Broken: the lock is held while the task is suspended
            await asyncio.sleep(service)

    async def free():
        await asyncio.sleep(service)
        async with lock:  # only the shared update is under the lock
            pass

    out = {}
    for name, fn in (("locked_ms", locked), ("free_ms", free)):
        start = time.perf_counter()
        await asyncio.gather(*(fn() for _ in range(tasks)))
        out[name] = (time.perf_counter() - start) * 1000
    return out


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=positive_int, default=4)
    parser.add_argument("--service-ms", type=positive_int, default=5)
    parser.add_argument("--overload", type=positive_int, default=200)
    parser.add_argument("--duration-ms", type=positive_int, default=400)
    parser.add_argument("--queue", type=int, default=4)
    parser.add_argument("--tasks", type=positive_int, default=10)
    a = parser.parse_args()
    service = a.service_ms / 1000
    rate = a.slots / service * a.overload / 100
    duration = a.duration_ms / 1000
    result = {
        "unbounded": await arrivals(a.slots, service, rate, duration, None),
        "shed": await arrivals(a.slots, service, rate, duration, a.slots + a.queue),
        "lock": await lock_across_await(a.tasks, service),
    }
    emit(result)


if __name__ == "__main__":
    asyncio.run(main())

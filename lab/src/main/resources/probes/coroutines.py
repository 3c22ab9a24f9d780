"""What ``async def`` and ``await`` do, observed.

lazy:      calling an ``async def`` returns a coroutine object and runs none of its body (its side effect has not
           happened); ``asyncio.run`` of it then runs the body.
protocol:  a coroutine awaiting an unfinished asyncio.Future, driven by hand with ``send(None)``: the first send runs
           the body up to the ``await`` and yields the Future itself (that is how a coroutine hands the loop what it
           waits for); once the Future has a result, the next send raises StopIteration carrying the return value.
never:     a coroutine created and dropped without being awaited: the RuntimeWarning "coroutine ... was never
           awaited" (captured with warnings.catch_warnings).
bad_await: ``await 42`` raises TypeError.
fanout:    --tasks coroutines that each ``await asyncio.sleep(delay)``, gathered; best of --repeat; and the same
           number of threads that each ``time.sleep(delay)`` (--threads of them), best of --repeat.
memory:    tracemalloc bytes and resident-set growth per pending task (--tasks tasks all sleeping) and per thread
           (--threads threads all blocked on an Event).

Prints one JSON object on stdout (see the keys below); times are in seconds.
"""

import argparse
import asyncio
import gc
import inspect
import os
import threading
import time
import tracemalloc
import warnings

from probelib import emit, positive_int


def rss_bytes():
    """This process's resident set size, from /proc (Linux); 0 where there is none."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def lazy():
    side_effects = []

    async def greet():
        side_effects.append("body ran")
        return "hello"

    coro = greet()
    before = list(side_effects)
    result = asyncio.run(coro)
    return {
        "type": type(coro).__name__,
        "iscoroutine": inspect.iscoroutine(coro),
        "side_effects_after_call": len(before),
        "side_effects_after_run": len(side_effects),
        "result": result,
    }


def protocol():
    loop = asyncio.new_event_loop()
    try:
        fut = loop.create_future()
        steps = []

        async def doubler():
            steps.append("started")
            value = await fut
            steps.append("resumed")
            return value * 2

        coro = doubler()
        yielded = coro.send(None)
        steps_at_suspension = list(steps)
        fut.set_result(21)
        try:
            coro.send(None)
            stop_value = None
            stopped = False
        except StopIteration as stop:
            stop_value = stop.value
            stopped = True
        return {
            "first_send_yielded_the_future": yielded is fut,
            "steps_at_suspension": steps_at_suspension,
            "steps_at_end": steps,
            "stop_iteration": stopped,
            "stop_value": stop_value,
        }
    finally:
        loop.close()


def never_awaited():
    async def forgotten():
        return 1

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coro = forgotten()
        del coro
        gc.collect()
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    return {
        "warnings": messages,
        "runtime_warning": any(w.category is RuntimeWarning and "was never awaited" in str(w.message)
                               for w in caught),
    }


def bad_await():
    async def wrong():
        await 42

    try:
        asyncio.run(wrong())
        return {"raised": None, "message": ""}
    except TypeError as e:
        return {"raised": "TypeError", "message": str(e)}


async def gather_sleeps(tasks, delay):
    start = time.perf_counter()
    await asyncio.gather(*(asyncio.sleep(delay) for _ in range(tasks)))
    return time.perf_counter() - start


def threads_sleep(count, delay):
    threads = [threading.Thread(target=time.sleep, args=(delay,)) for _ in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


async def task_memory(tasks):
    release = asyncio.Event()

    async def waiter():
        await release.wait()

    gc.collect()
    rss0 = rss_bytes()
    tracemalloc.start()
    traced0 = tracemalloc.get_traced_memory()[0]
    pending = [asyncio.create_task(waiter()) for _ in range(tasks)]
    await asyncio.sleep(0)  # every task runs to its first suspension
    traced = tracemalloc.get_traced_memory()[0] - traced0
    tracemalloc.stop()
    rss = rss_bytes() - rss0
    release.set()
    await asyncio.gather(*pending)
    return traced / tasks, rss / tasks


def thread_memory(count):
    release = threading.Event()
    gc.collect()
    rss0 = rss_bytes()
    tracemalloc.start()
    traced0 = tracemalloc.get_traced_memory()[0]
    threads = [threading.Thread(target=release.wait) for _ in range(count)]
    for t in threads:
        t.start()
    traced = tracemalloc.get_traced_memory()[0] - traced0
    tracemalloc.stop()
    rss = rss_bytes() - rss0
    release.set()
    for t in threads:
        t.join()
    return traced / count, rss / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=positive_int, default=10_000)
    parser.add_argument("--threads", type=positive_int, default=1_000)
    parser.add_argument("--delay-ms", type=positive_int, default=100)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()
    delay = args.delay_ms / 1000

    coro_s = min(asyncio.run(gather_sleeps(args.tasks, delay)) for _ in range(args.repeat))
    thread_s = min(threads_sleep(args.threads, delay) for _ in range(args.repeat))
    task_traced, task_rss = asyncio.run(task_memory(args.tasks))
    thread_traced, thread_rss = thread_memory(args.threads)
    emit({
        "lazy": lazy(),
        "protocol": protocol(),
        "never_awaited": never_awaited(),
        "bad_await": bad_await(),
        "fanout": {"tasks": args.tasks, "threads": args.threads, "delay_s": delay,
                   "coroutines_s": coro_s, "threads_s": thread_s},
        "memory": {"task_traced_bytes": task_traced, "task_rss_bytes": task_rss,
                   "thread_traced_bytes": thread_traced, "thread_rss_bytes": thread_rss},
    })


if __name__ == "__main__":
    main()

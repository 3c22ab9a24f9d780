"""asyncio.gather vs asyncio.wait: result order, what happens to the tasks left pending, and timeouts.

Every ordering is forced with asyncio.Event chains, never with sleeps: task i may finish only after task i+1
has finished, so the tasks complete in REVERSE argument order on every run.

gather:        asyncio.gather(t0, ..., tN-1) returns its results in argument order although they completed in
               reverse order.
as_completed:  the same forced order through asyncio.as_completed: results come in completion order.
first:         asyncio.wait(tasks, return_when=FIRST_COMPLETED) with one task that returns at once and N-1 that
               wait for an event set only after wait() returned: done holds 1 task, pending N-1, none cancelled;
               then, never awaited again, the pending tasks run on and complete.
wait_timeout:  asyncio.wait(tasks, timeout=T) on tasks waiting for an event nobody sets: returns (set(), pending)
               after T, and the tasks are neither done nor cancelled.
wait_for:      asyncio.wait_for(task, timeout=T) on the same: raises TimeoutError and the task IS cancelled
               (its coroutine saw CancelledError).
timeout_cm:    async with asyncio.timeout(T) (3.11) around the same await: TimeoutError, inner await cancelled.
futures:       the bridge from concurrent.futures: `await` on a concurrent.futures.Future from a
               ThreadPoolExecutor raises TypeError; asyncio.wrap_future(f) and loop.run_in_executor give an
               asyncio.Future the loop can await, while the function runs on a pool thread, not the loop's.

Prints one JSON object on stdout (probelib facts first), with one object per case above.
"""

import argparse
import asyncio
import concurrent.futures
import sys
import threading
import time
from probelib import emit, positive_int


def chain(n):
    """n events; task i waits for events[i + 1] (set when task i+1 finishes), so completion is n-1, ..., 0."""
    return [asyncio.Event() for _ in range(n)]


async def chained(i, events, completed):
    if i + 1 < len(events):
        await events[i + 1].wait()
    completed.append(i)
    events[i].set()
    return f"result-{i}"


async def gather_case(n):
    events, completed = chain(n), []
    results = await asyncio.gather(*(chained(i, events, completed) for i in range(n)))
    return {"results": results, "completion_order": completed}


async def as_completed_case(n):
    events, completed = chain(n), []
    yielded = [await f for f in asyncio.as_completed([chained(i, events, completed) for i in range(n)])]
    return {"yielded": yielded, "completion_order": completed}


async def first_case(n):
    release = asyncio.Event()

    async def fast():
        return "fast"

    async def slow(i):
        await release.wait()  # set only after wait() has returned
        return f"slow-{i}"

    tasks = [asyncio.create_task(fast())] + [asyncio.create_task(slow(i)) for i in range(1, n)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    at_return = {"done": len(done), "pending": len(pending),
                 "done_results": [t.result() for t in done],
                 "pending_done": sum(t.done() for t in pending),
                 "pending_cancelled": sum(t.cancelled() for t in pending)}
    release.set()
    # Nobody awaits the pending tasks again: yield to the loop until they have run on by themselves.
    spins = 0
    while not all(t.done() for t in pending) and spins < 1000:
        await asyncio.sleep(0)
        spins += 1
    return {**at_return,
            "later_completed": sum(t.done() and not t.cancelled() for t in pending),
            "later_results": sorted(t.result() for t in pending if t.done() and not t.cancelled()),
            "loop_turns_until_completed": spins}


async def never(event, seen):
    try:
        await event.wait()
    except asyncio.CancelledError:
        seen.append("CancelledError")
        raise


async def wait_timeout_case(n, timeout):
    event, seen = asyncio.Event(), []
    tasks = [asyncio.create_task(never(event, seen)) for _ in range(n)]
    start = time.perf_counter()
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    elapsed = time.perf_counter() - start
    result = {"elapsed_s": elapsed, "done": len(done), "pending": len(pending),
              "pending_done": sum(t.done() for t in pending),
              "pending_cancelled": sum(t.cancelled() for t in pending),
              "cancelled_errors_seen": len(seen)}
    for t in tasks:  # clean up: these would otherwise wait for ever
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


async def wait_for_case(timeout):
    event, seen = asyncio.Event(), []
    task = asyncio.create_task(never(event, seen))
    start = time.perf_counter()
    raised = None
    try:
        await asyncio.wait_for(task, timeout=timeout)
    except TimeoutError as e:  # asyncio.TimeoutError is TimeoutError since 3.11
        raised = type(e).__name__
    return {"elapsed_s": time.perf_counter() - start, "raised": raised, "task_cancelled": task.cancelled(),
            "cancelled_errors_seen": len(seen)}


async def timeout_cm_case(timeout):
    event, seen = asyncio.Event(), []
    start = time.perf_counter()
    raised = None
    try:
        async with asyncio.timeout(timeout):
            await never(event, seen)
    except TimeoutError as e:
        raised = type(e).__name__
    return {"elapsed_s": time.perf_counter() - start, "raised": raised, "cancelled_errors_seen": len(seen)}


async def futures_case():
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        plain = pool.submit(threading.get_ident)
        await_error = None
        try:
            await plain
        except TypeError as e:
            await_error = type(e).__name__
        wrapped = asyncio.wrap_future(pool.submit(threading.get_ident))
        wrapped_thread = await wrapped
        in_executor = loop.run_in_executor(pool, threading.get_ident)
        executor_thread = await in_executor
    return {"await_concurrent_future": await_error or "no error",
            "plain_type": f"{type(plain).__module__}.{type(plain).__qualname__}",
            "wrapped_type": f"{type(wrapped).__module__}.{type(wrapped).__qualname__}",
            "run_in_executor_type": f"{type(in_executor).__module__}.{type(in_executor).__qualname__}",
            "ran_off_loop_thread": wrapped_thread != loop_thread and executor_thread != loop_thread}


async def main_async(n, timeout):
    return {
        "gather": await gather_case(n),
        "as_completed": await as_completed_case(n),
        "first": await first_case(n),
        "wait_timeout": await wait_timeout_case(n, timeout),
        "wait_for": await wait_for_case(timeout),
        "timeout_cm": await timeout_cm_case(timeout),
        "futures": await futures_case(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=positive_int, default=3)
    parser.add_argument("--timeout-ms", type=positive_int, default=50)
    args = parser.parse_args(argv)
    if args.tasks < 2:
        parser.error("--tasks must be >= 2")
    result = asyncio.run(main_async(args.tasks, args.timeout_ms / 1000))
    emit({"tasks": args.tasks, "timeout_s": args.timeout_ms / 1000, **result})
    return 0


if __name__ == "__main__":
    sys.exit(main())

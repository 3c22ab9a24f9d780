"""Cancelling asyncio tasks: where CancelledError lands, what it cannot reach, and how it is refused.

Orderings are forced with asyncio.Event / threading.Event; sleeps are only the work being waited for.

at_await:     a task waits in `await asyncio.sleep(60)` inside try/finally; once it has started, task.cancel():
              CancelledError is raised at that await, the finally block runs, `await task` raises
              CancelledError and task.cancelled() is True. The delay from cancel() to the task's except is reported.
cpu_stretch:  a task runs a CPU-bound stretch of --stretch-ms with no await; a helper thread, told by a
              threading.Event that the stretch began, asks for the cancel with loop.call_soon_threadsafe(task.cancel).
              The stretch runs on for --stretch-ms after that request (so the request always comes first). The
              loop is busy in the stretch, so the cancel lands only at the task's next await: the delay from the
              request to the CancelledError is about the rest of the stretch.
shield:       outer = asyncio.shield(inner); outer.cancel(): the awaiter gets CancelledError, the inner task is not
              cancelled and, released afterwards, completes.
swallow:      Broken: a task catches CancelledError and returns normally. cancel() is then refused in effect:
              `await task` returns a value and task.cancelled() is False. Inside the handler task.cancelling()
              (3.11) is 1; after task.uncancel() it is 0.
timeouts:     asyncio.wait_for(coro, T) and `async with asyncio.timeout(T)` (3.11) cancel the inner await after
              T (it sees CancelledError, its finally runs) and raise TimeoutError.

Prints one JSON object on stdout (probelib facts first), one object per case; times in seconds.
"""

import argparse
import asyncio
import sys
import threading
import time
from probelib import emit, positive_int


async def at_await_case():
    started, log = asyncio.Event(), []
    cancel_at = [0.0]

    async def sleeper():
        try:
            started.set()
            await asyncio.sleep(60)
            log.append("woke")  # never reached
        except asyncio.CancelledError:
            log.append(("cancelled", time.perf_counter() - cancel_at[0]))
            raise
        finally:
            log.append("finally")

    task = asyncio.create_task(sleeper())
    await started.wait()
    cancel_at[0] = time.perf_counter()
    task.cancel()
    raised = None
    try:
        await task
    except asyncio.CancelledError:
        raised = "CancelledError"
    delay = next(entry[1] for entry in log if isinstance(entry, tuple))
    return {"delay_s": delay, "finally_ran": "finally" in log, "woke": "woke" in log, "await_raised": raised,
            "task_cancelled": task.cancelled()}


async def cpu_stretch_case(stretch):
    loop = asyncio.get_running_loop()
    stretch_began, cancel_requested = threading.Event(), threading.Event()
    requested_at, caught = [0.0], []

    async def cruncher():
        await asyncio.sleep(0)
        stretch_began.set()
        # CPU-bound from here on: no await, so the loop runs nothing else. The stretch runs on for `stretch` after
        # the cancel was asked, so the request always comes first, however late a loaded OS runs the helper thread.
        while not cancel_requested.is_set():
            pass
        end = time.perf_counter() + stretch
        while time.perf_counter() < end:
            pass
        finished = time.perf_counter()
        try:
            await asyncio.sleep(0)  # the first await after the stretch: the cancel lands here
        except asyncio.CancelledError:
            caught.append((time.perf_counter(), finished))
            raise

    def canceller():
        stretch_began.wait()
        requested_at[0] = time.perf_counter()
        loop.call_soon_threadsafe(task.cancel)
        cancel_requested.set()

    task = asyncio.create_task(cruncher())
    helper = threading.Thread(target=canceller)
    helper.start()
    try:
        await task
    except asyncio.CancelledError:
        pass
    helper.join()
    result = {"stretch_s": stretch, "task_cancelled": task.cancelled()}
    if caught:  # no CancelledError caught: the delays are left out (JSON has no NaN) and the Java side says so
        at, finished = caught[0]
        result.update(delay_s=at - requested_at[0], stretch_left_s=finished - requested_at[0])
    return result


async def shield_case():
    release = asyncio.Event()

    async def inner():
        await release.wait()
        return "inner done"

    inner_task = asyncio.create_task(inner())
    outer = asyncio.shield(inner_task)
    await asyncio.sleep(0)
    outer.cancel()
    raised = None
    try:
        await outer
    except asyncio.CancelledError:
        raised = "CancelledError"
    at_cancel = {"outer_raised": raised, "outer_cancelled": outer.cancelled(),
                 "inner_cancelled": inner_task.cancelled(), "inner_done": inner_task.done()}
    release.set()
    return {**at_cancel, "inner_result_later": await inner_task}


async def swallow_case():
    started, seen = asyncio.Event(), {}

    async def stubborn():
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            seen["cancelling_in_handler"] = me.cancelling()
            seen["uncancel_returned"] = me.uncancel()
            seen["cancelling_after_uncancel"] = me.cancelling()
            return "swallowed the cancel"  # Broken: the task refuses to be cancelled
        return "slept"

    task = asyncio.create_task(stubborn())
    await started.wait()
    task.cancel()
    result = await task
    return {"await_returned": result, "task_cancelled": task.cancelled(), **seen}


async def guarded(seen):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        seen.append("CancelledError")
        raise
    finally:
        seen.append("finally")


async def timeouts_case(timeout):
    out = {}
    seen = []
    start = time.perf_counter()
    try:
        await asyncio.wait_for(guarded(seen), timeout=timeout)
    except TimeoutError as e:
        out["wait_for"] = {"raised": type(e).__name__, "elapsed_s": time.perf_counter() - start, "inner_saw": seen}
    seen = []
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await guarded(seen)
    except TimeoutError as e:
        out["timeout_cm"] = {"raised": type(e).__name__, "elapsed_s": time.perf_counter() - start, "inner_saw": seen}
    return out


async def main_async(stretch, timeout):
    return {
        "at_await": await at_await_case(),
        "cpu_stretch": await cpu_stretch_case(stretch),
        "shield": await shield_case(),
        "swallow": await swallow_case(),
        "timeouts": await timeouts_case(timeout),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stretch-ms", type=positive_int, default=200)
    parser.add_argument("--timeout-ms", type=positive_int, default=50)
    args = parser.parse_args(argv)
    emit(asyncio.run(main_async(args.stretch_ms / 1000, args.timeout_ms / 1000)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

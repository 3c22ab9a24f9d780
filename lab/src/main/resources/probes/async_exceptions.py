"""How exceptions travel between coroutines and tasks in asyncio.

Orderings are forced with asyncio.Event, never with sleeps.

propagates:        a coroutine raises ValueError; the coroutine awaiting it (directly, and through a Task) catches
                   the same ValueError object -- no wrapper type.
gather_first:      asyncio.gather(failing, slow) where slow waits for an event: gather raises the ValueError as
                   soon as it happens, while slow is neither done nor cancelled; released afterwards, slow runs on
                   and completes.
return_exceptions: gather(..., return_exceptions=True): the exception comes back as a value, in argument order.
taskgroup:         asyncio.TaskGroup (3.11) with two tasks that fail (ValueError, KeyError) on their first step and
                   a third that waits for an event nobody sets: the third is cancelled (it sees CancelledError),
                   and the group raises one ExceptionGroup (PEP 654) holding both failures, handled with except*.
never_retrieved:   a task that raises and is never awaited, dropped and garbage-collected: the loop's exception
                   handler receives "Task exception was never retrieved" (captured with set_exception_handler).

Prints one JSON object on stdout (probelib facts first), one object per case.
"""

import asyncio
import gc
import sys
from probelib import emit


async def fail(exc):
    raise exc


async def propagates_case():
    original = ValueError("boom")
    out = {}
    try:
        await fail(original)
    except ValueError as e:
        out["direct_type"], out["direct_same_object"] = type(e).__name__, e is original
    task = asyncio.create_task(fail(original))
    try:
        await task
    except ValueError as e:
        out["task_type"], out["task_same_object"] = type(e).__name__, e is original
    out["task_exception_type"] = type(task.exception()).__name__
    return out


async def gather_first_case():
    release = asyncio.Event()

    async def slow():
        await release.wait()
        return "slow done"

    failing = asyncio.create_task(fail(ValueError("first")))
    slow_task = asyncio.create_task(slow())
    raised = None
    try:
        await asyncio.gather(failing, slow_task)
    except ValueError as e:
        raised = f"{type(e).__name__}: {e}"
    at_raise = {"raised": raised, "sibling_done": slow_task.done(), "sibling_cancelled": slow_task.cancelled()}
    release.set()
    result = await slow_task  # still running; it completes by itself once released
    return {**at_raise, "sibling_result_later": result}


async def return_exceptions_case():
    results = await asyncio.gather(fail(ValueError("bad")), asyncio.sleep(0, result="ok"), return_exceptions=True)
    return {"results": [type(r).__name__ if isinstance(r, BaseException) else r for r in results]}


async def taskgroup_case():
    forever, seen = asyncio.Event(), []

    async def waiter():
        try:
            await forever.wait()
        except asyncio.CancelledError:
            seen.append("CancelledError")
            raise

    group_type, group_size, handled = None, 0, []
    try:
        try:
            async with asyncio.TaskGroup() as tg:
                waiting = tg.create_task(waiter())
                tg.create_task(fail(ValueError("v")))
                tg.create_task(fail(KeyError("k")))
        except BaseExceptionGroup as eg:
            group_type, group_size = type(eg).__name__, len(eg.exceptions)
            raise
    except* ValueError:
        handled.append("ValueError")
    except* KeyError:
        handled.append("KeyError")
    return {"group_type": group_type, "group_size": group_size, "handled_by_except_star": handled,
            "sibling_cancelled": waiting.cancelled(), "sibling_saw": seen}


async def never_retrieved_case():
    loop = asyncio.get_running_loop()
    captured = []
    loop.set_exception_handler(lambda _loop, context: captured.append(
        {"message": context.get("message"), "exception": type(context.get("exception")).__name__}))
    task = asyncio.create_task(fail(RuntimeError("nobody looks")))
    await asyncio.sleep(0)  # the task runs and fails
    await asyncio.sleep(0)
    failed = task.done() and not task.cancelled()
    del task
    gc.collect()
    await asyncio.sleep(0)
    loop.set_exception_handler(None)
    return {"task_failed": failed, "captured": captured}


async def main_async():
    return {
        "propagates": await propagates_case(),
        "gather_first": await gather_first_case(),
        "return_exceptions": await return_exceptions_case(),
        "taskgroup": await taskgroup_case(),
        "never_retrieved": await never_retrieved_case(),
    }


def main():
    emit(asyncio.run(main_async()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""asyncio's event loop taken apart: the ready queue, the timer heap, threads, tasks, a blocking callback, debug mode.

Each part runs its own small program under ``asyncio.run`` and records what it observes; the lab judges the records.

fifo: one callback schedules ``--callbacks`` callbacks with ``call_soon``; the first of them schedules one more
("nested", recorded as -1). The order in which they ran is reported.

timers: four ``call_at`` timers scheduled out of order, two of them with the very same deadline
(a1 then a2 at +10 ms, b at +20 ms, c at +30 ms, scheduled c, a1, b, a2). The order in which they ran is reported.

threadsafe: a worker thread schedules a callback with ``call_soon_threadsafe`` while the loop waits; the callback
records the thread it runs on. The loop thread's, the worker's and the callback's ``threading.get_ident()`` are
reported, with the time from the post to the callback, and what became of a plain ``call_soon`` the worker tried
first.

tasks: main creates tasks A and B (each: log "X:k begin", a little pure-Python work, log "X:k end", then
``await asyncio.sleep(0)``; three steps), logs "created A" / "created B" right after each ``create_task``, then awaits
both. The log is reported.

blocking: a callback that calls ``time.sleep(block)`` and a timer are scheduled with ``call_at`` for the same
deadline, the blocking one first; the timer's lateness (when it ran minus its deadline) is reported, and the same
timer's lateness without the blocking callback. Smallest of ``--repeat`` runs, in seconds.

debug: ``asyncio.run(..., debug=True)`` runs a callback that calls ``time.sleep(slow)`` and a quick one; the messages of
the ``asyncio`` logger are captured and reported, with ``loop.slow_callback_duration``.

Prints one JSON object on stdout (interpreter facts first).
"""

import argparse
import asyncio
import logging
import os
import sys
import threading
import time
from probelib import emit, positive_int


async def fifo(n):
    loop = asyncio.get_running_loop()
    order = []
    done = loop.create_future()

    def make(i):
        def callback():
            order.append(i)
            if i == 0:
                loop.call_soon(nested)
        return callback

    def nested():
        order.append(-1)
        done.set_result(None)

    def schedule_all():
        for i in range(n):
            loop.call_soon(make(i))

    loop.call_soon(schedule_all)
    await done
    return {"callbacks": n, "order": order}


async def timers():
    loop = asyncio.get_running_loop()
    order = []
    done = loop.create_future()
    base = loop.time() + 0.010
    loop.call_at(base + 0.020, lambda: (order.append("c"), done.set_result(None)))
    loop.call_at(base, order.append, "a1")
    loop.call_at(base + 0.010, order.append, "b")
    loop.call_at(base, order.append, "a2")
    await done
    return {"order": order}


async def threadsafe():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    seen = {}

    def on_loop(posted):
        seen["callback_thread"] = threading.get_ident()
        seen["post_to_run_s"] = time.perf_counter() - posted
        done.set_result(None)

    def worker():
        seen["caller_thread"] = threading.get_ident()
        try:
            loop.call_soon(lambda: None)  # not thread-safe; checked only in debug mode
            seen["plain_call"] = "accepted (unchecked outside debug mode)"
        except RuntimeError:
            seen["plain_call"] = "refused: RuntimeError"
        loop.call_soon_threadsafe(on_loop, time.perf_counter())

    thread = threading.Thread(target=worker, name="poster")
    thread.start()  # the loop is idle, waiting in its selector, until the post wakes it
    await done
    thread.join()
    return {"loop_thread": threading.get_ident(), **seen}


async def tasks():
    log = []

    async def body(name):
        for k in range(3):
            log.append(f"{name}:{k} begin")
            sum(i * i for i in range(20_000))  # some work between two awaits: nothing else can run here
            log.append(f"{name}:{k} end")
            await asyncio.sleep(0)

    a = asyncio.create_task(body("A"))
    log.append("created A")
    b = asyncio.create_task(body("B"))
    log.append("created B")
    await a
    await b
    return {"log": log}


async def blocking_once(block, with_block):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    deadline = loop.time() + 0.010
    if with_block:
        loop.call_at(deadline, time.sleep, block)  # a blocking call inside the loop
    loop.call_at(deadline, lambda: done.set_result(loop.time() - deadline))
    return await done


def blocking(block, repeat):
    return {
        "block_s": block,
        "lateness_s": min(asyncio.run(blocking_once(block, True)) for _ in range(repeat)),
        "baseline_lateness_s": min(asyncio.run(blocking_once(block, False)) for _ in range(repeat)),
    }


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


async def debug_run(slow):
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def slow_callback():
        time.sleep(slow)

    def quick_callback():
        done.set_result(loop.slow_callback_duration)

    loop.call_soon(slow_callback)
    loop.call_soon(quick_callback)
    return await done


def debug(slow):
    capture = Capture()
    logger = logging.getLogger("asyncio")
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # keep stderr clean; the messages go into the JSON
    try:
        duration = asyncio.run(debug_run(slow), debug=True)
    finally:
        logger.removeHandler(capture)
    return {
        "slow_s": slow,
        "slow_callback_duration_s": duration,
        # the probe runs from a temporary directory: keep file names, drop that directory
        "messages": [m.replace(os.path.dirname(os.path.abspath(__file__)) + os.sep, "")
                     for m in capture.messages if m.startswith("Executing")],
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=positive_int, default=100)
    parser.add_argument("--block-ms", type=positive_int, default=200)
    parser.add_argument("--slow-ms", type=positive_int, default=150)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    emit({
        "fifo": asyncio.run(fifo(args.callbacks)),
        "timers": asyncio.run(timers()),
        "threadsafe": asyncio.run(threadsafe()),
        "tasks": asyncio.run(tasks()),
        "blocking": blocking(args.block_ms / 1000, args.repeat),
        "debug": debug(args.slow_ms / 1000),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

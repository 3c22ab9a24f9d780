"""asyncio and threads: the thread-safe bridges, and a non-thread-safe call from a thread, forced.

The loop runs with a selector that reports, through a ``threading.Event``, the moment it is
about to block in ``select()`` with a timeout (it has already computed that timeout from its
timers, so nothing added to its ready queue without a wake-up is seen before ``select`` returns).
A worker thread waits for that event and only then acts, so every step is forced, not likely.
In each step the loop's only timer is due ``--timer-ms`` after the step starts.

  call-soon              Broken: worker calls ``loop.call_soon(cb)`` while the loop waits in
                         select; cb runs only when the timer wakes the loop
  call-soon-threadsafe   worker calls ``loop.call_soon_threadsafe(cb)``: it also writes a byte
                         to the loop's self-pipe, so select returns and cb runs at once
  future-set-result      Broken: worker calls ``fut.set_result(v)`` on an asyncio.Future a
                         coroutine awaits; the wake-up of that coroutine is scheduled with
                         call_soon, so it too waits for the timer
  future-threadsafe      worker calls ``loop.call_soon_threadsafe(fut.set_result, v)``
  run-coroutine-threadsafe  worker calls ``asyncio.run_coroutine_threadsafe(coro, loop)`` and
                         waits on the concurrent.futures.Future it returns
  to-thread              the loop calls ``await asyncio.to_thread(blocking)``; the blocking
                         function waits until the loop has run ``--beats`` heartbeats, which
                         it can only do if the loop is not blocked
  debug                  with ``asyncio.run(debug=True)``, the worker's ``loop.call_soon``
                         raises RuntimeError (captured)

Every step runs ``--rounds`` times; delays are in ms from the worker's call to the callback (or
the resumed coroutine) running on the loop.

Prints one JSON object on stdout:
  python, implementation, cpu_count
  timer_ms                       the timer that is due in each step
  steps                          {name: {min_ms, max_ms, rounds, after_timer: rounds in which the
                                  effect ran only once the timer was due}}
  run_coroutine_threadsafe       {returns: type name of what it returned, value: the result}
  to_thread                      {ran_on_loop_thread: bool, thread_name, beats_seen, released: bool,
                                  default_executor: type name, max_workers}
  debug                          {error_type, error_message}
"""

import argparse
import asyncio
import concurrent.futures
import selectors
import sys
import threading
import time

from probelib import emit, positive_int

WAIT_S = 10.0  # how long any forced step may take before the probe calls it stuck


class ReportingSelector(selectors.DefaultSelector):
    """A selector that sets ``blocking`` just before each select() that may block."""

    def __init__(self):
        super().__init__()
        self.blocking = threading.Event()

    def select(self, timeout=None):
        if timeout is None or timeout > 0:
            self.blocking.set()
        try:
            return super().select(timeout)
        finally:
            self.blocking.clear()


def new_loop():
    selector = ReportingSelector()
    return asyncio.SelectorEventLoop(selector), selector


def wait_or_fail(event, what):
    if not event.wait(WAIT_S):
        raise RuntimeError(f"stuck: {what} did not happen within {WAIT_S} s")


async def one_round(step, selector, timer_s):
    """One forced round of `step`; returns the delay in seconds from the worker's call to the effect."""
    loop = asyncio.get_running_loop()
    ran = loop.create_future()
    called = []

    def callback():
        if not ran.done():
            ran.set_result((time.perf_counter(), loop.time()))

    fut = loop.create_future()

    async def awaiter():
        await fut
        return time.perf_counter(), loop.time()

    waiting = loop.create_task(awaiter()) if step.startswith("future") else None

    started = threading.Event()

    def worker():
        started.set()
        wait_or_fail(selector.blocking, "the loop blocking in select")
        called.append(time.perf_counter())
        if step == "call-soon":
            loop.call_soon(callback)  # Broken: not thread-safe, no wake-up
        elif step == "call-soon-threadsafe":
            loop.call_soon_threadsafe(callback)
        elif step == "future-set-result":
            fut.set_result(42)  # Broken: schedules the awaiter's wake-up with call_soon
        elif step == "future-threadsafe":
            loop.call_soon_threadsafe(fut.set_result, 42)
        elif step == "run-coroutine-threadsafe":
            async def coro():
                callback()
                return 42
            concurrent_future = asyncio.run_coroutine_threadsafe(coro(), loop)
            concurrent_future.result(WAIT_S)

    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    # Blocks the loop thread on purpose, before anything else is scheduled: the worker must be waiting for the
    # select before the timer starts, however slowly the machine starts threads.
    wait_or_fail(started, "the worker starting")
    selector.blocking.clear()
    handle = loop.call_later(timer_s, lambda: None)  # the only timer: the next thing that wakes the loop
    effect, effect_loop_time = await asyncio.wait_for(waiting if waiting is not None else ran, WAIT_S)
    await asyncio.to_thread(thread.join)
    # The loop runs a timer once loop.time() + clock resolution reaches it; the same test says whether the
    # effect had to wait for the timer's wake-up.
    after_timer = effect_loop_time + loop._clock_resolution >= handle.when()
    return effect - called[0], after_timer


def measure_steps(rounds, timer_s):
    steps = ("call-soon", "call-soon-threadsafe", "future-set-result", "future-threadsafe",
             "run-coroutine-threadsafe")
    result = {}
    for step in steps:
        delays = []
        after_timer = 0
        for _ in range(rounds):
            loop, selector = new_loop()
            try:
                delay, waited = loop.run_until_complete(one_round(step, selector, timer_s))
            finally:
                loop.close()
            delays.append(delay)
            after_timer += waited
        result[step] = {"min_ms": min(delays) * 1e3, "max_ms": max(delays) * 1e3, "rounds": rounds,
                        "after_timer": after_timer}
    return result


def what_run_coroutine_threadsafe_returns():
    loop, _ = new_loop()
    out = {}

    async def main():
        async def answer():
            return 42

        def worker():
            f = asyncio.run_coroutine_threadsafe(answer(), loop)
            out["returns"] = f"{type(f).__module__}.{type(f).__qualname__}"
            out["value"] = f.result(WAIT_S)

        await asyncio.to_thread(worker)

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return out


def to_thread_step(beats):
    out = {}

    async def main():
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        enough = threading.Event()
        seen = [0]

        def blocking():
            out["ran_on_loop_thread"] = threading.get_ident() == loop_thread
            out["thread_name"] = threading.current_thread().name
            # Blocks this worker until the loop has run `beats` heartbeats: possible only if the loop is free.
            out["released"] = enough.wait(WAIT_S)

        async def heartbeat():
            while not enough.is_set():
                await asyncio.sleep(0.001)
                seen[0] += 1
                if seen[0] >= beats:
                    enough.set()

        beat = asyncio.create_task(heartbeat())
        await asyncio.to_thread(blocking)
        await beat
        out["beats_seen"] = seen[0]
        executor = loop._default_executor  # created lazily by the first to_thread / run_in_executor(None, ...)
        out["default_executor"] = f"{type(executor).__module__}.{type(executor).__qualname__}"
        out["max_workers"] = executor._max_workers

    asyncio.run(main())
    return out


def debug_step():
    out = {"error_type": None, "error_message": None}

    async def main():
        loop = asyncio.get_running_loop()

        def worker():
            try:
                loop.call_soon(lambda: None)
            except RuntimeError as error:
                out["error_type"] = type(error).__name__
                out["error_message"] = str(error)

        await asyncio.to_thread(worker)

    asyncio.run(main(), debug=True)
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timer-ms", type=positive_int, default=200)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--beats", type=positive_int, default=5)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    timer_s = args.timer_ms / 1000
    emit({
        "timer_ms": args.timer_ms,
        "steps": measure_steps(args.rounds, timer_s),
        "run_coroutine_threadsafe": what_run_coroutine_threadsafe_returns(),
        "to_thread": to_thread_step(args.beats),
        "debug": debug_step(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

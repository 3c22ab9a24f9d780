"""asyncio: one CPU-bound handler on the loop starves every other request, and four cures.

A "server" loop receives small requests at a fixed rate (open loop: request i is due at
start + i * gap, scheduled with ``loop.call_at``, whatever the loop is doing) and answers each
with a tiny callback that records how late it ran (actual time - due time). Meanwhile one
CPU-bound handler runs pure-Python work that takes about ``--cpu-ms`` when run alone (the
iteration count is calibrated first). The variants differ only in where that work runs:

  baseline    no CPU handler at all
  on-loop     Broken: the handler runs the work inside a coroutine, on the loop
  to-thread   ``await asyncio.to_thread(work)``: the loop's default ThreadPoolExecutor; the
              worker thread still holds the GIL most of the time, so the loop waits for it
  process     ``await loop.run_in_executor(ProcessPoolExecutor, work)``: another interpreter,
              another GIL (the pool is started and warmed before the measurement)
  yield       the same work in chunks of about ``--chunk-ms``, ``await asyncio.sleep(0)``
              between chunks, on the loop
  cpu-loop    a second event loop in its own thread runs the work;
              ``asyncio.run_coroutine_threadsafe`` + ``asyncio.wrap_future`` bridge to it
              (one thread, so the same GIL as to-thread)

Requests arrive for cpu-ms + 2 * lead ms; the handler starts ``lead`` ms after the first
request. Each variant runs ``--repeat`` times, taking turns; per variant the run with the
smallest p99 lateness is reported (the best of several runs, for the cures; for the broken
variant the smallest is the conservative choice).

detector: the on-loop and yield variants again in debug mode (``asyncio.run(debug=True)``), with
at least 0.2 s of work; the warnings the ``asyncio`` logger emits ("Executing <Task ...> took
0.250 seconds") are captured. Each runs up to ``--repeat`` times: the on-loop one until a run
logs a warning, the yield one until a run logs none.

Prints one JSON object on stdout (times in ms):
  python, implementation, cpu_count
  switch_interval_s       sys.getswitchinterval()
  work_iterations         iterations of probelib.burn that take about cpu_ms alone
  variants                {name: {p50_ms, p99_ms, max_ms, requests, handler_ms}}
  detector                {slow_callback_duration_s, on_loop_warnings: [...], yield_warnings: [...]}
"""

import argparse
import asyncio
import concurrent.futures
import logging
import sys
import threading
import time

from probelib import burn, emit, positive_int

CALIBRATE_ITERATIONS = 200_000
DEBUG_WORK_S = 0.2  # the least CPU work of the debug-mode runs: twice the slow-callback duration


def calibrate(cpu_ms):
    """Iterations of burn() that take about cpu_ms on this machine (best of three)."""
    best = min(_timed(lambda: burn(CALIBRATE_ITERATIONS)) for _ in range(3))
    return max(1, int(CALIBRATE_ITERATIONS * (cpu_ms / 1000) / best))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(values, q):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


class CpuLoopThread:
    """A second event loop, running forever in its own thread, for CPU work."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="cpu-loop")
        self.thread.start()

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


async def run_variant(variant, iterations, chunk, gap_s, lead_s, cpu_s, process_pool, cpu_loop):
    loop = asyncio.get_running_loop()
    lateness = []
    window = cpu_s + 2 * lead_s
    count = max(1, int(window / gap_s))
    start = loop.time() + 0.005
    done = loop.create_future()

    def request(due):
        lateness.append(loop.time() - due)
        if len(lateness) == count and not done.done():
            done.set_result(None)

    for i in range(count):
        due = start + i * gap_s
        loop.call_at(due, request, due)

    async def handler():
        await asyncio.sleep(max(0.0, start + lead_s - loop.time()))
        began = time.perf_counter()
        if variant == "on-loop":
            burn(iterations)  # deliberately CPU-bound inside the loop
        elif variant == "to-thread":
            await asyncio.to_thread(burn, iterations)
        elif variant == "process":
            await loop.run_in_executor(process_pool, burn, iterations)
        elif variant == "yield":
            left = iterations
            while left > 0:
                step = min(chunk, left)
                burn(step)
                left -= step
                await asyncio.sleep(0)  # a yield point: due callbacks run here
        elif variant == "cpu-loop":
            async def work():
                return burn(iterations)
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work(), cpu_loop.loop))
        return time.perf_counter() - began

    # A task of its own, so debug mode's slow-callback warning names it.
    handler_s = await asyncio.create_task(handler(), name="cpu-handler") if variant != "baseline" else 0.0
    await done
    return {
        "p50_ms": percentile(lateness, 0.50) * 1e3,
        "p99_ms": percentile(lateness, 0.99) * 1e3,
        "max_ms": max(lateness) * 1e3,
        "requests": len(lateness),
        "handler_ms": handler_s * 1e3,
    }


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def detector(iterations, chunk, gap_s, lead_s, cpu_s, attempts):
    """Runs the on-loop and the yield variants in debug mode and captures the asyncio logger's warnings.

    The on-loop handler gets at least DEBUG_WORK_S of work, so that it crosses the 0.1 s threshold even if the
    calibration ran on a busy machine. On a busy machine a 1 ms chunk can also be descheduled for 0.1 s, so each
    variant runs up to `attempts` times: the on-loop one until a run logs a warning, the yield one until a run logs
    none (the best of several runs, as for the timings)."""
    logger = logging.getLogger("asyncio")
    debug_iterations = max(iterations, int(iterations * DEBUG_WORK_S / cpu_s))
    debug_cpu_s = max(cpu_s, DEBUG_WORK_S)
    captured = {}
    slow = None
    for variant, enough in (("on-loop", lambda w: len(w) > 0), ("yield", lambda w: len(w) == 0)):
        for _ in range(attempts):
            handler = Captured()
            logger.addHandler(handler)
            logger.propagate = False
            try:
                async def main():
                    nonlocal slow
                    slow = asyncio.get_running_loop().slow_callback_duration
                    return await run_variant(variant, debug_iterations, chunk, gap_s, lead_s, debug_cpu_s, None,
                                             None)
                asyncio.run(main(), debug=True)
            finally:
                logger.removeHandler(handler)
                logger.propagate = True
            captured[variant] = [m for m in handler.messages if "took" in m]
            if enough(captured[variant]):
                break
    return {"slow_callback_duration_s": slow, "on_loop_warnings": captured["on-loop"],
            "yield_warnings": captured["yield"]}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-ms", type=positive_int, default=200)
    parser.add_argument("--chunk-ms", type=positive_int, default=1)
    parser.add_argument("--gap-ms", type=positive_int, default=1)
    parser.add_argument("--lead-ms", type=positive_int, default=20)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cpu_s, gap_s, lead_s = args.cpu_ms / 1000, args.gap_ms / 1000, args.lead_ms / 1000
    iterations = calibrate(args.cpu_ms)
    chunk = max(1, iterations * args.chunk_ms // args.cpu_ms)
    names = ("baseline", "on-loop", "to-thread", "process", "yield", "cpu-loop")
    best = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(burn, 1).result()  # start and warm the worker before measuring
        cpu_loop = CpuLoopThread()
        try:
            for _ in range(args.repeat):
                for name in names:
                    result = asyncio.run(run_variant(name, iterations, chunk, gap_s, lead_s, cpu_s, pool,
                                                     cpu_loop))
                    if name not in best or result["p99_ms"] < best[name]["p99_ms"]:
                        best[name] = result
        finally:
            cpu_loop.close()
    emit({
        "switch_interval_s": sys.getswitchinterval(),
        "work_iterations": iterations,
        "variants": best,
        "detector": detector(iterations, chunk, gap_s, lead_s, cpu_s, args.repeat),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

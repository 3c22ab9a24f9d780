"""A rate limiter in asyncio, and why asyncio.Semaphore is not one.

bucket      The standard library has no rate limiter, so this is the usual one:
            a token bucket on ``time.monotonic()``. ``acquire`` takes an
            ``asyncio.Lock`` (its waiters are woken first-in first-out), refills
            the bucket by the time elapsed, and if less than one token is there
            sleeps (``asyncio.sleep``) until one is due, still holding the lock so
            that later callers queue behind it. The bucket is drained first
            (``try_acquire`` until it refuses, at time ``start``); then ``--tasks``
            tasks loop on ``acquire`` for ``--window-ms`` and every admission is
            timestamped. By any time t at most rate x (t - start) + 1 can have been
            admitted: ``over_budget`` counts admissions above that (must be 0).
            ``admitted`` is compared with rate x (t_last - start), t_last being the
            last admission in the window (a loop descheduled at the very end
            would otherwise count as error). The burst is half a second of the
            rate, so a descheduled loop loses no tokens mid-run. ``fifo``: the
            tasks' first acquisitions came in task-creation order.
semaphore   ``asyncio.Semaphore(k)``: tasks hold it for ``--hold-ms`` each, as many
            tasks as fit in the window. The peak number inside is at most k, but
            they start at about k / hold per second: a semaphore bounds how many
            run at once (concurrency), not how many start per second (rate).

Prints one JSON object: interpreter facts, then ``bucket`` and ``semaphore``.
"""

import argparse
import asyncio
import time
from probelib import emit, positive_int


class TokenBucket:
    """At most ``burst`` at once and ``rate`` per second on average; callers are served in arrival order."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    def _refill(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_acquire(self):
        """Takes a token if one is there; never waits (and does not queue behind waiters)."""
        self._refill()
        if self.tokens >= 1 and not self.lock.locked():
            self.tokens -= 1
            return True
        return False

    async def acquire(self):
        async with self.lock:
            self._refill()
            while self.tokens < 1:
                await asyncio.sleep((1 - self.tokens) / self.rate)
                self._refill()
            self.tokens -= 1


async def bucket_run(rate, burst, tasks, window):
    bucket = TokenBucket(rate, burst)
    while bucket.try_acquire():
        pass
    start = bucket.updated            # the refill at which less than one token was left
    end = start + window
    times = []
    first = []

    async def worker(index):
        got_first = False
        while True:
            await bucket.acquire()
            now = time.monotonic()
            if now >= end:
                return
            times.append(now)
            if not got_first:
                first.append(index)
                got_first = True

    await asyncio.gather(*(worker(i) for i in range(tasks)))
    over = sum(1 for k, t in enumerate(times) if k + 1 > rate * (t - start) + 1)
    last = times[-1] if times else start
    return {
        "rate": rate, "burst": burst, "tasks": tasks,
        "admitted": len(times),
        "elapsed": last - start,
        "expected": rate * (last - start),
        "over_budget": over,
        "fifo": first == sorted(first),
    }


async def semaphore_run(permits, hold, window):
    sem = asyncio.Semaphore(permits)
    inside = 0
    peak = 0
    starts = 0
    start = time.monotonic()
    end = start + window

    async def task():
        nonlocal inside, peak, starts
        async with sem:
            starts += 1
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(hold)
            inside -= 1

    async def spawner():
        pending = set()
        while time.monotonic() < end:
            t = asyncio.ensure_future(task())
            pending.add(t)
            t.add_done_callback(pending.discard)
            if len(pending) >= 4 * permits:      # keep a queue at the semaphore, not an unbounded pile
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*pending)

    await spawner()
    elapsed = time.monotonic() - start
    return {"permits": permits, "hold_ms": round(hold * 1000), "peak_in_flight": peak, "starts": starts,
            "starts_per_second": starts / elapsed}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=positive_int, default=200)
    parser.add_argument("--burst", type=positive_int, default=20)
    parser.add_argument("--tasks", type=positive_int, default=50)
    parser.add_argument("--window-ms", type=positive_int, default=1000)
    parser.add_argument("--permits", type=positive_int, default=5)
    parser.add_argument("--hold-ms", type=positive_int, default=2)
    args = parser.parse_args()
    window = args.window_ms / 1000
    bucket = asyncio.run(bucket_run(args.rate, args.burst, args.tasks, window))
    semaphore = asyncio.run(semaphore_run(args.permits, args.hold_ms / 1000, window))
    emit({"bucket": bucket, "semaphore": semaphore})


if __name__ == "__main__":
    main()

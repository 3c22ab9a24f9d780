"""Lock, RLock, Semaphore and Condition in CPython, each beside the failure it prevents.

crowd: --threads threads released at once by a Barrier try to enter one
critical section guarded by nothing, a threading.Lock, or a
threading.Semaphore(--permits). A thread first tries acquire(blocking=False);
if that fails it counts itself as queued, then blocks in acquire(). Inside,
each thread stays until every thread is inside, queued or finished, so the
peak number inside is as high as the guard allows, on every run.

reentrancy: the holder of a Lock calls acquire(timeout=...) on it again (it
cannot succeed: Lock is not reentrant); the holder of an RLock calls acquire()
again (it succeeds; it must release twice).

bounded_semaphore: release() on a fresh BoundedSemaphore(1) raises ValueError;
on a plain Semaphore(1) it silently raises the count to 2.

condition: two consumers wait on a Condition for an empty buffer (a counter
updated under the condition's lock tells when both are inside wait()); one
put and notify_all wake both. Waiting with `if`, the second one pops from
the empty buffer (an underflow, counted). With wait_for(predicate), the
second waits again (seen by its predicate being called again), and a second
put lets it finish.

Every thread is a daemon and every wait is bounded.

Prints one JSON object on stdout:
  python, implementation, cpu_count   see probelib.interpreter_facts
  crowd              no_lock_peak, lock_peak, lock_found_shut, semaphore_peak, threads, permits
  reentrancy         lock_acquire_again (bool), lock_waited_ms, rlock_acquire_again (bool), rlock_depth
  bounded_semaphore  bounded_over_release, plain_over_release (what happened, in words)
  condition          if_underflows, wait_for_underflows, wait_for_second_waited_again (bool)
"""

import argparse
import collections
import sys
import threading
import time

from probelib import emit, positive_int

STUCK_AFTER_S = 10.0


class Open:
    """No guard at all: every acquire succeeds at once."""

    def acquire(self, blocking=True):
        return True

    def release(self):
        pass


def crowd(guard, n):
    """Peak number inside the critical section at once, and how many found the guard shut."""
    census = threading.Condition()
    state = {"inside": 0, "queued": 0, "finished": 0, "peak": 0, "found_shut": 0}
    start = threading.Barrier(n, timeout=STUCK_AFTER_S)

    def change(**delta):
        with census:
            for key, d in delta.items():
                state[key] += d
            state["peak"] = max(state["peak"], state["inside"])
            census.notify_all()

    def visit():
        start.wait()
        if guard.acquire(blocking=False):
            change(inside=1)
        else:
            change(queued=1, found_shut=1)
            guard.acquire()
            change(queued=-1, inside=1)
        try:
            with census:
                gathered = census.wait_for(
                    lambda: state["inside"] + state["queued"] + state["finished"] == n, timeout=STUCK_AFTER_S)
                if not gathered:
                    raise RuntimeError("the crowd did not gather")
                state["inside"] -= 1
                state["finished"] += 1
                census.notify_all()
        finally:
            guard.release()

    threads = [threading.Thread(target=visit, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(STUCK_AFTER_S)
    return state["peak"], state["found_shut"]


def reentrancy(self_wait_s):
    lock = threading.Lock()
    lock.acquire()
    started = time.perf_counter()
    again = lock.acquire(timeout=self_wait_s)  # its own holder blocks it: Lock is not reentrant
    waited_ms = (time.perf_counter() - started) * 1000
    if again:
        lock.release()
    lock.release()

    rlock = threading.RLock()
    rlock.acquire()
    rlock_again = rlock.acquire(timeout=self_wait_s)
    depth = 2 if rlock_again else 1
    for _ in range(depth):
        rlock.release()
    return {"lock_acquire_again": again, "lock_waited_ms": waited_ms, "rlock_acquire_again": rlock_again,
            "rlock_depth": depth}


def over_release():
    bounded = threading.BoundedSemaphore(1)
    try:
        bounded.release()
        bounded_result = "no error"
    except ValueError as e:
        bounded_result = f"ValueError: {e}"
    plain = threading.Semaphore(1)
    try:
        plain.release()
        takes = sum(1 for _ in range(3) if plain.acquire(blocking=False))
        plain_result = f"no error; the count grew: {takes} acquires now succeed"
    except ValueError as e:
        plain_result = f"ValueError: {e}"
    return {"bounded_over_release": bounded_result, "plain_over_release": plain_result}


def two_consumers(use_wait_for):
    """Underflows, and whether the second consumer waited again (wait_for only)."""
    cond = threading.Condition()
    buffer = collections.deque()
    state = {"waiting": 0, "underflows": 0, "checks": 0, "done": 0}

    def has_item():
        state["checks"] += 1
        return len(buffer) > 0

    def consume():
        with cond:
            if use_wait_for:
                state["waiting"] += 1
                cond.wait_for(has_item, timeout=STUCK_AFTER_S)
                state["waiting"] -= 1
            else:
                if not buffer:  # Broken: `if` instead of `while`
                    state["waiting"] += 1
                    cond.wait(timeout=STUCK_AFTER_S)
                    state["waiting"] -= 1
            try:
                buffer.popleft()
            except IndexError:
                state["underflows"] += 1
            state["done"] += 1

    def wait_until(predicate):
        deadline = time.monotonic() + STUCK_AFTER_S
        while True:
            with cond:
                if predicate():
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)  # polls a state no one signals the main thread about

    consumers = [threading.Thread(target=consume, daemon=True) for _ in range(2)]
    for t in consumers:
        t.start()
    # wait() releases the condition's lock, so seeing waiting == 2 under that lock means both are inside wait()
    wait_until(lambda: state["waiting"] == 2)
    with cond:
        checks_before = state["checks"]
        buffer.append(42)
        cond.notify_all()
    waited_again = False
    if use_wait_for:
        # One consumer took the item; the other re-checked its predicate (a call after the wake-up) and waits again.
        waited_again = wait_until(lambda: state["done"] == 1 and state["waiting"] == 1
                                  and state["checks"] >= checks_before + 2)
        with cond:
            buffer.append(43)
            cond.notify_all()
    for t in consumers:
        t.join(STUCK_AFTER_S)
    return state["underflows"], waited_again


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=positive_int, default=8)
    parser.add_argument("--permits", type=positive_int, default=3)
    parser.add_argument("--self-wait-ms", type=positive_int, default=200)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    no_lock_peak, _ = crowd(Open(), args.threads)
    lock_peak, lock_shut = crowd(threading.Lock(), args.threads)
    semaphore_peak, _ = crowd(threading.Semaphore(args.permits), args.threads)
    if_underflows, _ = two_consumers(use_wait_for=False)
    wait_for_underflows, waited_again = two_consumers(use_wait_for=True)
    emit({
        "crowd": {"threads": args.threads, "permits": args.permits, "no_lock_peak": no_lock_peak,
                  "lock_peak": lock_peak, "lock_found_shut": lock_shut, "semaphore_peak": semaphore_peak},
        "reentrancy": reentrancy(args.self_wait_ms / 1000),
        "bounded_semaphore": over_release(),
        "condition": {"if_underflows": if_underflows, "wait_for_underflows": wait_for_underflows,
                      "wait_for_second_waited_again": waited_again},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

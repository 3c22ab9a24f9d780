"""Race conditions in CPython threads, forced with a barrier, and their cures.

forced_counter: ``--threads`` threads each do ``--rounds`` increments of a
shared counter. Broken: ``x = counter; barrier.wait(); counter = x + 1`` --
every thread reads before any thread writes, so each round all but one
increment is lost, GIL or not. Locked: ``barrier.wait()`` (all start the round
together), then the read and the write under one ``threading.Lock``.

check_then_act: one fresh key per round; every thread tries to be the first to
claim it. Broken: ``absent = key not in d; barrier.wait(); if absent:
d[key] = me`` -- every thread sees the key absent, so every thread "wins".
Cure: ``barrier.wait()``, then ``d.setdefault(key, me) == me``: one call, one
winner per key.

free_running: ``--threads`` threads each run ``counter += 1`` ``--iterations``
times with no barrier and no lock. How many updates are lost depends on where
the interpreter switches threads; CPython 3.10+ rarely switches inside
``+=`` on a global in a tight loop, so this often loses nothing. Reported,
not claimed.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  switch_interval   sys.getswitchinterval(), in seconds
  gil_enabled       sys._is_gil_enabled() where it exists (3.13+), else true
  forced_counter    {threads, rounds, expected, broken, locked}: final counts
  check_then_act    {threads, keys, broken_winners, setdefault_winners}
  free_running      {threads, iterations, expected, observed}
"""

import argparse
import sys
import threading

from probelib import emit, positive_int

# A thread that has not reached the barrier by then is stuck: fail instead of hanging.
BARRIER_TIMEOUT_S = 30


def run_together(threads, body):
    """Run body(index, barrier) on `threads` threads sharing one barrier; return their results in order."""
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT_S)
    results = [None] * threads
    errors = []

    def runner(index):
        try:
            results[index] = body(index, barrier)
        except BaseException as e:  # report it in the main thread, and release the others
            errors.append(e)
            barrier.abort()

    workers = [threading.Thread(target=runner, args=(i,), name=f"racer-{i}") for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return results


class Counter:
    """A shared counter; `value` is read and written by every racing thread."""

    def __init__(self):
        self.value = 0


def forced_counter(threads, rounds):
    broken = Counter()

    def broken_body(_, barrier):
        for _ in range(rounds):
            x = broken.value      # read
            barrier.wait()        # every thread has read; none has written
            broken.value = x + 1  # write: every thread writes the same value

    locked = Counter()
    lock = threading.Lock()

    def locked_body(_, barrier):
        for _ in range(rounds):
            barrier.wait()        # all start the round together
            with lock:            # the read and the write are one step for every other thread
                x = locked.value
                locked.value = x + 1

    run_together(threads, broken_body)
    run_together(threads, locked_body)
    return {"threads": threads, "rounds": rounds, "expected": threads * rounds,
            "broken": broken.value, "locked": locked.value}


def check_then_act(threads, keys):
    broken = {}

    def broken_body(me, barrier):
        won = 0
        for key in range(keys):
            absent = key not in broken  # check
            barrier.wait()              # every thread has checked; none has acted
            if absent:                  # act on what may no longer be true
                broken[key] = me
                won += 1
        return won

    cured = {}

    def setdefault_body(me, barrier):
        won = 0
        for key in range(keys):
            barrier.wait()
            if cured.setdefault(key, me) == me:  # one C call on int keys: check and insert in one step
                won += 1
        return won

    return {"threads": threads, "keys": keys,
            "broken_winners": sum(run_together(threads, broken_body)),
            "setdefault_winners": sum(run_together(threads, setdefault_body))}


counter = 0


def free_running(threads, iterations):
    global counter
    counter = 0

    def body(_, barrier):
        global counter
        barrier.wait()  # start together, then run free
        for _ in range(iterations):
            counter += 1

    run_together(threads, body)
    return {"threads": threads, "iterations": iterations, "expected": threads * iterations, "observed": counter}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--rounds", type=positive_int, default=1000)
    parser.add_argument("--iterations", type=positive_int, default=1_000_000)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads < 2:
        raise SystemExit("--threads must be at least 2 for a race")
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    emit({
        "switch_interval": sys.getswitchinterval(),
        "gil_enabled": is_gil_enabled() if is_gil_enabled else True,
        "forced_counter": forced_counter(args.threads, args.rounds),
        "check_then_act": check_then_act(args.threads, args.rounds),
        "free_running": free_running(args.threads, args.iterations),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A lock-ordering deadlock in CPython, forced on every round, and the lock-order cure.

broken: two threads and two threading.Lock objects, A and B. Thread 1 takes A,
thread 2 takes B; a threading.Barrier makes sure both hold their first lock;
then each asks for the other's lock with acquire(timeout=...). Python has no
deadlock detector, so the wait is observed the only way it can be: the timed
acquire returns False. A second barrier keeps each first lock held until both
timed attempts are over, so neither thread can succeed because the other gave
up first: on every round both must return False.

ordered: the same two threads, both taking A before B (one global order). They
must finish; a join with a generous timeout tells.

Every thread is a daemon and every wait is bounded, so a bug here can never
hang the probe.

Prints one JSON object on stdout:
  python, implementation, cpu_count   see probelib.interpreter_facts
  timeout_ms       the timeout of each timed acquire, in ms
  broken           object:
    rounds                 rounds run
    rounds_both_timed_out  rounds where both timed acquires returned False
    rounds_any_acquired    rounds where a timed acquire returned True
  ordered          object:
    rounds           rounds run
    rounds_finished  rounds where both threads took A and B and ended
"""

import argparse
import sys
import threading

from probelib import emit, positive_int

STUCK_AFTER_S = 10.0


def broken_round(timeout_s):
    a, b = threading.Lock(), threading.Lock()
    both_hold_first = threading.Barrier(2, timeout=STUCK_AFTER_S)
    both_tried = threading.Barrier(2, timeout=STUCK_AFTER_S)
    got_second = {}

    def worker(name, first, second):
        with first:
            both_hold_first.wait()
            got = second.acquire(timeout=timeout_s)
            if got:
                second.release()
            got_second[name] = got
            both_tried.wait()  # keep the first lock until the other thread's attempt is over too

    threads = [threading.Thread(target=worker, args=("1", a, b), daemon=True),
               threading.Thread(target=worker, args=("2", b, a), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(STUCK_AFTER_S)
    return got_second


def ordered_round():
    a, b = threading.Lock(), threading.Lock()
    start = threading.Barrier(2, timeout=STUCK_AFTER_S)
    done = []

    def worker(name, wanted):
        first, second = sorted(wanted, key=lambda lock: 0 if lock is a else 1)  # the global order: A, then B
        start.wait()
        with first:
            with second:
                done.append(name)

    threads = [threading.Thread(target=worker, args=("1", (a, b)), daemon=True),
               threading.Thread(target=worker, args=("2", (b, a)), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(STUCK_AFTER_S)
    return len(done) == 2 and not any(t.is_alive() for t in threads)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive_int, default=5)
    parser.add_argument("--timeout-ms", type=positive_int, default=50)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    timeout_s = args.timeout_ms / 1000
    both_false = 0
    any_true = 0
    for _ in range(args.rounds):
        got = broken_round(timeout_s)
        if len(got) == 2 and not any(got.values()):
            both_false += 1
        if any(got.values()):
            any_true += 1
    finished = sum(1 for _ in range(args.rounds) if ordered_round())
    emit({
        "timeout_ms": args.timeout_ms,
        "broken": {"rounds": args.rounds, "rounds_both_timed_out": both_false, "rounds_any_acquired": any_true},
        "ordered": {"rounds": args.rounds, "rounds_finished": finished},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

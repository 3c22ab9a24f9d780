"""A stress harness for CPython's `counter += 1` race: many runs, lost updates counted per run.

Each run starts ``--threads`` threads released together by a ``threading.Barrier``;
each does ``--increments`` increments of one shared attribute. Lost updates in a
run = threads * increments - final value. Three variants, ``--runs`` runs each:
  plain         ``box.n += 1`` with the default switch interval
  tiny_interval the same with ``sys.setswitchinterval(1e-6)`` (more switches, so more chances to race)
  locked        the same increment under a ``threading.Lock`` (tiny interval too)

Prints one JSON object on stdout:
  switch_interval  sys.getswitchinterval() at start, in seconds
  runs, threads, increments
  plain, tiny_interval, locked: {"runs_with_loss", "most_lost"}
"""

import argparse
import sys
import threading

from probelib import emit, positive_int


class Box:
    n = 0


def one_run(threads, increments, lock):
    box = Box()
    barrier = threading.Barrier(threads)

    def work():
        barrier.wait()
        if lock is None:
            for _ in range(increments):
                box.n += 1
        else:
            for _ in range(increments):
                with lock:
                    box.n += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * increments - box.n


def stress(runs, threads, increments, lock=None):
    lost = [one_run(threads, increments, lock) for _ in range(runs)]
    return {"runs_with_loss": sum(1 for x in lost if x > 0), "most_lost": max(lost)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive_int, default=20)
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--increments", type=positive_int, default=100_000)
    args = parser.parse_args(argv)
    default_interval = sys.getswitchinterval()
    plain = stress(args.runs, args.threads, args.increments)
    sys.setswitchinterval(1e-6)
    try:
        tiny = stress(args.runs, args.threads, args.increments)
        locked = stress(args.runs, args.threads, args.increments, threading.Lock())
    finally:
        sys.setswitchinterval(default_interval)
    emit({"switch_interval": default_interval, "runs": args.runs, "threads": args.threads,
          "increments": args.increments, "plain": plain, "tiny_interval": tiny, "locked": locked})
    return 0


if __name__ == "__main__":
    sys.exit(main())

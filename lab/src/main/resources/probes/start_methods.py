"""Process creation overheads in CPython: start methods, argument transfer, Pool start-up.

Parts (each timing the best of --repeat runs taken in turns):
  * start: start and join one multiprocessing.Process doing nothing with the "fork", "forkserver" and "spawn"
    contexts. The forkserver is started once before timing (its first use starts the server process).
  * transfer: a --mb MB bytes object reaches a child that reads its length, (a) inherited as a module global
    under fork (nothing is copied up front), (b) passed as an argument to a spawned child (pickled by the parent,
    written through a pipe, unpickled by the child); each beside the same child without the data.
  * pool: multiprocessing.Pool(--processes) created and closed/joined under fork and under spawn.

Prints one JSON object (probelib.emit) with keys default_start_method, start_s, transfer_s, pool_s.
"""

import argparse
import multiprocessing
import time

from probelib import best_of_each, emit, positive_int

BIG = None


def noop(*_):
    pass


def put_zero(out):
    out.put(0)


def read_global(out):
    out.put(len(BIG))


def read_arg(data, out):
    out.put(len(data))


def start_join(ctx, target, args=()):
    p = ctx.Process(target=target, args=args)
    p.start()
    p.join()
    if p.exitcode != 0:
        raise RuntimeError(f"child exited with {p.exitcode}")


def with_queue(ctx, target, *args):
    q = ctx.SimpleQueue()
    start_join(ctx, target, args + (q,))
    return q.get()


def main():
    global BIG
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=positive_int, default=64)
    ap.add_argument("--processes", type=positive_int, default=2)
    ap.add_argument("--repeat", type=positive_int, default=5)
    a = ap.parse_args()
    ctxs = {m: multiprocessing.get_context(m) for m in ("fork", "forkserver", "spawn")}
    start_join(ctxs["forkserver"], noop)  # starts the fork server outside the timing
    start = best_of_each(a.repeat, **{m: (lambda c=c: start_join(c, noop)) for m, c in ctxs.items()})

    fork, spawn = ctxs["fork"], ctxs["spawn"]
    BIG = b"\x01" * (a.mb << 20)
    seen = with_queue(fork, read_global), with_queue(spawn, read_arg, BIG)
    if seen != (len(BIG), len(BIG)):
        raise RuntimeError(f"children saw {seen} bytes, expected {len(BIG)}")
    transfer = best_of_each(a.repeat,
                            fork_none=lambda: with_queue(fork, put_zero),
                            fork_inherit=lambda: with_queue(fork, read_global),
                            spawn_none=lambda: with_queue(spawn, put_zero),
                            spawn_pickled=lambda: with_queue(spawn, read_arg, BIG))
    BIG = None

    def pool(ctx):
        p = ctx.Pool(a.processes)
        p.map(noop, range(a.processes), chunksize=1)  # every worker has started and answered
        p.close()
        p.join()

    pools = best_of_each(max(2, a.repeat // 2), fork=lambda: pool(fork), spawn=lambda: pool(spawn))
    emit({"default_start_method": multiprocessing.get_start_method(), "mb": a.mb, "start_s": start,
          "transfer_s": transfer, "pool_s": pools, "processes": a.processes})


if __name__ == "__main__":
    main()

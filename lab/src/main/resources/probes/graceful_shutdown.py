"""Graceful shutdown in CPython: a SIGTERM handler that sets a threading.Event,
and executor.shutdown(cancel_futures=True).

signal: runs this script again as a child interpreter (``--child``) with
``--workers`` worker threads that loop ``while not stop.is_set()`` doing units
of work (a short blocking wait each). The child prints "ready" once every
worker has done one unit; the parent then sends it SIGTERM. With the handler
installed (``signal.signal(SIGTERM, lambda *_: stop.set())``) the workers
finish the unit in hand, leave their loops, are joined, and the child prints a
summary and exits 0. A second child runs without the handler (Broken): SIGTERM's
default action ends the process at once, with no summary. For each child the
probe records the exit status, whether the summary came out, and the time from
the signal to the exit.

pool: a ThreadPoolExecutor(1) whose one worker is held by a task waiting on an
Event, with ``--queued`` tasks queued behind it. ``shutdown(wait=True,
cancel_futures=True)`` is called from a helper thread; once the queued futures
are cancelled the held task is released. The same again with
``cancel_futures=False``. Records how many futures ran and how many were
cancelled in each case, and what ``submit`` raises after shutdown.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  signal   object:
    with_handler     object: exit_status, summary (the child's JSON or null), signal_to_exit_s
    without_handler  object: exit_status, summary (null expected), signal_to_exit_s
  pool     object:
    queued                    tasks queued behind the held one (Q)
    cancel_futures            object: ran, cancelled (of Q+1 futures)
    no_cancel_futures         object: ran, cancelled
    submit_after_shutdown     type(e).__name__ of what submit raised, or null
"""

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from probelib import emit, positive_int

GIVE_UP_S = 30
UNIT_S = 0.002  # one unit of a worker's work: a short blocking wait, like an I/O call


def child(workers, install_handler):
    stop = threading.Event()
    if install_handler:
        # Runs in the main thread, between bytecodes: only sets the flag the workers poll.
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    units = [0] * workers
    in_hand = [False] * workers
    warmed = threading.Barrier(workers + 1)

    def worker(k):
        first = True
        while not stop.is_set():
            in_hand[k] = True
            time.sleep(UNIT_S)
            units[k] += 1
            in_hand[k] = False
            if first:
                first = False
                warmed.wait(GIVE_UP_S)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    warmed.wait(GIVE_UP_S)
    print("ready", flush=True)
    while not stop.wait(0.05):  # a timed wait, so the main thread gets to run the handler promptly
        pass
    for t in threads:
        t.join()
    print(json.dumps({"workers_joined": sum(not t.is_alive() for t in threads), "units": sum(units),
                      "unfinished_units": sum(in_hand)}), flush=True)
    return 0


def run_child(workers, install_handler):
    args = [sys.executable, __file__, "--child", "--workers", str(workers)]
    if not install_handler:
        args.append("--no-handler")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the child did not get ready")
        sent = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()  # to the end: the child has closed its output, i.e. exited
        status = proc.wait(GIVE_UP_S)
        exited = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    summary = json.loads(rest) if rest.strip() else None
    return {"exit_status": status, "summary": summary, "signal_to_exit_s": exited}


def wait_until(condition):
    deadline = time.monotonic() + GIVE_UP_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("gave up waiting")
        time.sleep(0.0005)


def shutdown_with_queue(queued, cancel_futures):
    release = threading.Event()
    pool = ThreadPoolExecutor(max_workers=1)
    held = pool.submit(release.wait, GIVE_UP_S)
    wait_until(held.running)  # the one worker is busy, so everything submitted next stays queued
    futures = [held] + [pool.submit(lambda: None) for _ in range(queued)]
    stopper = threading.Thread(target=pool.shutdown, kwargs={"wait": True, "cancel_futures": cancel_futures})
    stopper.start()
    if cancel_futures:
        wait_until(lambda: all(f.cancelled() for f in futures[1:]))
    release.set()
    stopper.join(GIVE_UP_S)
    submit_error = None
    try:
        pool.submit(lambda: None)
    except Exception as e:  # noqa: BLE001 - the type is what is measured
        submit_error = type(e).__name__
    ran = sum(1 for f in futures if f.done() and not f.cancelled())
    return {"ran": ran, "cancelled": sum(f.cancelled() for f in futures)}, submit_error


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--no-handler", action="store_true")
    parser.add_argument("--workers", type=positive_int, default=4)
    parser.add_argument("--queued", type=positive_int, default=5)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args.workers, not args.no_handler)
    cancel, submit_error = shutdown_with_queue(args.queued, True)
    no_cancel, _ = shutdown_with_queue(args.queued, False)
    emit({
        "signal": {"with_handler": run_child(args.workers, True),
                   "without_handler": run_child(args.workers, False)},
        "pool": {"queued": args.queued, "cancel_futures": cancel, "no_cancel_futures": no_cancel,
                 "submit_after_shutdown": submit_error},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

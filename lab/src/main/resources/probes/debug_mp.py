"""Debugging multiprocessing code: each tool, with an outcome the probe observes and reports.

  remote_traceback   a function raising ValueError in a Pool worker: the parent's pool.map re-raises it, and its
                     __cause__ is a multiprocessing.pool.RemoteTraceback whose text is the worker's traceback
  broken_pool        a ProcessPoolExecutor task kills its own worker with SIGKILL: the parent's future raises
                     concurrent.futures.process.BrokenProcessPool instead of hanging
  faulthandler       a spawned child process arms faulthandler.dump_traceback_later(--dump-after-ms), then blocks
                     in a function named stuck_in_child; the dump written to a file names that function
  logging            Pool workers log through a QueueHandler to a QueueListener in the parent, formatted with
                     %(processName)s: the records name the worker processes
  log_to_stderr      a fresh interpreter calls multiprocessing.log_to_stderr(logging.INFO) and runs a Pool; its
                     stderr carries multiprocessing's own lines, tagged [LEVEL/ProcessName]

Prints one JSON object on stdout:
  start_method      multiprocessing.get_start_method()
  remote_traceback  {raised, cause, names_worker_function, worker_line}
  broken_pool       {raised, seconds}
  faulthandler      {names_blocked_function, dump_lines}
  logging           {process_names}
  log_to_stderr     {lines, sample}
"""

import argparse
import faulthandler
import logging
import logging.handlers
import multiprocessing
import multiprocessing.pool
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from probelib import emit, positive_int


def fails_in_worker(x):
    raise ValueError(f"bad input {x}")


def remote_traceback():
    with multiprocessing.Pool(1) as pool:
        try:
            pool.map(fails_in_worker, [7])
        except ValueError as e:
            cause = e.__cause__
            text = str(cause) if cause is not None else ""
            return {"raised": type(e).__name__, "cause": type(cause).__name__,
                    "names_worker_function": "fails_in_worker" in text and "bad input 7" in text,
                    "worker_line": next((line.strip() for line in text.splitlines() if "fails_in_worker" in line),
                                        "")}
    return {"raised": None, "cause": None, "names_worker_function": False, "worker_line": ""}


def kill_myself():
    os.kill(os.getpid(), signal.SIGKILL)


def broken_pool():
    start = time.perf_counter()
    with ProcessPoolExecutor(1) as executor:
        future = executor.submit(kill_myself)
        try:
            future.result(timeout=30)
            raised = None
        except Exception as e:  # the point is which type arrives
            raised = type(e).__name__
    return {"raised": raised, "seconds": time.perf_counter() - start}


def stuck_in_child(path, dump_after_s):
    with open(path, "w") as dump:
        faulthandler.dump_traceback_later(dump_after_s, file=dump)
        time.sleep(dump_after_s * 3)  # blocked here when the dump fires
        faulthandler.cancel_dump_traceback_later()


def faulthandler_dump(dump_after_ms):
    with tempfile.TemporaryDirectory(prefix="conclab-faulthandler-") as directory:
        path = os.path.join(directory, "dump.txt")
        # spawn, not fork: the earlier cases leave threads behind in this process (pool handlers, the executor's
        # manager), and a forked child that starts a thread, as dump_traceback_later does, can block forever on a
        # lock one of them held at the fork (about 1 run in 30 here) — the hazard behind 3.12's fork warning.
        spawn = multiprocessing.get_context("spawn")
        child = spawn.Process(target=stuck_in_child, args=(path, dump_after_ms / 1000))
        child.start()
        child.join(30)
        with open(path) as f:
            lines = f.read().splitlines()
    return {"names_blocked_function": any("stuck_in_child" in line for line in lines), "dump_lines": lines}


def init_worker_logging(queue):
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(queue)]
    root.setLevel(logging.INFO)


def logs_in_worker(x):
    logging.getLogger("conclab.worker").info("working on %d", x)
    return x


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.setFormatter(logging.Formatter("%(processName)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


def logging_process_names():
    queue = multiprocessing.Queue()
    collect = Collect()
    listener = logging.handlers.QueueListener(queue, collect)
    listener.start()
    try:
        with multiprocessing.Pool(2, initializer=init_worker_logging, initargs=(queue,)) as pool:
            pool.map(logs_in_worker, range(4), chunksize=1)
    finally:
        listener.stop()
    return {"process_names": sorted({line.split()[0] for line in collect.lines}), "lines": len(collect.lines)}


LOG_TO_STDERR = """
import logging, multiprocessing
def square(x):
    return x * x
if __name__ == "__main__":
    multiprocessing.log_to_stderr(logging.INFO)
    with multiprocessing.Pool(1) as pool:
        pool.map(square, [1, 2])
"""


def log_to_stderr():
    done = subprocess.run([sys.executable, "-c", LOG_TO_STDERR], capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    return {"lines": len(lines), "sample": lines[:4], "exit_status": done.returncode}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump-after-ms", type=positive_int, default=200)
    parser.add_argument("--watchdog-s", type=positive_int, default=40)
    args = parser.parse_args(argv)
    # The probe's own lesson, applied to itself: if any case hangs, every thread's stack goes to stderr and the
    # probe exits, so the experiment reports where it hung instead of timing out.
    faulthandler.dump_traceback_later(args.watchdog_s, exit=True)
    emit({
        "start_method": multiprocessing.get_start_method(),
        "remote_traceback": remote_traceback(),
        "broken_pool": broken_pool(),
        "faulthandler": faulthandler_dump(args.dump_after_ms),
        "logging": logging_process_names(),
        "log_to_stderr": log_to_stderr(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

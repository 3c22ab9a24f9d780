"""How multiprocessing.Pool and ProcessPoolExecutor hand out work, and what a killed worker does to each.

ordering: Pool(2).map and Pool(2).imap_unordered over two tasks, chunksize 1, where task "first" cannot finish
before task "second" has. For map, "first" waits for a file that "second" creates; map still returns
["first", "second"]. For imap_unordered, "first" waits for a file the probe creates only after a result has
arrived, so imap_unordered yields "second" first.

killed_pool: a multiprocessing.Pool(1) task writes its worker's pid to a file and sleeps; the probe kills that
pid with SIGKILL. The pool starts a replacement worker, but the killed task's AsyncResult never completes:
get(timeout) raises multiprocessing.TimeoutError. A new task on the same pool still runs (in the new worker).

killed_executor: the same with concurrent.futures.ProcessPoolExecutor(1). The killed task's future fails with
BrokenProcessPool, and the executor is broken: a later submit raises BrokenProcessPool too.

max_tasks: Pool(1, maxtasksperchild=1).map over --tasks tasks, chunksize 1: the pid that ran each task.

Prints one JSON object on stdout:
  start_method        multiprocessing.get_start_method()
  ordering            {map: [...], imap_unordered: [...]}
  killed_pool         {pid, result_error (exception class name), waited_s, replacement_pid, next_result}
  killed_executor     {pid, result_error, next_submit_error}
  max_tasks           {tasks, pids: [...], distinct}
"""

import argparse
import concurrent.futures
import multiprocessing
import os
import signal
import tempfile
import time
from probelib import emit, positive_int


def step(spec):
    """("await", path, label) waits for path to exist (at most a minute); ("touch", path, label) creates it;
    ("plain", "", label) does nothing. Returns the label."""
    kind, path, label = spec
    if kind == "await":
        deadline = time.monotonic() + 60  # so that a broken run ends
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.005)
    elif kind == "touch":
        with open(path, "w") as f:
            f.write("done")
    return label


def signal_and_hang(path):
    """Writes this worker's pid to path (atomically), then hangs."""
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(path + ".tmp", path)
    time.sleep(600)


def worker_pid(_=None):
    return os.getpid()


def await_pid(path, patience=60.0):
    deadline = time.monotonic() + patience
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError("the task did not signal its start")
        time.sleep(0.005)
    with open(path) as f:
        return int(f.read())


def ordering(tmp):
    out = {}
    with multiprocessing.Pool(2) as pool:
        gate = os.path.join(tmp, "gate-map")
        out["map"] = pool.map(step, [("await", gate, "first"), ("touch", gate, "second")], chunksize=1)
        # "first" waits for a gate the probe opens only after a result has arrived, which can only be "second".
        gate = os.path.join(tmp, "gate-unordered")
        results = pool.imap_unordered(step, [("await", gate, "first"), ("plain", "", "second")], chunksize=1)
        unordered = [next(results)]
        with open(gate, "w") as f:
            f.write("open")
        unordered.extend(results)
        out["imap_unordered"] = unordered
    return out


def killed_pool(tmp, wait_s):
    path = os.path.join(tmp, "pool-started")
    pool = multiprocessing.Pool(1)
    try:
        hanging = pool.apply_async(signal_and_hang, (path,))
        pid = await_pid(path)
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        try:
            hanging.get(timeout=wait_s)
            error = None
        except Exception as e:  # multiprocessing.TimeoutError expected: the result never comes
            error = type(e).__module__ + "." + type(e).__name__
        waited = time.monotonic() - start
        replacement = pool.apply_async(worker_pid).get(timeout=60)
        return {"pid": pid, "result_error": error, "waited_s": waited, "replacement_pid": replacement,
                "next_result": replacement != pid}
    finally:
        pool.terminate()
        pool.join()


def killed_executor(tmp):
    path = os.path.join(tmp, "executor-started")
    executor = concurrent.futures.ProcessPoolExecutor(1)
    try:
        hanging = executor.submit(signal_and_hang, path)
        pid = await_pid(path)
        os.kill(pid, signal.SIGKILL)
        try:
            hanging.result(timeout=60)
            error = None
        except Exception as e:
            error = type(e).__name__
        try:
            executor.submit(worker_pid).result(timeout=60)
            next_error = None
        except Exception as e:
            next_error = type(e).__name__
        return {"pid": pid, "result_error": error, "next_submit_error": next_error}
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def max_tasks(tasks):
    with multiprocessing.Pool(1, maxtasksperchild=1) as pool:
        pids = pool.map(worker_pid, range(tasks), chunksize=1)
    return {"tasks": tasks, "pids": pids, "distinct": len(set(pids))}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=positive_int, default=4)
    parser.add_argument("--wait-ms", type=positive_int, default=500)
    return parser.parse_args(argv)


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        emit({
            "start_method": multiprocessing.get_start_method(),
            "ordering": ordering(tmp),
            "killed_pool": killed_pool(tmp, args.wait_ms / 1000),
            "killed_executor": killed_executor(tmp),
            "max_tasks": max_tasks(args.tasks),
        })


if __name__ == "__main__":
    main()

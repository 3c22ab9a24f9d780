"""Where an exception raised in a concurrent.futures task goes: stored in its Future, reported by nobody until
result() or exception() reads it or a done-callback sees it; from a ProcessPoolExecutor it comes back pickled, with
the worker's traceback attached as __cause__.

Prints one JSON object on stdout (probelib facts first).
"""

import concurrent.futures as cf
import logging
import sys
import threading

from probelib import emit


class Boom(Exception):
    pass


def fail(tag):
    raise Boom(tag)


def thread_side():
    hook_calls = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: hook_calls.append(args.exc_type.__name__)
    logged = []

    class Capture(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())

    root = logging.getLogger()
    handler = Capture()
    root.addHandler(handler)
    try:
        with cf.ThreadPoolExecutor(max_workers=2) as pool:
            dropped = pool.submit(fail, "dropped")  # Broken: nobody reads it
            cf.wait([dropped])
            seen_by_callback = []
            done = threading.Event()
            watched = pool.submit(fail, "watched")

            def on_done(fut):
                seen_by_callback.append(type(fut.exception()).__name__)
                done.set()

            watched.add_done_callback(on_done)
            done.wait(20)
            raised = None
            try:
                watched.result()
            except Boom as e:
                raised = e
            mapped = []
            try:
                for value in pool.map(lambda x: 1 // x, [1, 2, 0, 4]):
                    mapped.append(value)
            except ZeroDivisionError as e:
                mapped.append(type(e).__name__)
    finally:
        threading.excepthook = old_hook
        root.removeHandler(handler)
    return {
        "dropped_done": dropped.done(),
        "dropped_exception": type(dropped.exception()).__name__,
        "excepthook_calls": len(hook_calls),
        "log_records": len(logged),
        "callback_saw": seen_by_callback,
        "result_raised": type(raised).__name__,
        "result_same_object": raised is watched.exception(),
        "map_values_then_error": [str(v) for v in mapped],
    }


def process_side():
    with cf.ProcessPoolExecutor(max_workers=1) as pool:
        fut = pool.submit(fail, "in a worker process")
        try:
            fut.result(timeout=30)
            return {"raised": None}
        except Boom as e:
            cause = e.__cause__
            return {
                "raised": type(e).__name__,
                "message": str(e),
                "cause_type": type(cause).__name__ if cause is not None else None,
                "cause_names_worker_frame": cause is not None and "in fail" in str(cause),
            }


def main():
    emit({"threads": thread_side(), "processes": process_side()})


if __name__ == "__main__":
    main()

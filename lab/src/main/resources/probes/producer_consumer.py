"""Producer-consumer with queue.Queue: a bounded queue vs an unbounded one, a slow consumer, join() and pills.

Each scenario starts ``--producers`` producer threads that put ``--items`` items in total as fast as they can,
and ``--consumers`` consumer threads that take one item, sleep ``--consume-us`` microseconds (the slow work),
record it and call ``task_done()``. Every producer samples ``qsize()`` right after each ``put``; the largest
sample is the peak. When the last producer finishes, it records how many items were not yet consumed
("backlog"). The main thread then calls ``q.join()``, which must return only once ``task_done()`` has been
called for every item, and puts one ``None`` pill per consumer; each consumer exits at its pill.

Scenarios: ``bounded`` = ``queue.Queue(maxsize=--maxsize)``, ``unbounded`` = ``queue.Queue()`` (maxsize 0:
infinite). ``shutdown`` reports whether ``queue.Queue.shutdown`` exists (added in 3.13) and, if it does, checks
that after ``shutdown()`` consumers still drain the queue and then get ``queue.ShutDown``.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (from probelib)
  bounded, unbounded   objects:
    queue               how the queue was built
    stopped_by          how the consumers were stopped
    peak_qsize          largest qsize() seen right after a put
    backlog             items not yet consumed when the last producer finished
    producers_done_s    seconds from start until the last producer finished
    consumers_done_s    seconds from start until the last consumer exited
    items_per_s         items / consumers_done_s
    processed_at_join   items marked task_done() when q.join() returned
    exactly_once        every item id consumed exactly once
    consumers_exited    consumer threads that exited by their pill
  shutdown            object:
    available             hasattr(queue.Queue, "shutdown")
    python_at_least_3_13  sys.version_info >= (3, 13)
    drained               items got after shutdown() before ShutDown (only if available)
    drained_then_raised   whether get() raised queue.ShutDown once the queue was drained (only if available)
"""

import argparse
import queue
import sys
import threading
import time
from probelib import emit, positive_int

JOIN_TIMEOUT_S = 30


def run_scenario(q, label, items, producers, consumers, consume_s):
    counts = [0] * items
    lock = threading.Lock()
    state = {"peak": 0, "consumed": 0, "processed": 0, "producers_left": producers,
             "backlog": -1, "producers_done": 0.0, "consumers_done": 0.0, "exited": 0}

    def produce(first):
        for item in range(first, items, producers):
            q.put(item)
            size = q.qsize()
            with lock:
                if size > state["peak"]:
                    state["peak"] = size
        with lock:
            state["producers_left"] -= 1
            if state["producers_left"] == 0:
                state["backlog"] = items - state["consumed"]
                state["producers_done"] = time.perf_counter() - start

    def consume():
        while True:
            item = q.get()
            if item is None:  # the poison pill
                q.task_done()
                with lock:
                    state["exited"] += 1
                    state["consumers_done"] = time.perf_counter() - start
                return
            with lock:
                counts[item] += 1
                state["consumed"] += 1
            time.sleep(consume_s)
            with lock:
                state["processed"] += 1
            q.task_done()

    start = time.perf_counter()
    consumer_threads = [threading.Thread(target=consume, name=f"consumer-{c}") for c in range(consumers)]
    producer_threads = [threading.Thread(target=produce, args=(p,), name=f"producer-{p}") for p in range(producers)]
    for t in consumer_threads + producer_threads:
        t.start()
    for t in producer_threads:
        t.join(JOIN_TIMEOUT_S)
    q.join()  # returns once task_done() was called for every item put so far
    with lock:
        processed_at_join = state["processed"]
    for _ in consumer_threads:
        q.put(None)
    for t in consumer_threads:
        t.join(JOIN_TIMEOUT_S)
    done = state["consumers_done"]
    return {
        "queue": label,
        "stopped_by": "one None pill per consumer",
        "peak_qsize": state["peak"],
        "backlog": state["backlog"],
        "producers_done_s": state["producers_done"],
        "consumers_done_s": done,
        "items_per_s": items / done if done > 0 else 0.0,
        "processed_at_join": processed_at_join,
        "exactly_once": all(n == 1 for n in counts),
        "consumers_exited": sum(1 for t in consumer_threads if not t.is_alive()),
    }


def check_shutdown():
    result = {
        "available": hasattr(queue.Queue, "shutdown"),
        "python_at_least_3_13": sys.version_info >= (3, 13),
    }
    if result["available"]:
        q = queue.Queue()
        for i in range(3):
            q.put(i)
        q.shutdown()  # graceful: put() now raises ShutDown, get() drains then raises ShutDown
        drained = 0
        raised = False
        try:
            while True:
                q.get(timeout=5)
                drained += 1
        except queue.ShutDown:
            raised = True
        except queue.Empty:
            raised = False
        result["drained"] = drained
        result["drained_then_raised"] = raised and drained == 3
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=positive_int, default=400)
    parser.add_argument("--maxsize", type=positive_int, default=16)
    parser.add_argument("--producers", type=positive_int, default=2)
    parser.add_argument("--consumers", type=positive_int, default=2)
    parser.add_argument("--consume-us", type=positive_int, default=250)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    consume_s = args.consume_us / 1e6
    emit({
        "bounded": run_scenario(queue.Queue(maxsize=args.maxsize), f"queue.Queue(maxsize={args.maxsize})",
                                args.items, args.producers, args.consumers, consume_s),
        "unbounded": run_scenario(queue.Queue(), "queue.Queue() (maxsize=0: unbounded)",
                                  args.items, args.producers, args.consumers, consume_s),
        "shutdown": check_shutdown(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

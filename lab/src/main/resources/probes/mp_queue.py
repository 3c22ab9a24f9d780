"""Producer-consumer across processes with multiprocessing.Queue and JoinableQueue, and the join pitfall.

bounded: one producer process puts --items integers into multiprocessing.Queue(maxsize=--maxsize) as fast as it
can, sampling qsize() after each put (qsize() works on Linux; it raises NotImplementedError on macOS), then one
None pill per consumer. --consumers consumer processes take items, sleep --consume-us (the slow work) and, at their
pill, send the list of ids they took to the parent over a second queue. The parent checks every id was taken once.

joinable: the same with JoinableQueue: consumers call task_done() after each item (and for the pill); the parent
calls join(), which returns once task_done() was called for every put, and reads a shared counter of processed
items at that moment.

pitfall: a child puts one large item (--pitfall-kib) into a queue nobody reads, sets an Event and returns. Its
queue's feeder thread is still writing to the pipe (64 KiB of pipe buffer), and the process cannot exit until the
feeder has flushed: join(timeout) returns with the child still alive (the deadlock a plain join() would be).
Draining the queue (get()) lets it exit. A child that calls cancel_join_thread() exits at once, and its item is
lost (the parent never reads that queue).

Prints one JSON object: python, implementation, cpu_count (probelib), start_method, and
  bounded   {maxsize, items, consumers, peak_qsize, exactly_once, consumers_exitcodes, producer_exitcode, seconds}
  joinable  {items, processed_at_join, exactly_once, consumers_exitcodes}
  pitfall   {alive_after_join_timeout, join_timeout_s, exitcode_after_drain, drained_bytes,
             cancel_join_thread_exit_s, cancel_join_thread_exitcode}
"""

import argparse
import multiprocessing as mp
import queue
import time
from probelib import emit, positive_int


def produce(q, items, consumers, peak):
    top = 0
    for i in range(items):
        q.put(i)
        try:
            top = max(top, q.qsize())
        except NotImplementedError:  # macOS: sem_getvalue is missing
            top = -1
    for _ in range(consumers):
        q.put(None)  # one poison pill per consumer
    peak.value = top


def consume(q, report, consume_s):
    taken = []
    while True:
        item = q.get()
        if item is None:
            report.put(taken)
            return
        time.sleep(consume_s)
        taken.append(item)


def consume_joinable(q, report, processed, consume_s):
    taken = []
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            report.put(taken)
            return
        time.sleep(consume_s)
        taken.append(item)
        with processed.get_lock():
            processed.value += 1
        q.task_done()


def collect(report, consumers):
    counts = {}
    for _ in range(consumers):
        for i in report.get(timeout=30):  # drained before any join
            counts[i] = counts.get(i, 0) + 1
    return counts


def run_bounded(items, maxsize, consumers, consume_s):
    start = time.perf_counter()
    q, report, peak = mp.Queue(maxsize=maxsize), mp.Queue(), mp.Value("i", 0)
    procs = [mp.Process(target=consume, args=(q, report, consume_s)) for _ in range(consumers)]
    producer = mp.Process(target=produce, args=(q, items, consumers, peak))
    for p in procs + [producer]:
        p.start()
    counts = collect(report, consumers)
    for p in [producer] + procs:
        p.join(timeout=30)
    return {
        "maxsize": maxsize, "items": items, "consumers": consumers,
        "peak_qsize": peak.value,
        "exactly_once": len(counts) == items and all(n == 1 for n in counts.values()),
        "consumers_exitcodes": [p.exitcode for p in procs],
        "producer_exitcode": producer.exitcode,
        "seconds": time.perf_counter() - start,
    }


def run_joinable(items, consumers, consume_s):
    q, report, processed = mp.JoinableQueue(), mp.Queue(), mp.Value("i", 0)
    procs = [mp.Process(target=consume_joinable, args=(q, report, processed, consume_s)) for _ in range(consumers)]
    for p in procs:
        p.start()
    for i in range(items):
        q.put(i)
    q.join()  # returns when task_done() was called for every item put
    at_join = processed.value
    for _ in procs:
        q.put(None)
    counts = collect(report, consumers)
    for p in procs:
        p.join(timeout=30)
    return {
        "items": items, "processed_at_join": at_join,
        "exactly_once": len(counts) == items and all(n == 1 for n in counts.values()),
        "consumers_exitcodes": [p.exitcode for p in procs],
    }


def put_large(q, done, size, cancel):
    if cancel:
        q.cancel_join_thread()  # exit without flushing: the item may be lost
    q.put(b"x" * size)
    done.set()


def run_pitfall(kib, join_timeout):
    size = kib * 1024
    q, done = mp.Queue(), mp.Event()
    child = mp.Process(target=put_large, args=(q, done, size, False))
    child.start()
    done.wait(30)  # the child has put its item and is returning from its target
    child.join(timeout=join_timeout)
    alive = child.is_alive()  # still flushing into a pipe nobody reads: join() would hang here
    data = q.get(timeout=30)  # drain first ...
    child.join(timeout=30)  # ... then join
    q2, done2 = mp.Queue(), mp.Event()
    child2 = mp.Process(target=put_large, args=(q2, done2, size, True))
    child2.start()
    done2.wait(30)
    t = time.perf_counter()
    child2.join(timeout=30)
    cancel_exit = time.perf_counter() - t
    q2.cancel_join_thread()
    return {
        "alive_after_join_timeout": alive,
        "join_timeout_s": join_timeout,
        "exitcode_after_drain": child.exitcode,
        "drained_bytes": len(data),
        "cancel_join_thread_exit_s": cancel_exit,
        "cancel_join_thread_exitcode": child2.exitcode,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=positive_int, default=200)
    parser.add_argument("--maxsize", type=positive_int, default=8)
    parser.add_argument("--consumers", type=positive_int, default=2)
    parser.add_argument("--consume-us", type=positive_int, default=500)
    parser.add_argument("--pitfall-kib", type=positive_int, default=1024)
    parser.add_argument("--join-timeout-ms", type=positive_int, default=300)
    args = parser.parse_args()
    consume_s = args.consume_us / 1e6
    emit({
        "start_method": mp.get_start_method(),
        "bounded": run_bounded(args.items, args.maxsize, args.consumers, consume_s),
        "joinable": run_joinable(args.items, args.consumers, consume_s),
        "pitfall": run_pitfall(args.pitfall_kib, args.join_timeout_ms / 1000),
    })


if __name__ == "__main__":
    main()

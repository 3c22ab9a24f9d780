"""IPC between two CPython processes: multiprocessing.Pipe, multiprocessing.Queue and shared_memory.SharedMemory.

Bulk: the parent sends --bulk-count blocks of --bulk-bytes and the child acknowledges the lot (MiB/s).
Round trips: the parent sends --small-bytes and waits for the child to echo them, --round-trips times (us each).
Each child serves --repeat + 1 measurements (the first is a warm-up); start-up is not timed.

  Pipe           conn.send_bytes / conn.recv_bytes: raw bytes, length-prefixed, on an OS pipe (a socketpair on
                 duplex Pipes).
  Queue          put() pickles the object and hands it to a feeder thread that writes it to a pipe; get()
                 reads and unpickles: more work per message than a Pipe.
  SharedMemory   (3.8) the parent copies each block into the shared buffer and signals the child with one byte on
                 a Pipe; the child copies the block out (bytes(...)) and answers with one byte.

Prints one JSON object: {"pipe": {...}, "queue": {...}, "shared_memory": {...}}.
"""

import argparse
import multiprocessing as mp
import time
from multiprocessing import shared_memory

from probelib import emit, positive_int


def pipe_child(conn, count, rounds, repeat):
    for _ in range(repeat + 1):
        for _ in range(count):
            conn.recv_bytes()
        conn.send_bytes(b"k")
        for _ in range(rounds):
            conn.send_bytes(conn.recv_bytes())


def queue_child(inbox, outbox, count, rounds, repeat):
    for _ in range(repeat + 1):
        for _ in range(count):
            inbox.get()
        outbox.put(b"k")
        for _ in range(rounds):
            outbox.put(inbox.get())


def shm_child(name, conn, size, count, repeat):
    shm = shared_memory.SharedMemory(name=name)
    try:
        for _ in range(repeat + 1):
            for _ in range(count):
                conn.recv_bytes()
                block = bytes(shm.buf[:size])  # the copy out, into this process's own memory
                conn.send_bytes(b"d")
            del block
    finally:
        shm.close()



def time_transport(a, send, recv):
    """Best bulk and round-trip times over a.repeat rounds (after one warm-up) of one parent-side transport."""
    payload = b"x" * a.bulk_bytes
    small = b"y" * a.small_bytes
    bulk_s, trip_s = float("inf"), float("inf")
    for r in range(a.repeat + 1):
        start = time.perf_counter()
        for _ in range(a.bulk_count):
            send(payload)
        recv()
        bulk = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(a.round_trips):
            send(small)
            recv()
        trip = time.perf_counter() - start
        if r > 0:
            bulk_s, trip_s = min(bulk_s, bulk), min(trip_s, trip)
    return bulk_s, trip_s


def measure_pipe(a):
    parent, child = mp.Pipe()
    proc = mp.Process(target=pipe_child, args=(child, a.bulk_count, a.round_trips, a.repeat))
    proc.start()
    bulk_s, trip_s = time_transport(a, parent.send_bytes, parent.recv_bytes)
    proc.join()
    return rates(a, bulk_s, trip_s)


def measure_queue(a):
    inbox, outbox = mp.Queue(), mp.Queue()
    proc = mp.Process(target=queue_child, args=(inbox, outbox, a.bulk_count, a.round_trips, a.repeat))
    proc.start()
    bulk_s, trip_s = time_transport(a, inbox.put, outbox.get)
    proc.join()
    inbox.close()
    outbox.close()
    return rates(a, bulk_s, trip_s)


def measure_shared_memory(a):
    shm = shared_memory.SharedMemory(create=True, size=a.bulk_bytes)
    try:
        parent, child = mp.Pipe()
        proc = mp.Process(target=shm_child, args=(shm.name, child, a.bulk_bytes, a.bulk_count, a.repeat))
        proc.start()
        payload = b"x" * a.bulk_bytes
        bulk_s = float("inf")
        for r in range(a.repeat + 1):
            start = time.perf_counter()
            for _ in range(a.bulk_count):
                shm.buf[:a.bulk_bytes] = payload  # the copy in
                parent.send_bytes(b"r")
                parent.recv_bytes()  # the child has copied the block out: the buffer may be reused
            bulk = time.perf_counter() - start
            if r > 0:
                bulk_s = min(bulk_s, bulk)
        proc.join()
    finally:
        shm.close()
        shm.unlink()
    return {"bulk_mib_s": a.bulk_bytes * a.bulk_count / 2**20 / bulk_s}


def rates(a, bulk_s, trip_s):
    return {"bulk_mib_s": a.bulk_bytes * a.bulk_count / 2**20 / bulk_s,
            "round_trip_us": trip_s / a.round_trips * 1e6}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bulk-bytes", type=positive_int, default=1 << 20)
    p.add_argument("--bulk-count", type=positive_int, default=64)
    p.add_argument("--small-bytes", type=positive_int, default=64)
    p.add_argument("--round-trips", type=positive_int, default=5000)
    p.add_argument("--repeat", type=positive_int, default=3)
    a = p.parse_args()
    emit({"start_method": mp.get_start_method(),
          "pipe": measure_pipe(a),
          "queue": measure_queue(a),
          "shared_memory": measure_shared_memory(a)})


if __name__ == "__main__":
    main()

"""Sharing memory between CPython processes.

1. A large read-only numpy array for a Pool of workers, each summing the whole array:
     pickled     the array is the task's argument: pickled in the parent, written to a pipe, unpickled in a worker
                 (a private copy per task);
     shared      the array lives in a multiprocessing.shared_memory.SharedMemory block (3.8); the task carries only
                 the block's name, and the worker sums a numpy view on the shared buffer (no copy).
   The pools are started before timing; best of --repeat.
2. A shared counter, multiprocessing.Value('i') (a ctypes int in shared memory with a lock):
     broken      v.value += 1 is a locked read, then a separately locked write. Two processes meet at a
                 multiprocessing.Barrier between the read and the write, so both read the same value and one of the
                 two updates is lost every round - on every run, not by chance.
     locked      the same read and write inside `with v.get_lock():` (a barrier before each increment releases
                 both processes together): no update is lost.

Prints one JSON object.
"""

import argparse
import multiprocessing as mp
import time
from multiprocessing import shared_memory

import numpy as np

from probelib import emit, positive_int


def sum_pickled(array):
    return float(array.sum())


def sum_shared(spec):
    name, shape, dtype = spec
    shm = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        total = float(view.sum())
        del view  # the buffer cannot be closed while a view exports it
        return total
    finally:
        shm.close()


def increment_broken(v, barrier, rounds):
    for _ in range(rounds):
        seen = v.value          # locked read
        barrier.wait()          # the other process reads too before either writes
        v.value = seen + 1      # locked write: one of the two increments is overwritten
        barrier.wait()


def increment_locked(v, barrier, rounds):
    for _ in range(rounds):
        barrier.wait()          # both released together, the worst moment for contention
        with v.get_lock():
            v.value += 1


def counter(target, rounds):
    v = mp.Value("i", 0)
    barrier = mp.Barrier(2)
    procs = [mp.Process(target=target, args=(v, barrier, rounds)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return v.value


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mib", type=positive_int, default=64)
    p.add_argument("--workers", type=positive_int, default=2)
    p.add_argument("--rounds", type=positive_int, default=1000)
    p.add_argument("--repeat", type=positive_int, default=3)
    a = p.parse_args()

    array = np.arange(a.mib * 2**20 // 8, dtype=np.float64)
    expected = float(array.sum())
    shm = shared_memory.SharedMemory(create=True, size=array.nbytes)
    try:
        np.ndarray(array.shape, dtype=array.dtype, buffer=shm.buf)[:] = array
        spec = (shm.name, array.shape, array.dtype.str)
        pickled_s, shared_s = float("inf"), float("inf")
        with mp.Pool(a.workers) as pool:
            pool.map(sum_shared, [spec] * a.workers)  # warm-up: workers started, numpy imported
            for _ in range(a.repeat):
                start = time.perf_counter()
                totals = pool.map(sum_pickled, [array] * a.workers, chunksize=1)
                pickled_s = min(pickled_s, time.perf_counter() - start)
                assert all(t == expected for t in totals)
                start = time.perf_counter()
                totals = pool.map(sum_shared, [spec] * a.workers, chunksize=1)
                shared_s = min(shared_s, time.perf_counter() - start)
                assert all(t == expected for t in totals)
    finally:
        shm.close()
        shm.unlink()

    emit({"start_method": mp.get_start_method(), "mib": a.mib, "workers": a.workers,
          "pickled_s": pickled_s, "shared_s": shared_s,
          "rounds": a.rounds, "expected": 2 * a.rounds,
          "value_broken": counter(increment_broken, a.rounds),
          "value_locked": counter(increment_locked, a.rounds)})


if __name__ == "__main__":
    main()

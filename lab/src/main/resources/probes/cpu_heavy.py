"""100 MB of CPU-heavy work in CPython: which model pays off, by measurement.

Two kinds of per-byte work over the same deterministic data (1 MiB of xorshift32 noise, repeated; 1 MiB blocks):
  hashlib   --rounds chained sha256 passes over each block (C code; it releases the GIL for buffers over 2047 bytes)
            one thread / --workers threads / a process pool of --workers that inherits the data by fork and
            receives only block numbers (nothing large is pickled)
  checksum  a pure-Python weighted checksum, sum(b * ((i & 0xFF) + 1)) mod 2**32 per 256 KiB chunk, over --py-mb MiB
            (pure Python is ~1000x slower per byte; its time for the whole data is extrapolated)
            one thread / --workers threads (the GIL: no gain) / a process pool / numpy, vectorised (same sums)
Each variant is timed --repeat times, taking turns, and the best is reported; every variant's results are
compared with the one-thread results.

Prints one JSON object: python, implementation, cpu_count (probelib), start_method, mb, py_mb, rounds, workers,
first_digest (block 0's digest, to compare with the JVM's), and
  hashlib   {one_thread_s, threads_s, processes_s, same_results}
  checksum  {one_thread_s, threads_s, processes_s, numpy_s (null without numpy), same_results}
"""

import argparse
import concurrent.futures as cf
import hashlib
import multiprocessing as mp
from probelib import emit, positive_int, best_of_each

BLOCK = 1 << 20  # the hashed blocks
CHUNK = 1 << 18  # the pure-Python checksum's chunks: 4 per MiB, so even 1 MiB splits across workers
DATA = b""
ROUNDS = 1


def make_data(mb):
    """mb MiB of xorshift32 output (little-endian words), the same bytes the JVM side generates."""
    import array
    words = array.array("I")
    x = 0x9E3779B9
    for _ in range(BLOCK // 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        words.append(x)
    block = words.tobytes()  # one MiB of noise, repeated: hashing cost does not depend on the content
    return block * mb


def sha_block(k):
    view = memoryview(DATA)[k * BLOCK:(k + 1) * BLOCK]
    digest = b""
    for r in range(ROUNDS):  # ROUNDS passes over the block: heavier work per byte
        h = hashlib.sha256(digest)
        h.update(view)
        digest = h.digest()
    return digest.hex()


def checksum_block(k):
    s = 0
    i = 0
    for b in DATA[k * CHUNK:(k + 1) * CHUNK]:
        s += b * ((i & 0xFF) + 1)
        i += 1
    return s & 0xFFFFFFFF


def numpy_checksums(np, chunks):
    arr = np.frombuffer(DATA, dtype=np.uint8, count=chunks * CHUNK).reshape(chunks, CHUNK).astype(np.uint64)
    weights = (np.arange(CHUNK, dtype=np.uint64) & 0xFF) + 1
    return [int(s) & 0xFFFFFFFF for s in (arr * weights).sum(axis=1)]


def compare(fn, blocks, workers, repeat, tpool, ppool, extra=None):
    results = {}

    def one():
        results["one"] = [fn(k) for k in range(blocks)]

    def threads():
        results["threads"] = list(tpool.map(fn, range(blocks)))

    def processes():
        results["processes"] = list(ppool.map(fn, range(blocks)))

    variants = {"one": one, "threads": threads, "processes": processes}
    if extra is not None:
        def vectorised():
            results["numpy"] = extra()
        variants["numpy"] = vectorised
    best = best_of_each(repeat, **variants)
    same = all(r == results["one"] for r in results.values())
    out = {"one_thread_s": best["one"], "threads_s": best["threads"], "processes_s": best["processes"],
           "same_results": same}
    if extra is not None:
        out["numpy_s"] = best["numpy"]
    return out


def main():
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=positive_int, default=100)
    parser.add_argument("--py-mb", type=positive_int, default=2)
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--rounds", type=positive_int, default=8)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()
    global ROUNDS
    ROUNDS = args.rounds
    DATA = make_data(args.mb)  # before the pool forks: workers inherit it, copy-on-write
    try:
        import numpy as np
    except ImportError:
        np = None
    py_chunks = min(args.py_mb, args.mb) * (BLOCK // CHUNK)
    with cf.ThreadPoolExecutor(args.workers) as tpool, \
            cf.ProcessPoolExecutor(args.workers, mp_context=mp.get_context("fork")) as ppool:
        list(ppool.map(sha_block, range(args.workers)))  # warm: the workers are started before timing
        sha = compare(sha_block, args.mb, args.workers, args.repeat, tpool, ppool)
        pure = compare(checksum_block, py_chunks, args.workers, args.repeat, tpool, ppool,
                       None if np is None else (lambda: numpy_checksums(np, py_chunks)))
    if np is None:
        pure["numpy_s"] = None
    emit({"start_method": mp.get_start_method(), "mb": args.mb, "py_mb": min(args.py_mb, args.mb), "rounds": ROUNDS, "workers": args.workers,
          "first_digest": sha_block(0), "hashlib": sha, "checksum": pure})


if __name__ == "__main__":
    main()

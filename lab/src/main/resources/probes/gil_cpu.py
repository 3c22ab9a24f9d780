"""Effect of the GIL on CPU work in threads: pure Python vs hashlib.

pure_python: the same total work (``--iterations`` loop iterations of ``burn``)
on one thread vs split in equal parts over ``--threads`` threads. Pure-Python
bytecode holds the GIL, so threads are not expected to be faster.

hashlib: SHA-256 over ``--hash-mb`` MiB in total, as ``--threads`` buffers of
(MiB / threads) each: one thread hashes the buffers one after another vs one
thread per buffer. hashlib releases the GIL for inputs over 2047 bytes, so
threads can run in parallel. Buffers are allocated outside the timed region.

Every timing is repeated ``--repeat`` times; the best (minimum) is reported, in
seconds.

Prints one JSON object on stdout:
  python           platform.python_version()
  implementation   platform.python_implementation()
  cpu_count        os.cpu_count()
  switch_interval  sys.getswitchinterval(), in seconds
  pure_python      object:
    iterations       total loop iterations (N)
    threads          number of threads (T)
    one_thread_s     N iterations on one thread
    threads_s        T threads, N/T iterations each
  hashlib          object:
    megabytes        total MiB hashed (M)
    threads          number of threads (T)
    one_thread_s     T buffers of M/T MiB hashed one after another on one thread
    threads_s        T threads, each hashing one buffer of M/T MiB
"""

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import threading
import time

MIB = 1 << 20


def burn(n):
    """Pure-Python CPU work: n iterations of a small modular recurrence."""
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def sha256(buffer):
    return hashlib.sha256(buffer).digest()


def split(total, parts):
    """Split total into `parts` near-equal integers summing to total."""
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def best_of_each(repeat, **variants):
    """Time each variant `repeat` times, taking turns (a, b, c, a, b, c, ...), and return the smallest elapsed
    time of each, in seconds. Taking turns spreads a slow spell of the machine over every variant instead of
    letting it land on one, so the ratios between variants stay steady from run to run."""
    best = {name: math.inf for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def run_threads(target, args_list):
    threads = [threading.Thread(target=target, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def paired(best):
    return {"one_thread_s": best["one"], "threads_s": best["many"]}


def measure_pure_python(iterations, threads, repeat):
    chunks = split(iterations, threads)
    return {
        "iterations": iterations,
        "threads": threads,
        **paired(best_of_each(repeat, one=lambda: burn(iterations),
                              many=lambda: run_threads(burn, [(c,) for c in chunks]))),
    }


def measure_hashlib(megabytes, threads, repeat):
    # Allocated once, outside the timed region. Each buffer is at least 2048
    # bytes so that hashlib releases the GIL while hashing it.
    size = max(megabytes * MIB // threads, 2048)
    buffers = [bytes(size) for _ in range(threads)]

    def one_thread():
        for buffer in buffers:
            sha256(buffer)

    result = {
        "megabytes": megabytes,
        "threads": threads,
        **paired(best_of_each(repeat, one=one_thread,
                              many=lambda: run_threads(sha256, [(b,) for b in buffers]))),
    }
    return result


def positive_int(text):
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=positive_int, default=2_000_000)
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--hash-mb", type=positive_int, default=64)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "switch_interval": sys.getswitchinterval(),
        "pure_python": measure_pure_python(args.iterations, args.threads, args.repeat),
        "hashlib": measure_hashlib(args.hash_mb, args.threads, args.repeat),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

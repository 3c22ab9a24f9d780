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
import sys
from probelib import best_of_each, burn, emit, positive_int, run_threads, split

MIB = 1 << 20


def sha256(buffer):
    return hashlib.sha256(buffer).digest()


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
        "switch_interval": sys.getswitchinterval(),
        "pure_python": measure_pure_python(args.iterations, args.threads, args.repeat),
        "hashlib": measure_hashlib(args.hash_mb, args.threads, args.repeat),
    }
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

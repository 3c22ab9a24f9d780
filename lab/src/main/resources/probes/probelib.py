"""Helpers shared by conclab's CPython probes (the lab copies this file next to the probe it runs).

Nothing here measures on import; each helper is small and documented where it is defined.
"""

import argparse
import json
import math
import os
import platform
import threading
import time


def interpreter_facts():
    """The keys every probe's JSON starts with: which Python ran, and on how many CPUs."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
    }


def emit(result):
    """Print the probe's one JSON object on stdout: interpreter facts first, then the probe's own keys."""
    print(json.dumps({**interpreter_facts(), **result}, allow_nan=False))  # NaN is not JSON: fail loudly instead


def burn(n):
    """Pure-Python CPU work: n iterations of a small modular recurrence."""
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


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
    """Start one thread per argument tuple, then join them all."""
    threads = [threading.Thread(target=target, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def positive_int(text):
    """argparse type: an integer >= 1; underscores allowed (2_000_000)."""
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value

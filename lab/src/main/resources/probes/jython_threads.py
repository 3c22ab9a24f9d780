"""Jython 2.7: the pure-Python CPU-bound loop on one thread vs split over two threads.

Jython compiles Python to JVM bytecode and runs each Python thread on a JVM thread; it has no global interpreter
lock, so the threads can run on two cores at once. Python 2.7 syntax: this runs under Jython, not CPython 3.

Usage: jython jython_threads.py ITERATIONS REPEAT

Prints one JSON object:
  python, implementation   sys.version (first line) and "Jython"
  java_version, java_home, java_vm
                           the JVM Jython runs on (the `java` its launcher found)
  iterations               total loop iterations (N)
  one_thread_s             N iterations on one thread, best of REPEAT runs
  threads_s                two threads of N/2 iterations each, best of REPEAT runs (taken in turns with one_thread_s)
"""

import json
import sys
import threading

from java.lang import System


def burn(n):
    # The same recurrence as probelib.burn in the CPython probes.
    acc = 0
    for i in xrange(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def timed(work):
    start = System.nanoTime()
    work()
    return (System.nanoTime() - start) / 1e9


def main(argv):
    iterations, repeat = int(argv[1]), int(argv[2])
    halves = [iterations // 2, iterations - iterations // 2]

    def one():
        burn(iterations)

    def two():
        threads = [threading.Thread(target=burn, args=(h,)) for h in halves]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    best_one = best_two = float("inf")
    for _ in range(repeat):
        best_one = min(best_one, timed(one))
        best_two = min(best_two, timed(two))
    print json.dumps({
        "python": sys.version.split("\n")[0],
        "implementation": "Jython",
        "java_version": System.getProperty("java.version"),
        "java_home": System.getProperty("java.home"),
        "java_vm": System.getProperty("java.vm.name"),
        "iterations": iterations,
        "one_thread_s": best_one,
        "threads_s": best_two,
    })


if __name__ == "__main__":
    main(sys.argv)

"""The two facts the gil-model experiment checks its model GIL against, measured on this CPython.

cpu: the same pure-Python work (``--iterations`` loop iterations of
probelib.burn) on one thread, and split over two threads. Only the thread
holding the GIL runs bytecode, so two threads are expected to be no faster.
Best (minimum) of ``--repeat`` runs of each, taking turns.

io: a pure-Python CPU-bound thread spins; meanwhile the main thread sleeps
``--sleep-us`` microseconds ``--wakeups`` times and records how much later than
requested it runs Python code again. time.sleep releases the GIL; on waking,
the thread waits for it, sets the drop request after one switch interval, and
the CPU-bound thread drops the GIL at its next eval-breaker check: expect a
delay of about one switch interval.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  switch_interval   sys.getswitchinterval(), in seconds
  cpu               object: iterations, one_thread_s, two_threads_s
  io                object: wakeups, sleep_us, median_ms, p90_ms, max_ms
                    (delay beyond the requested sleep, in ms),
                    cpu_loops (loops the CPU-bound thread ran meanwhile)
"""

import argparse
import statistics
import sys
import threading
import time
from probelib import best_of_each, burn, emit, positive_int, run_threads, split

LOOP = 1_000


def measure_cpu(iterations, repeat):
    halves = split(iterations, 2)
    best = best_of_each(repeat, one=lambda: burn(iterations),
                        two=lambda: run_threads(burn, [(h,) for h in halves]))
    return {"iterations": iterations, "one_thread_s": best["one"], "two_threads_s": best["two"]}


def spin(started, stop, counter):
    acc = 0
    loops = 0
    started.set()
    while not stop.is_set():
        for i in range(LOOP):
            acc = (acc * 31 + i) % 1000003
        loops += 1
    counter.append(loops)


def measure_io(wakeups, sleep_us):
    sleep_s = sleep_us / 1e6
    started = threading.Event()
    stop = threading.Event()
    counter = []
    spinner = threading.Thread(target=spin, args=(started, stop, counter))
    spinner.start()
    try:
        started.wait()  # the spinner runs Python code: it holds the GIL from here on, except when asked
        late = []
        for _ in range(wakeups):
            start = time.perf_counter()
            time.sleep(sleep_s)
            late.append(time.perf_counter() - start - sleep_s)
    finally:
        stop.set()
        spinner.join()
    late.sort()
    return {
        "wakeups": wakeups,
        "sleep_us": sleep_us,
        "median_ms": statistics.median(late) * 1e3,
        "p90_ms": late[min(len(late) - 1, int(len(late) * 0.9))] * 1e3,
        "max_ms": late[-1] * 1e3,
        "cpu_loops": counter[0] if counter else 0,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=positive_int, default=3_000_000)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--wakeups", type=positive_int, default=100)
    parser.add_argument("--sleep-us", type=positive_int, default=1_000)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    emit({
        "switch_interval": sys.getswitchinterval(),
        "cpu": measure_cpu(args.iterations, args.repeat),
        "io": measure_io(args.wakeups, args.sleep_us),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

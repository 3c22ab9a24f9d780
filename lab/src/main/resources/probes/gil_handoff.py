"""How late a sleeping CPython thread gets to run again: alone, and beside a CPU-bound thread.

A "waker" thread sleeps ``--sleep-us`` microseconds ``--wakeups`` times and
records, each time, how much later than requested it was running Python code
again (the delay). time.sleep releases the GIL; on waking, the thread must take
the GIL back before it can run the next bytecode.

  alone          nothing else runs.
  cpu_default    a pure-Python CPU-bound thread spins beside it, with the
                 default switch interval. The woken thread asks for the GIL,
                 waits one switch interval, then forces the CPU thread to drop
                 it: expect a delay of about one interval (the convoy effect).
  cpu_short      the same with sys.setswitchinterval(--short-interval-us).

The CPU thread counts its loops, to show that it kept running meanwhile.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  switch_interval      sys.getswitchinterval() at start, in seconds
  short_interval       the shorter interval used for cpu_short, in seconds
  wakeups, sleep_us    the parameters
  alone, cpu_default, cpu_short   objects with:
    median_ms, p90_ms, max_ms     delay beyond the requested sleep, in ms
    cpu_loops                     loops the CPU thread ran meanwhile (0 for alone)
"""

import argparse
import statistics
import sys
import threading
import time
from probelib import emit, positive_int

LOOP = 1_000


def spin(stop, counter):
    acc = 0
    loops = 0
    while not stop.is_set():
        for i in range(LOOP):
            acc = (acc * 31 + i) % 1000003
        loops += 1
    counter.append(loops)


def delays(wakeups, sleep_s):
    out = []
    for _ in range(wakeups):
        start = time.perf_counter()
        time.sleep(sleep_s)
        out.append(time.perf_counter() - start - sleep_s)
    return out


def measure(wakeups, sleep_s, cpu_thread, interval):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    stop = threading.Event()
    counter = []
    spinner = threading.Thread(target=spin, args=(stop, counter)) if cpu_thread else None
    try:
        if spinner:
            spinner.start()
            time.sleep(0.005)  # let the spinner take the GIL and start its loop
        samples = sorted(delays(wakeups, sleep_s))
    finally:
        stop.set()
        if spinner:
            spinner.join()
        sys.setswitchinterval(previous)
    return {
        "median_ms": statistics.median(samples) * 1e3,
        "p90_ms": samples[min(len(samples) - 1, int(len(samples) * 0.9))] * 1e3,
        "max_ms": samples[-1] * 1e3,
        "cpu_loops": counter[0] if counter else 0,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wakeups", type=positive_int, default=200)
    parser.add_argument("--sleep-us", type=positive_int, default=1_000)
    parser.add_argument("--short-interval-us", type=positive_int, default=500)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    default = sys.getswitchinterval()
    short = args.short_interval_us / 1e6
    sleep_s = args.sleep_us / 1e6
    emit({
        "switch_interval": default,
        "short_interval": short,
        "wakeups": args.wakeups,
        "sleep_us": args.sleep_us,
        "alone": measure(args.wakeups, sleep_s, False, default),
        "cpu_default": measure(args.wakeups, sleep_s, True, default),
        "cpu_short": measure(args.wakeups, sleep_s, True, short),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

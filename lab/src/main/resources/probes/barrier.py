"""threading.Barrier: phases in step, the action once per phase, and a broken barrier.

phases: two workers each run ``--phases`` phases. Before each phase a worker
records its "phase skew": the phase it is starting minus the fewest phases any
worker has finished. The slow worker does not start phase 0 until the fast one
has finished all its phases, or is stuck waiting at the barrier (checked with
Barrier.n_waiting), so the order is forced, not left to luck.
  no_barrier   the fast worker races through every phase: skew = phases - 1.
  barrier      Barrier(2, action=...).wait() after each phase: skew = 0, and
               the action runs exactly once per phase, after every worker has
               finished that phase.

broken: Barrier(3). One party waits with no timeout; then a second party waits
with timeout=``--timeout-ms``; the third never comes. The timed-out wait breaks
the barrier: both waiting parties get BrokenBarrierError, and so does a later
wait(). abort() does the same to a fresh barrier.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  phases                       P
  no_barrier, barrier          objects with: max_skew, action_runs, action_saw_all_done
  timeout                      object with: timed_out_party, waiting_party, late_party, broken
                               (each party's outcome: "BrokenBarrierError", "passed" or another error name)
  abort                        object with: waiting_party, broken
"""

import argparse
import sys
import threading
from probelib import emit, positive_int

SAFETY_S = 10.0


class Progress:
    """Phases finished per worker, and the largest skew seen when a worker started a phase."""

    def __init__(self, workers):
        self.lock = threading.Lock()
        self.done = [0] * workers
        self.max_skew = 0

    def start(self, phase):
        with self.lock:
            self.max_skew = max(self.max_skew, phase - min(self.done))

    def finish(self, worker):
        with self.lock:
            self.done[worker] += 1

    def all_done(self, phases):
        with self.lock:
            return all(d == phases for d in self.done)


def run_phases(phases, use_barrier):
    progress = Progress(2)
    action_runs = []
    fast_finished = threading.Event()

    def action():
        # Runs in one of the parties after both arrived, before either is released.
        action_runs.append(progress.all_done(len(action_runs) + 1))

    barrier = threading.Barrier(2, action=action, timeout=SAFETY_S) if use_barrier else None

    def worker(me):
        if me == 1:  # slow: start only once the fast worker is done or stuck at the barrier
            while not fast_finished.wait(0.001):
                if barrier is not None and barrier.n_waiting > 0:
                    break
        for phase in range(phases):
            progress.start(phase)
            progress.finish(me)
            if barrier is not None:
                barrier.wait()
        if me == 0:
            fast_finished.set()

    threads = [threading.Thread(target=worker, args=(me,)) for me in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"max_skew": progress.max_skew, "action_runs": len(action_runs),
            "action_saw_all_done": all(action_runs)}


def outcome(fn):
    try:
        fn()
        return "passed"
    except threading.BrokenBarrierError:
        return "BrokenBarrierError"
    except Exception as e:  # reported, not hidden
        return type(e).__name__


def wait_until_waiting(barrier, count):
    for _ in range(int(SAFETY_S * 1000)):
        if barrier.n_waiting >= count:
            return
        threading.Event().wait(0.001)
    raise RuntimeError("a party never reached the barrier")


def run_timeout(timeout_s):
    barrier = threading.Barrier(3)
    results = {}
    waiting = threading.Thread(target=lambda: results.update(waiting_party=outcome(barrier.wait)))
    waiting.start()
    wait_until_waiting(barrier, 1)
    results["timed_out_party"] = outcome(lambda: barrier.wait(timeout=timeout_s))
    waiting.join(SAFETY_S)
    results["late_party"] = outcome(barrier.wait)
    results["broken"] = barrier.broken
    return results


def run_abort():
    barrier = threading.Barrier(2)
    results = {}
    waiting = threading.Thread(target=lambda: results.update(waiting_party=outcome(barrier.wait)))
    waiting.start()
    wait_until_waiting(barrier, 1)
    barrier.abort()
    waiting.join(SAFETY_S)
    results["broken"] = barrier.broken
    return results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", type=positive_int, default=5)
    parser.add_argument("--timeout-ms", type=positive_int, default=50)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    emit({
        "phases": args.phases,
        "no_barrier": run_phases(args.phases, False),
        "barrier": run_phases(args.phases, True),
        "timeout": run_timeout(args.timeout_ms / 1e3),
        "abort": run_abort(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

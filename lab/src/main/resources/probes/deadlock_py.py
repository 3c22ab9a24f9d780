"""Identifying a deadlock in CPython with the standard library, on a deadlock forced every time.

The deadlock: two daemon threads, two threading.Lock objects A and B. Thread "transfer-a-to-b" takes A, thread
"transfer-b-to-a" takes B; a threading.Barrier makes sure both hold their first lock; then each asks for the other's
lock with a plain, untimed acquire(). Neither can ever proceed. The threads are daemon threads, so the probe still
exits (the interpreter abandons them at exit); nothing ever breaks the deadlock.

The ways to find it, each timed from the moment both threads have passed the barrier (the asyncio case from its
start):
  faulthandler     faulthandler.dump_traceback_later(timeout, exit=False, file=...) arms a C watchdog thread that
                   writes every thread's Python stack to the file after `timeout`. The probe parses the file: each
                   deadlocked thread's innermost frame must be the line of its second acquire().
  sigusr1          faulthandler.register(signal.SIGUSR1, file=...): the same dump on demand when the process gets
                   SIGUSR1 (what `kill -USR1 PID` does from outside); the probe signals itself.
  current_frames   sys._current_frames() (thread id -> innermost frame) joined with threading.enumerate() (id ->
                   name), sampled `interval` apart until both threads are at their acquire line in two samples in a row.
                   This says WHERE each thread waits; it cannot say WHO holds the lock it waits for: a Lock records
                   no owner (any thread may release it), and locked() is all it tells.
  owner_graph      the same deadlock with a small Lock wrapper that records its owner and what each thread waits
                   for: following thread -> lock -> owner finds the cycle (reported once two samples agree), the wait-for graph that Python lacks and
                   the JVM builds in (ThreadMXBean.findDeadlockedThreads).
  asyncio          two tasks, each awaiting an asyncio.Lock the other holds (an asyncio.Event makes both hold
                   theirs first). No thread is blocked: the loop runs on, and only a timeout (asyncio.wait's here) shows
                   it; asyncio.all_tasks() and Task.get_stack() then show both tasks suspended at their acquire.
  py_spy           whether the py-spy executable is on PATH (it is not run); if not, the reason, for a SKIPPED row.

Prints one JSON object on stdout (probelib facts first).
"""

import argparse
import asyncio
import faulthandler
import inspect
import linecache
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

from probelib import emit, positive_int

STUCK_AFTER_S = 10.0
NAMES = ("transfer-a-to-b", "transfer-b-to-a")


def transfer(first, second, both_hold):
    """One worker: takes its first lock, waits until the other holds its own, then asks for the second."""
    first.acquire()
    both_hold.wait()
    second.acquire()  # DEADLOCK: the other thread holds `second` and waits for `first`
    second.release()
    first.release()


def acquire_line(fn):
    """The line number of the second acquire() in `fn`'s source: where a deadlocked thread must be found."""
    lines, start = inspect.getsourcelines(fn)
    return next(start + i for i, text in enumerate(lines) if "second.acquire()" in text)


def deadlock(case, make_lock=lambda name: threading.Lock()):
    """Starts the two workers of one case (each case leaves its own pair deadlocked, so their names carry the case)
    on locks named A and B, and returns (threads, locks, the monotonic time both passed the barrier)."""
    a, b = make_lock("A"), make_lock("B")
    passed = []
    both_hold = threading.Barrier(2, action=lambda: passed.append(time.monotonic()), timeout=STUCK_AFTER_S)
    threads = [threading.Thread(target=transfer, args=(a, b, both_hold), name=f"{case}:{NAMES[0]}", daemon=True),
               threading.Thread(target=transfer, args=(b, a, both_hold), name=f"{case}:{NAMES[1]}", daemon=True)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + STUCK_AFTER_S
    while not passed and time.monotonic() < deadline:
        time.sleep(0.001)
    return threads, (a, b), passed[0] if passed else None


def wait_until_at_acquire(threads):
    """Returns once both workers' innermost frame is their second acquire() (bounded). From then on the dump's
    result is certain: a thread that has reached that line never leaves it."""
    line = acquire_line(transfer)
    deadline = time.monotonic() + STUCK_AFTER_S
    while time.monotonic() < deadline:
        frames = sys._current_frames()
        if all(t.ident in frames and frames[t.ident].f_code is transfer.__code__ and frames[t.ident].f_lineno == line
               for t in threads):
            return
        time.sleep(0.001)


def innermost(frame):
    return {"function": frame.f_code.co_name, "line": frame.f_lineno,
            "source": linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()}


# ---- faulthandler ------------------------------------------------------------------------------------------------

THREAD_HEADER = re.compile(r"^(Current thread|Thread) (0x[0-9a-f]+) \(most recent call first\):")
FRAME_LINE = re.compile(r'^\s+File "(.*)", line (\d+) in (\S+)')


def parse_dump(text):
    """faulthandler's text -> {thread id: [(function, line), ...] innermost first}."""
    stacks, current = {}, None
    for line in text.splitlines():
        header = THREAD_HEADER.match(line)
        if header:
            current = stacks.setdefault(int(header.group(2), 16), [])
            continue
        frame = FRAME_LINE.match(line)
        if frame and current is not None:
            current.append((frame.group(3), int(frame.group(2))))
    return stacks


def faulthandler_case(timeout_s):
    threads, _, passed = deadlock("faulthandler")
    wait_until_at_acquire(threads)
    with tempfile.TemporaryFile("w+") as out:
        armed = time.monotonic()
        faulthandler.dump_traceback_later(timeout_s, repeat=False, file=out, exit=False)
        # The main thread waits as a stuck program would (joining the workers), in bounded slices so the probe can
        # stop looking once the dump is written.
        deadline = armed + STUCK_AFTER_S
        while time.monotonic() < deadline:
            threads[0].join(timeout_s / 4)
            out.flush()
            if out.tell() > 0:
                break
        written = time.monotonic()
        faulthandler.cancel_dump_traceback_later()
        out.seek(0)
        text = out.read()
    stacks = parse_dump(text)
    return {
        "timeout_ms": timeout_s * 1000,
        "dumped": bool(text),
        "threads_in_dump": len(stacks),
        "workers": workers_at_acquire(stacks, threads),
        "acquire_line": acquire_line(transfer),
        "detect_ms": (written - passed) * 1000 if passed else None,
        "first_lines": text.splitlines()[:3],
    }


def workers_at_acquire(stacks, threads):
    line = acquire_line(transfer)
    found = {}
    for t in threads:
        frames = stacks.get(t.ident, [])
        found[t.name] = {"top": f"{frames[0][0]}:{frames[0][1]}" if frames else None,
                         "at_acquire": bool(frames) and frames[0] == ("transfer", line)}
    return found


def signal_case():
    """faulthandler.register(SIGUSR1): the same dump on demand, as `kill -USR1 PID` asks for it from outside."""
    threads, _, passed = deadlock("sigusr1")
    wait_until_at_acquire(threads)
    with tempfile.TemporaryFile("w+") as out:
        faulthandler.register(signal.SIGUSR1, file=out, all_threads=True)
        try:
            os.kill(os.getpid(), signal.SIGUSR1)  # faulthandler's C handler writes the dump at once
            out.flush()
            written = time.monotonic()
        finally:
            faulthandler.unregister(signal.SIGUSR1)
        out.seek(0)
        text = out.read()
    return {"dumped": bool(text), "workers": workers_at_acquire(parse_dump(text), threads),
            "detect_ms": (written - passed) * 1000 if passed else None}


# ---- sys._current_frames + threading.enumerate -----------------------------------------------------------------

def current_frames_case(interval_s):
    threads, locks, passed = deadlock("current_frames")
    wanted = [t.name for t in threads]
    line = acquire_line(transfer)
    samples = []
    deadline = time.monotonic() + STUCK_AFTER_S
    stuck = False
    while time.monotonic() < deadline:
        frames = sys._current_frames()
        names = {t.ident: t.name for t in threading.enumerate()}
        sample = {names.get(ident, str(ident)): innermost(frame) for ident, frame in frames.items()
                  if names.get(ident) in wanted}
        samples = (samples + [sample])[-2:]
        # Stuck: both workers at their second acquire in two samples in a row.
        stuck = len(samples) == 2 and all(
            all(s.get(n, {}).get("function") == "transfer" and s.get(n, {}).get("line") == line for n in wanted)
            for s in samples)
        if stuck:
            break
        time.sleep(interval_s)
    detected = time.monotonic()
    last = samples[-1] if samples else {}
    return {
        "interval_ms": interval_s * 1000,
        "stuck_in_two_samples": stuck,
        "where": last,
        "acquire_line": line,
        "detect_ms": (detected - passed) * 1000 if passed else None,
        # What a plain Lock can tell about its holder: only that someone holds it.
        "locks_locked": [lock.locked() for lock in locks],
        "lock_repr": repr(locks[0]),
        "rlock_repr_names_owner": "owner=" in repr(_held_rlock()),
    }


def _held_rlock():
    r = threading.RLock()
    r.acquire()
    try:
        return repr(r)  # CPython's C RLock prints its owner's thread id: an implementation detail, not an API
    finally:
        r.release()


# ---- a lock that records its owner: the wait-for graph Python lacks ------------------------------------------------

class OwnedLock:
    """A threading.Lock that records which thread holds it and, while a thread waits, what it waits for.

    Thread-safe: the records are dict assignments of whole values; the graph built from them is a snapshot."""

    waiting_for = {}  # thread name -> OwnedLock it is acquiring

    def __init__(self, name):
        self.name = name
        self.owner = None
        self._lock = threading.Lock()

    def acquire(self):
        me = threading.current_thread().name
        OwnedLock.waiting_for[me] = self
        self._lock.acquire()
        OwnedLock.waiting_for.pop(me, None)
        self.owner = me

    def release(self):
        self.owner = None
        self._lock.release()


def find_cycle():
    """Follows thread -> lock it waits for -> that lock's owner; returns the first ring as [(thread, lock, owner)]."""
    for start in list(OwnedLock.waiting_for):
        path, thread = [], start
        while thread is not None and thread not in [p[0] for p in path]:
            lock = OwnedLock.waiting_for.get(thread)
            if lock is None:
                break  # this thread runs (or waits for nothing we track): no cycle through it
            path.append((thread, lock.name, lock.owner))
            thread = lock.owner
        else:
            if thread is not None:
                return path[[p[0] for p in path].index(thread):]
    return []


def owner_graph_case(interval_s):
    OwnedLock.waiting_for.clear()
    _, _, passed = deadlock("owner_graph", OwnedLock)
    cycle, previous = [], None
    deadline = time.monotonic() + STUCK_AFTER_S
    while time.monotonic() < deadline:
        # A ring seen once may be a snapshot of an owner about to release: report it when two samples agree.
        cycle = find_cycle()
        if cycle and cycle == previous:
            break
        previous = cycle
        time.sleep(interval_s)
    detected = time.monotonic()
    return {
        "cycle": [{"thread": t, "waits_for": lock, "held_by": owner} for t, lock, owner in cycle],
        "detect_ms": (detected - passed) * 1000 if passed else None,
    }


# ---- asyncio: tasks awaiting each other --------------------------------------------------------------------------

async def async_transfer(first, second, both_hold, held):
    async with first:
        held.append(1)
        if len(held) == 2:
            both_hold.set()
        await both_hold.wait()
        async with second:  # DEADLOCK: each task awaits the lock the other task holds
            pass


def async_acquire_line():
    lines, start = inspect.getsourcelines(async_transfer)
    return next(start + i for i, text in enumerate(lines) if "async with second" in text)


def asyncio_case(timeout_s):
    async def main():
        a, b = asyncio.Lock(), asyncio.Lock()
        both_hold, held = asyncio.Event(), []
        tasks = [asyncio.create_task(async_transfer(a, b, both_hold, held), name=NAMES[0]),
                 asyncio.create_task(async_transfer(b, a, both_hold, held), name=NAMES[1])]
        ticks = 0
        start = time.monotonic()
        timed_out = False
        try:
            # The loop itself is not blocked: it keeps running (ticks) while the two tasks wait for ever; only a
            # timeout shows that they never finish.
            while True:
                done, _ = await asyncio.wait(tasks, timeout=timeout_s / 10)
                if len(done) == len(tasks):
                    break
                ticks += 1
                if time.monotonic() - start >= timeout_s:
                    timed_out = True
                    break
            detected = time.monotonic()
        finally:
            me = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not me and t.get_name() in NAMES]
            found = [{"name": t.get_name(), "done": t.done(),
                      "frames": [f"{f.f_code.co_name}:{f.f_lineno}" for f in t.get_stack()]} for t in pending]
            locked = [a.locked(), b.locked()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return {"timed_out": timed_out, "loop_ticks_while_stuck": ticks,
                "tasks": sorted(found, key=lambda f: f["name"]), "locks_locked": locked,
                "acquire_line": async_acquire_line(), "detect_ms": (detected - start) * 1000}

    return asyncio.run(main())


def py_spy_case():
    path = shutil.which("py-spy")
    if path is None:
        return {"available": False,
                "reason": "py-spy is not on PATH: Debian bookworm does not package it and PyPI is unreachable here"}
    return {"available": True, "path": path}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump-after-ms", type=positive_int, default=300)
    parser.add_argument("--interval-ms", type=positive_int, default=50)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    emit({
        "faulthandler": faulthandler_case(args.dump_after_ms / 1000),
        "sigusr1": signal_case(),
        "current_frames": current_frames_case(args.interval_ms / 1000),
        "owner_graph": owner_graph_case(args.interval_ms / 1000),
        "asyncio": asyncio_case(args.dump_after_ms / 1000),
        "py_spy": py_spy_case(),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

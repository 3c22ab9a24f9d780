"""Daemon and non-daemon threads at interpreter exit, seen from outside: each case runs in a child interpreter.

non_daemon: the child's main thread starts a non-daemon thread and finishes. That thread joins the main thread
(so it knows the main thread has really finished), prints "main ended", then blocks reading a line from stdin,
which only this probe writes. The probe checks that the child is still running ``--grace-ms`` later, writes the
line, and collects the markers: the thread's ``finally`` runs, then the ``atexit`` handler (threading._shutdown
joins non-daemon threads before atexit handlers run).

daemon: the child's main thread starts a ``daemon=True`` thread that blocks on an Event nobody sets, and
finishes. The child must exit on its own; the thread's ``finally`` marker must not appear.

flag: in this interpreter, how the daemon flag is set and refused: ``Thread(daemon=True)``, ``t.daemon = True``
before ``start()``, the same on a started thread (RuntimeError), the flag a thread created inside a daemon thread
gets (inherited), the main thread's flag, and the warning ``setDaemon()`` gives (deprecated since 3.10).

Prints one JSON object on stdout:
  python, implementation, cpu_count   (from probelib)
  non_daemon   object: alive_after_grace, returncode, exit_after_main_done_s, exit_after_release_s, markers
  daemon       object: returncode, exit_after_main_done_s, markers (in order)
  flag         object: argument_sets_daemon, attribute_sets_daemon, started_refuses (exception name),
               started_message, inherited_from_daemon_creator, main_thread_daemon, set_daemon_warning
               (warning category name, or "none")
"""

import argparse
import subprocess
import sys
import threading
import time
import warnings
from probelib import emit, positive_int

PATIENCE_S = 30

CHILD = r'''
import atexit, sys, threading

def say(marker):
    print(marker, flush=True)

atexit.register(say, "atexit")
main = threading.main_thread()

if sys.argv[1] == "non-daemon":
    started = threading.Event()
    def work():
        try:
            say(f"worker started daemon={threading.current_thread().daemon}")
            started.set()
            main.join()  # returns once the main thread has finished
            say("main ended")
            sys.stdin.readline()
            say("worker released")
        finally:
            say("worker finally")
    threading.Thread(target=work, name="worker").start()
    started.wait()
else:
    started = threading.Event()
    def work():
        try:
            say(f"daemon started daemon={threading.current_thread().daemon}")
            started.set()
            threading.Event().wait()  # nobody ever sets it
        finally:
            say("daemon finally")
    threading.Thread(target=work, name="daemon-worker", daemon=True).start()
    started.wait()
say("main done")
'''


class Child:
    """A child interpreter whose stdout lines are collected, with arrival times, by a reader thread."""

    def __init__(self, mode):
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.markers = []
        self.arrived = {}
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                marker = line.strip()
                self.markers.append(marker)
                self.arrived.setdefault(marker, time.perf_counter())
                self.cond.notify_all()

    def wait_for(self, marker):
        with self.cond:
            if not self.cond.wait_for(lambda: marker in self.arrived, timeout=PATIENCE_S):
                raise RuntimeError(f"child never printed {marker!r}; it printed {self.markers}")
            return self.arrived[marker]

    def wait_exit(self):
        code = self.proc.wait(timeout=PATIENCE_S)
        exited = time.perf_counter()
        self.reader.join(PATIENCE_S)
        return code, exited


def non_daemon(grace_s):
    child = Child("non-daemon")
    try:
        main_done = child.wait_for("main done")
        child.wait_for("main ended")
        time.sleep(grace_s)  # patience, not ordering: the child cannot exit before the line is written
        alive = child.proc.poll() is None
        released = time.perf_counter()
        child.proc.stdin.write("\n")
        child.proc.stdin.flush()
        code, exited = child.wait_exit()
        return {"alive_after_grace": alive, "returncode": code, "exit_after_main_done_s": exited - main_done,
                "exit_after_release_s": exited - released, "markers": list(child.markers)}
    finally:
        if child.proc.poll() is None:
            child.proc.kill()


def daemon():
    child = Child("daemon")
    try:
        main_done = child.wait_for("main done")
        code, exited = child.wait_exit()
        return {"returncode": code, "exit_after_main_done_s": exited - main_done, "markers": list(child.markers)}
    finally:
        if child.proc.poll() is None:
            child.proc.kill()


def flag():
    result = {"argument_sets_daemon": threading.Thread(target=lambda: None, daemon=True).daemon}
    t = threading.Thread(target=lambda: None)
    t.daemon = True
    result["attribute_sets_daemon"] = t.daemon

    release = threading.Event()
    started = threading.Thread(target=release.wait)
    started.start()
    try:
        started.daemon = True
        result["started_refuses"] = "none"
        result["started_message"] = ""
    except RuntimeError as e:
        result["started_refuses"] = type(e).__name__
        result["started_message"] = str(e)
    finally:
        release.set()
        started.join()

    inherited = {}

    def create_inside():
        inherited["daemon"] = threading.Thread(target=lambda: None).daemon  # created, never started

    parent = threading.Thread(target=create_inside, daemon=True)
    parent.start()
    parent.join()
    result["inherited_from_daemon_creator"] = inherited["daemon"]
    result["main_thread_daemon"] = threading.main_thread().daemon

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threading.Thread(target=lambda: None).setDaemon(True)
    result["set_daemon_warning"] = caught[0].category.__name__ if caught else "none"
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace-ms", type=positive_int, default=300)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    emit({"non_daemon": non_daemon(args.grace_ms / 1e3), "daemon": daemon(), "flag": flag()})
    return 0


if __name__ == "__main__":
    sys.exit(main())

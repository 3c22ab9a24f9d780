"""Orphaned child processes made on purpose, found, and prevented, with the standard library on Linux.

Each case starts a "middle" Python process that starts a grandchild (`sleep` with a unique marker argument) and
prints its pid; the probe then kills the middle with SIGKILL, as an OOM killer or `kill -9` would.
1. Broken: the grandchild lives on, re-parented (to pid 1 or the nearest subreaper); the probe finds it by scanning
   /proc for the marker and a parent that is not the middle, then kills it.
2. Prevented: the grandchild is started with prctl(PR_SET_PDEATHSIG, SIGKILL) (through ctypes, in preexec_fn), so
   the kernel kills it when the middle dies.
3. Prevented: the middle is started with start_new_session=True, and the probe kills the whole process group with
   os.killpg: nothing is left.
Argument: a marker, a number of seconds such as 600.123 unique to the run (a digit is appended per case). Prints one JSON object on stdout (probelib facts first).
"""

import os
import signal
import subprocess
import sys
import time

from probelib import emit

MIDDLE = r"""
import ctypes, signal, subprocess, sys
def pdeathsig():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG = 1
        raise OSError(ctypes.get_errno(), "prctl")
child = subprocess.Popen(["sleep", sys.argv[1]], preexec_fn=pdeathsig if sys.argv[2] == "1" else None)
print(child.pid, flush=True)
child.wait()
"""


def state_and_ppid(pid):
    """(state, ppid) from /proc/PID/stat, or (None, None) once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (FileNotFoundError, ProcessLookupError):
        return None, None


def alive(pid):
    state, _ = state_and_ppid(pid)
    return state is not None and state != "Z"  # a zombie has ended; only its parent's wait() removes it


def wait_gone(pid, timeout):
    start = time.monotonic()
    while alive(pid) and time.monotonic() - start < timeout:
        time.sleep(0.005)
    return not alive(pid), time.monotonic() - start


def find_orphans(marker, not_parent):
    """Every process whose command line carries the marker and whose parent is not `not_parent`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if marker.encode() in argv:
            state, ppid = state_and_ppid(int(entry))
            if state not in (None, "Z") and ppid != not_parent:
                found.append({"pid": int(entry), "ppid": ppid})
    return found


def case(marker, pdeathsig, new_session):
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, marker, "1" if pdeathsig else "0"],
                              stdout=subprocess.PIPE, text=True, start_new_session=new_session)
    grandchild = int(middle.stdout.readline())
    _, ppid_before = state_and_ppid(grandchild)
    if new_session:
        os.killpg(middle.pid, signal.SIGKILL)  # the group: the middle and everything it started
    else:
        middle.kill()  # SIGKILL to the middle alone
    middle.wait()
    gone, seconds = wait_gone(grandchild, 0.2 if not pdeathsig and not new_session else 5)
    orphans = find_orphans(marker, middle.pid)
    _, ppid_after = state_and_ppid(grandchild)
    for o in orphans:  # clean up what we found
        os.kill(o["pid"], signal.SIGKILL)
    cleaned, _ = wait_gone(grandchild, 5)
    middle.stdout.close()
    return {"parent_before_is_middle": ppid_before == middle.pid, "gone_after_kill": gone,
            "gone_ms": seconds * 1000, "orphans_found": orphans, "ppid_after": ppid_after,
            "orphan_reparented_away": ppid_after is not None and ppid_after != middle.pid,
            "cleaned_up": cleaned}


def main():
    marker = sys.argv[1]
    emit({
        "broken": case(marker + "1", pdeathsig=False, new_session=False),
        "pdeathsig": case(marker + "2", pdeathsig=True, new_session=False),
        "killpg": case(marker + "3", pdeathsig=False, new_session=True),
    })


if __name__ == "__main__":
    main()

"""Copy-on-write after fork, measured from /proc/self/smaps_rollup (Linux).

Parts (each child is a plain os.fork() of this process; it reports through a pipe and exits with os._exit):
  * buffer: the parent fills a --mb MB bytearray; the child reads Private_Dirty, Shared_Clean + Shared_Dirty and Pss
    (kB), writes one byte into every page of the buffer, and reads them again. Before the writes the buffer's
    pages are shared with the parent; after, each written page has been copied and is private to the child.
  * objects: the parent builds a list of --objects small lists (gc-tracked objects). Children:
      - "read":      only iterate over the list (each access increments and decrements the object's refcount);
      - "bytes read": sum a bytes object of the same size (no per-object refcounts touched);
      - "gc":        run gc.collect() (the collector writes into every tracked object's header);
      - "frozen gc": the same, after the parent called gc.freeze() before the fork (Python 3.7+), which moves the
                     objects to a permanent generation the collector ignores.
    Each reports how many kB of Private_Dirty its action added.

Prints one JSON object (probelib.emit) with keys buffer and objects; memory in kB.
"""

import argparse
import gc
import json
import os

from probelib import emit, positive_int

PAGE = os.sysconf("SC_PAGE_SIZE")


def rollup():
    fields = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1])
    return {"private_dirty_kb": fields.get("Private_Dirty", 0),
            "shared_kb": fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0),
            "pss_kb": fields.get("Pss", 0)}


def in_child(action):
    """Forks; the child runs action() (which returns a dict), sends it as JSON and exits; the parent returns it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            payload = json.dumps(action()).encode()
        except BaseException as e:  # report, never fall back into the parent's code
            payload = json.dumps({"error": repr(e)}).encode()
            code = 1
        with os.fdopen(w, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    result = json.loads(data)
    if os.waitstatus_to_exitcode(status) != 0 or "error" in result:
        raise RuntimeError(f"child failed: {result}")
    return result


def delta(work):
    def action():
        before = rollup()
        work()
        after = rollup()
        return {"before": before, "after": after,
                "added_private_dirty_kb": after["private_dirty_kb"] - before["private_dirty_kb"]}
    return action


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=positive_int, default=64)
    ap.add_argument("--objects", type=positive_int, default=300_000)
    a = ap.parse_args()
    gc.disable()  # no collection may run in a child unless the child asks for one

    buf = bytearray(b"\x01") * (a.mb << 20)

    def write_every_page():
        for i in range(0, len(buf), PAGE):
            buf[i] = 2

    buffer = in_child(delta(write_every_page))
    buffer["buffer_kb"] = len(buf) >> 10
    del buf

    data = [[i] for i in range(a.objects)]
    flat = b"\x01" * (a.objects * 64)  # about the size of the lists: 56-byte list + 8-byte pointer each

    def read_objects():
        for item in data:
            pass

    objects = {"count": a.objects, "bytes_kb": len(flat) >> 10,
               "read": in_child(delta(read_objects)),
               "bytes_read": in_child(delta(lambda: sum(flat))),
               "gc": in_child(delta(gc.collect))}
    gc.freeze()
    objects["frozen_gc"] = in_child(delta(gc.collect))
    objects["frozen_count"] = gc.get_freeze_count()
    gc.unfreeze()
    emit({"buffer": buffer, "objects": objects})


if __name__ == "__main__":
    main()

"""What the GIL makes atomic, what it does not, and thread-local storage, in CPython threads.

dis: the bytecode of ``counter += 1`` on a global (a load, an add, a store: three
instructions), of ``shared_list.append(x)`` and of ``shared_dict[k] = v`` (the
mutation is one instruction that runs one C function).

lockstep: ``--threads`` threads each call a small function ``--rounds`` times
under a trace hook (``sys.settrace`` with ``f_trace_opcodes``) that makes every
thread meet the others at a barrier before EACH bytecode of that function. So
every thread executes bytecode k before any thread executes bytecode k + 1: the
worst interleaving the GIL allows, since the GIL switches threads only between
bytecodes. ``counter += 1``: every thread loads before any stores, so each round
keeps one increment and loses (threads - 1). ``list.append``, ``dict[k] = v``
and ``deque.append``: the mutation is inside one bytecode, so nothing is lost.

locked: ``with lock: counter += 1``, all threads released together by a barrier
before every increment (the lockstep hook cannot be used here: a thread waiting
for the lock could never reach the barrier).

thread_local: every round each thread writes its index to ``threading.local()``
and to a shared object's attribute, meets the others, reads both back, and meets
them again. The local attribute always reads back the thread's own index; the
shared one reads back the last writer's, so (threads - 1) reads per round are
another thread's.

free_running: ``counter += 1`` and ``list.append`` in a tight loop in
``--threads`` threads, no barrier, no lock. How many increments are lost depends
on where the interpreter may switch threads (since 3.10 only at a few kinds of
instruction, such as backward jumps and calls), so it is reported, not claimed.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  switch_interval   sys.getswitchinterval(), in seconds
  gil_enabled       sys._is_gil_enabled() where it exists (3.13+), else true
  dis               {augassign, append, setitem: lists of opnames; load, add, store: opnames found}
  lockstep          {threads, rounds, expected, plus_equals, list_append, dict_setitem, deque_append,
                     meetings_per_call}
  locked            {threads, rounds, expected, observed}
  thread_local      {threads, rounds, reads, local_foreign, shared_foreign}
  free_running      {threads, iterations, expected, plus_equals, list_append}
"""

import argparse
import collections
import dis
import sys
import threading

from probelib import emit, positive_int

# A thread that has not reached the barrier by then is stuck: fail instead of hanging.
BARRIER_TIMEOUT_S = 30

counter = 0
shared_list = []
shared_dict = {}
shared_deque = collections.deque()


def plus_equals(_me, _round):
    global counter
    counter += 1


def list_append(me, _round):
    shared_list.append(me)


def dict_setitem(me, rnd):
    shared_dict[(me, rnd)] = me


def deque_append(me, _round):
    shared_deque.append(me)


def run_together(threads, body):
    """Run body(index, barrier) on `threads` threads sharing one barrier; return their results in order."""
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT_S)
    results = [None] * threads
    errors = []

    def runner(index):
        try:
            results[index] = body(index, barrier)
        except BaseException as e:  # report it in the main thread, and release the others
            errors.append(e)
            barrier.abort()
        finally:
            sys.settrace(None)

    workers = [threading.Thread(target=runner, args=(i,), name=f"atomicity-{i}") for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return results


def opnames(fn):
    """The opnames of fn's body, without the frame's entry (RESUME) and its implicit `return None`."""
    names = [i.opname for i in dis.get_instructions(fn)]
    body = [n for n in names if n not in ("RESUME", "NOP", "CACHE")]
    if body[-2:] == ["LOAD_CONST", "RETURN_VALUE"]:
        body = body[:-2]
    return body


def read_dis():
    ops = opnames(plus_equals)
    load = next((n for n in ops if n.startswith("LOAD_") and n != "LOAD_CONST"), None)
    add = next((n for n in ops if n in ("BINARY_OP", "INPLACE_ADD")), None)
    store = next((n for n in ops if n.startswith("STORE_")), None)
    return {"augassign": ops, "load": load, "add": add, "store": store,
            "append": opnames(list_append), "setitem": opnames(dict_setitem)}


def lockstep(threads, rounds, fn):
    """Call fn(me, round) `rounds` times on every thread, all threads meeting before each bytecode of fn.
    Returns how many times each thread met the others per call (the bytecodes fn executed)."""
    code = fn.__code__

    def body(me, barrier):
        meetings = 0

        def each_opcode(frame, event, _arg):
            nonlocal meetings
            if event == "opcode":
                meetings += 1
                barrier.wait()  # every thread is about to run its k-th bytecode; none has run it yet
            return each_opcode

        def on_call(frame, event, _arg):
            if event == "call" and frame.f_code is code:
                frame.f_trace_lines = False
                frame.f_trace_opcodes = True
                return each_opcode
            return None

        sys.settrace(on_call)
        try:
            for rnd in range(rounds):
                fn(me, rnd)
        finally:
            sys.settrace(None)
        return meetings

    meetings = run_together(threads, body)
    if len(set(meetings)) != 1:
        raise RuntimeError(f"threads ran different numbers of bytecodes: {meetings}")
    return meetings[0] // rounds


def measure_lockstep(threads, rounds):
    global counter
    counter = 0
    shared_list.clear()
    shared_dict.clear()
    shared_deque.clear()
    per_call = {fn.__name__: lockstep(threads, rounds, fn)
                for fn in (plus_equals, list_append, dict_setitem, deque_append)}
    return {"threads": threads, "rounds": rounds, "expected": threads * rounds,
            "plus_equals": counter, "list_append": len(shared_list), "dict_setitem": len(shared_dict),
            "deque_append": len(shared_deque), "meetings_per_call": per_call}


def measure_locked(threads, rounds):
    global counter
    counter = 0
    lock = threading.Lock()

    def body(_me, barrier):
        global counter
        for _ in range(rounds):
            barrier.wait()  # all threads start the increment together
            with lock:      # the load, the add and the store are one step for every other thread
                counter += 1

    run_together(threads, body)
    return {"threads": threads, "rounds": rounds, "expected": threads * rounds, "observed": counter}


class Shared:
    """An object every thread writes its index to."""

    def __init__(self):
        self.value = None


def measure_thread_local(threads, rounds):
    mine = threading.local()
    shared = Shared()

    def body(me, barrier):
        local_foreign = shared_foreign = 0
        for _ in range(rounds):
            mine.value = me
            shared.value = me
            barrier.wait()  # every thread has written both; none has read
            if mine.value != me:
                local_foreign += 1
            if shared.value != me:
                shared_foreign += 1
            barrier.wait()  # every thread has read before anyone writes the next round
        return local_foreign, shared_foreign

    results = run_together(threads, body)
    return {"threads": threads, "rounds": rounds, "reads": threads * rounds,
            "local_foreign": sum(r[0] for r in results), "shared_foreign": sum(r[1] for r in results)}


def measure_free_running(threads, iterations):
    global counter
    counter = 0
    appended = []

    def body(me, barrier):
        global counter
        barrier.wait()  # start together, then run free
        for _ in range(iterations):
            counter += 1
            appended.append(me)

    run_together(threads, body)
    return {"threads": threads, "iterations": iterations, "expected": threads * iterations,
            "plus_equals": counter, "list_append": len(appended)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--rounds", type=positive_int, default=1000)
    parser.add_argument("--iterations", type=positive_int, default=1_000_000)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads < 2:
        raise SystemExit("--threads must be at least 2 for a race")
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    emit({
        "switch_interval": sys.getswitchinterval(),
        "gil_enabled": is_gil_enabled() if is_gil_enabled else True,
        "dis": read_dis(),
        "lockstep": measure_lockstep(args.threads, args.rounds),
        "locked": measure_locked(args.threads, args.rounds),
        "thread_local": measure_thread_local(args.threads, args.rounds),
        "free_running": measure_free_running(args.threads, args.iterations),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

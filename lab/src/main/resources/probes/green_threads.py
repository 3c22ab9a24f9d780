"""Green threads with gevent: blocking sockets in greenlets, with and without monkey-patching.

The lab runs a delayed server (one line in, ``ok`` out after the delay) and passes its port. Modes:

unpatched (default): N greenlets each make one request with the standard library's ``socket``, unpatched. A greenlet
    only gives up the thread at a gevent call, and a plain blocking ``recv`` is not one: it blocks the hub and so every
    greenlet, and the N requests run one after another (about N x delay). Also: two greenlets that call
    ``gevent.sleep(0)`` between steps interleave, and without it each runs to its end; and a CPU-bound greenlet that
    never yields stops a 10 ms ticker greenlet for its whole run (largest gap between ticks), while the same work with
    ``gevent.sleep(0)`` every slice does not. Then it runs itself again as ``--patched-child`` in a fresh
    interpreter and reports that child's result too.
--patched-child: ``gevent.monkey.patch_all()`` first of all (patching must happen before ``socket`` and
    ``threading`` are imported and used), then the same N requests: the patched ``socket`` waits in the hub, so the N
    requests overlap (about one delay).

Every time is the best of --repeat runs. Prints one JSON object on stdout; times in seconds.
"""

import sys

if "--patched-child" in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import argparse
import json
import socket
import subprocess
import time

import gevent
import greenlet

from probelib import burn, emit, positive_int


def request(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"ping\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(64)
            if not chunk:
                raise RuntimeError("server closed the connection")
            data += chunk


def fan_out(port, n, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        gevent.joinall([gevent.spawn(request, port) for _ in range(n)], raise_error=True)
        best = min(best, time.perf_counter() - start)
    return best


def interleaving(steps, yield_between):
    order = []

    def worker(name):
        for _ in range(steps):
            order.append(name)
            if yield_between:
                gevent.sleep(0)

    gevent.joinall([gevent.spawn(worker, "a"), gevent.spawn(worker, "b")])
    switches = sum(1 for x, y in zip(order, order[1:]) if x != y)
    return "".join(order), switches


def starvation(burn_ms, tick_ms, yield_every_slice):
    """Largest gap between ticks of a tick_ms ticker greenlet while another greenlet burns CPU for burn_ms."""
    ticks = []
    stop = [False]

    def ticker():
        while not stop[0]:
            ticks.append(time.perf_counter())
            gevent.sleep(tick_ms / 1000)

    def cpu():
        gevent.sleep(2 * tick_ms / 1000)  # let the ticker tick first
        end = time.perf_counter() + burn_ms / 1000
        while time.perf_counter() < end:
            burn(2_000)  # a slice of about 0.1-0.3 ms
            if yield_every_slice:
                gevent.sleep(0)
        gevent.sleep(2 * tick_ms / 1000)  # and after
        stop[0] = True

    gevent.joinall([gevent.spawn(ticker), gevent.spawn(cpu)])
    return max(b - a for a, b in zip(ticks, ticks[1:]))


def patched_child(args):
    result = subprocess.run([sys.executable, __file__, "--patched-child", "--port", str(args.port), "--requests",
                             str(args.requests), "--repeat", str(args.repeat)], capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0:
        raise RuntimeError("patched child failed: " + result.stderr[-600:])
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=positive_int, required=True)
    parser.add_argument("--requests", type=positive_int, default=10)
    parser.add_argument("--burn-ms", type=positive_int, default=200)
    parser.add_argument("--tick-ms", type=positive_int, default=10)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--patched-child", action="store_true")
    args = parser.parse_args()

    if args.patched_child:
        print(json.dumps({"socket_patched": monkey.is_module_patched("socket"),
                          "elapsed_s": fan_out(args.port, args.requests, args.repeat)}))
        return

    plain_order, plain_switches = interleaving(5, False)
    yield_order, yield_switches = interleaving(5, True)
    emit({
        "gevent": gevent.__version__,
        "greenlet": greenlet.__version__,
        "unpatched_s": fan_out(args.port, args.requests, args.repeat),
        "patched": patched_child(args),
        "interleave": {"no_yield": plain_order, "no_yield_switches": plain_switches,
                       "sleep0": yield_order, "sleep0_switches": yield_switches},
        "starve": {"burn_ms": args.burn_ms, "tick_ms": args.tick_ms,
                   "gap_no_yield_s": min(starvation(args.burn_ms, args.tick_ms, False) for _ in range(args.repeat)),
                   "gap_sleep0_s": min(starvation(args.burn_ms, args.tick_ms, True) for _ in range(args.repeat))},
    })


if __name__ == "__main__":
    main()

"""What the switch interval does: to CPU-bound threads, and to an I/O thread beside one (the convoy effect).

Since Python 3.2 a thread that wants the GIL waits one switch interval
(sys.getswitchinterval(), 5 ms by default); if the holder has not let go by
then, the waiter sets a drop request and the holder hands the GIL over at its
next check of the eval loop. A thread that blocks in I/O releases the GIL and
must win it back afterwards.

  default_interval   sys.getswitchinterval() before the probe changes it.

  sweep              Pure-Python CPU-bound work, --iterations loop turns (more
                     at long intervals: enough for --intervals-per-run
                     intervals), on one thread and split over two threads
                     under each interval of --intervals-us. Each loop turn
                     checks a shared "last owner" slot; when it names the other
                     thread, the GIL changed hands since this thread last ran,
                     and the thread notes the time. The times between
                     hand-overs are the turns: how long a thread kept the GIL.
                     Each two-thread run follows a one-thread run of the same
                     work; pairs take turns over the intervals --repeat times.

  convoy             An I/O thread does --round-trips one-byte socket round
                     trips with an echo peer in a child process that answers
                     after --peer-delay-us (a remote server's latency; it holds
                     no GIL of ours). Alone, then beside a pure-Python CPU-bound
                     thread with the default interval, then with
                     --short-interval-us; --convoy-repeat batches each, taking
                     turns. Each time the I/O thread blocks in recv the CPU
                     thread takes the GIL, and when the answer arrives the I/O
                     thread waits about one interval to get it back.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  default_interval       sys.getswitchinterval() at start, in seconds
  iterations, repeat     the parameters
  sweep: list of {interval, work, one_ips, two_ips, handovers, turns, median_turn_s}
      interval           seconds
      work               loop turns per run at this interval
      one_ips            best loop turns per second on one thread (same work)
      two_ips            best loop turns per second, both threads together
      handovers          hand-overs forced by the interval, over all runs
      turns              complete turns measured (between two hand-overs)
      median_turn_s      median turn in seconds (null when none was complete)
  convoy: {peer_delay_us, round_trips, short_interval,
           alone_us, beside_default_us, beside_short_us}
      short_interval     seconds
      *_us               mean µs per round trip of the median batch
"""

import argparse
import math
import socket
import statistics
import subprocess
import sys
import threading
import time
from probelib import emit, positive_int

# The echo peer: answers each message after a delay. A child process, so it needs none of our GIL.
ECHO_PEER = """
import socket, sys, time
peer = socket.socket(fileno=int(sys.argv[1]))
delay = float(sys.argv[2])
while True:
    data = peer.recv(64)
    if not data:
        break
    time.sleep(delay)
    peer.sendall(data)
"""


def counting_burn(turns, me, owner, handovers, go):
    """Pure-Python CPU work. Each loop turn checks the shared owner slot: when it names another thread, the GIL
    changed hands since this thread last ran, and the thread notes the time it got the GIL back."""
    go.wait()
    acc = 0
    clock = time.perf_counter
    for i in range(turns):
        if owner[0] != me:
            owner[0] = me
            handovers.append(clock())
        acc = (acc * 31 + i) % 1000003


def cpu_run(iterations, threads):
    """Runs the work on `threads` threads; returns (seconds, sorted times at which a thread got the GIL).

    The workers start their loops together from a barrier, after the main thread has started them all: the main
    thread then only waits in join(), so it takes no turns of its own that would cut the workers' turns short."""
    owner = [-1]
    handovers = []  # list.append is atomic under the GIL
    go = threading.Barrier(threads + 1)
    share = iterations // threads
    workers = [threading.Thread(target=counting_burn, args=(share, k, owner, handovers, go))
               for k in range(threads)]
    for w in workers:
        w.start()
    go.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - start
    # The first thread's first turn is not a hand-over; the last one happens because a thread finished its share
    # (it lets go without being asked), so it is not a switch the interval forced either.
    return seconds, sorted(handovers)[1:-1]


def with_interval(interval, fn, *args):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        return fn(*args)
    finally:
        sys.setswitchinterval(previous)


def sweep(iterations, intervals, repeat, intervals_per_run, min_turns=3):
    """Two threads at each interval, each run paired with a one-thread run of the same work just before it, taking
    turns `repeat` times: a slow spell of the shared machine lands on both halves of a pair, and both halves run
    equally long (a short run is more likely to fit in a quiet moment). An interval with fewer than `min_turns`
    complete turns gets up to `repeat` more pairs."""
    # The best of three short runs: one slow spell of the machine must not make every long run too short.
    one_ips = iterations / min(cpu_run(iterations, 1)[0] for _ in range(3))
    # Long enough runs for a few complete turns at every interval.
    work = {i: max(iterations, int(one_ips * intervals_per_run * i)) for i in intervals}
    one_best = {i: math.inf for i in intervals}  # seconds per loop turn
    two_best = {i: math.inf for i in intervals}
    turns = {i: [] for i in intervals}
    count = {i: 0 for i in intervals}

    def pair(interval):
        one_best[interval] = min(one_best[interval], cpu_run(work[interval], 1)[0] / work[interval])
        elapsed, times = with_interval(interval, cpu_run, work[interval], 2)
        two_best[interval] = min(two_best[interval], elapsed / work[interval])
        count[interval] += len(times)
        # How long a thread kept the GIL: from one hand-over to the next.
        turns[interval].extend(b - a for a, b in zip(times, times[1:]))

    for _ in range(repeat):
        for interval in intervals:
            pair(interval)
    for interval in intervals:
        for _ in range(repeat):
            if len(turns[interval]) >= min_turns:
                break
            pair(interval)
    return [{"interval": i, "work": work[i], "one_ips": 1 / one_best[i], "two_ips": 1 / two_best[i],
             "handovers": count[i], "turns": len(turns[i]),
             "median_turn_s": statistics.median(turns[i]) if turns[i] else None}
            for i in intervals]


def spin(stop):
    acc = 0
    while not stop.is_set():
        for i in range(1_000):
            acc = (acc * 31 + i) % 1000003


def round_trips(sock, count):
    """Mean seconds per round trip over `count` one-byte round trips."""
    start = time.perf_counter()
    for _ in range(count):
        sock.sendall(b"x")
        if not sock.recv(64):
            raise RuntimeError("the echo peer closed the connection")
    return (time.perf_counter() - start) / count


def beside_cpu_thread(sock, count, interval):
    stop = threading.Event()
    spinner = threading.Thread(target=spin, args=(stop,))
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        spinner.start()
        time.sleep(0.002)  # let the spinner take the GIL and start its loop
        return round_trips(sock, count)
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(previous)


def convoy(count, peer_delay_us, short_interval, repeat):
    mine, theirs = socket.socketpair()
    peer = subprocess.Popen([sys.executable, "-c", ECHO_PEER, str(theirs.fileno()), str(peer_delay_us / 1e6)],
                            pass_fds=(theirs.fileno(),))
    theirs.close()
    default = sys.getswitchinterval()
    batches = {"alone": [], "default": [], "short": []}
    try:
        round_trips(mine, 10)  # the peer has started and answers
        for _ in range(repeat):
            batches["alone"].append(round_trips(mine, count))
            batches["default"].append(beside_cpu_thread(mine, count, default))
            batches["short"].append(beside_cpu_thread(mine, count, short_interval))
    finally:
        mine.close()  # the peer reads end-of-file and exits
        try:
            peer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            peer.kill()
            peer.wait()
    # The median batch, not the best: beside the CPU thread, a round trip either loses the race for the GIL (and
    # waits an interval) or wins it (when the CPU thread is slow to wake), so the best batch would report the
    # luckiest mix rather than the I/O thread's usual throughput.
    return {
        "peer_delay_us": peer_delay_us,
        "round_trips": count,
        "short_interval": short_interval,
        "alone_us": statistics.median(batches["alone"]) * 1e6,
        "beside_default_us": statistics.median(batches["default"]) * 1e6,
        "beside_short_us": statistics.median(batches["short"]) * 1e6,
    }


def intervals_us(text):
    """argparse type: a comma-separated list of positive integers (µs)."""
    values = [positive_int(part) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError("needs at least one interval")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=positive_int, default=1_000_000)
    parser.add_argument("--intervals-us", type=intervals_us, default=[100, 1_000, 5_000, 50_000])
    parser.add_argument("--repeat", type=positive_int, default=5)
    parser.add_argument("--intervals-per-run", type=positive_int, default=6)
    parser.add_argument("--round-trips", type=positive_int, default=100)
    parser.add_argument("--peer-delay-us", type=positive_int, default=100)
    parser.add_argument("--short-interval-us", type=positive_int, default=100)
    parser.add_argument("--convoy-repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    default = sys.getswitchinterval()
    rows = sweep(args.iterations, [us / 1e6 for us in args.intervals_us], args.repeat, args.intervals_per_run)
    emit({
        "default_interval": default,
        "iterations": args.iterations,
        "repeat": args.repeat,
        "sweep": rows,
        "convoy": convoy(args.round_trips, args.peer_delay_us, args.short_interval_us / 1e6, args.convoy_repeat),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

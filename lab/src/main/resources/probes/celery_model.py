"""Real Celery workers, measured: execution pools, redelivery after kill -9, and where rate limits hold.

The probe starts its own redis-server (a Unix socket in a temporary directory, no persistence) as Celery's broker
and result backend, writes a small tasks module next to it, and starts Celery workers as child processes with
``python3 -m celery worker``. Everything it starts is stopped before it prints its one JSON object.

Modes (``--mode``):

pools       the same CPU-bound and sleep-bound task groups on each pool in ``--pools`` (prefork, threads, solo,
            gevent) at ``--concurrency``: wall time of each group, and how many distinct processes ran the tasks.
redelivery  a worker is killed with SIGKILL (its whole process group) while one task runs; a second worker starts
            after the visibility timeout has passed. Run with task_acks_late off (Celery's default) and on: did the
            task ever finish?
ratelimit   two single-process workers share one queue; the task has ``rate_limit``; the measured rate of all
            workers together, against the limit.
"""

import argparse
import gc
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from probelib import emit, positive_int

TASKS_MODULE = '''
import os, threading, time
from celery import Celery

app = Celery("probe_tasks", broker=os.environ["PROBE_BROKER"], backend=os.environ["PROBE_BROKER"])
app.conf.update(
    task_track_started=True,
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=int(os.environ.get("PROBE_PREFETCH", "4")),
    task_acks_late=os.environ.get("PROBE_ACKS_LATE") == "1",
    broker_transport_options={"visibility_timeout": float(os.environ.get("PROBE_VISIBILITY", "3600"))},
    broker_connection_retry_on_startup=True,
)

def where(started):
    """Where and when the task ran: the worker's own clock, so the client's result polling is not timed."""
    return [os.getpid(), threading.get_ident(), started, time.time()]

@app.task
def burn(n):
    started = time.time()
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return where(started)

@app.task
def nap(ms):
    started = time.time()
    time.sleep(ms / 1000)
    return where(started)

@app.task(rate_limit=os.environ.get("PROBE_RATE", "10/s"))
def limited():
    return [os.getpid(), time.time()]
'''


class Broker:
    """A private redis-server on a Unix socket: nothing else can reach it, and no port can collide."""

    def __init__(self, workdir):
        self.sock = os.path.join(workdir, "redis.sock")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.sock, "--save", "", "--appendonly", "no",
             "--dir", workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.sock) and self.ping():
                return
            time.sleep(0.02)
        self.close()
        raise RuntimeError("redis-server did not start within 10 s")

    def ping(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.sock)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self):
        return "redis+socket://" + self.sock

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Workers:
    """Celery workers as child processes, each in its own process group so that SIGKILL takes its pool too."""

    def __init__(self, workdir, broker_url):
        self.env = dict(os.environ, PYTHONPATH=workdir, PROBE_BROKER=broker_url)
        self.procs = []

    def start(self, pool, concurrency, queue, hostname, **env):
        cmd = [sys.executable, "-m", "celery", "-A", "probe_tasks", "worker", "-P", pool, "-c", str(concurrency),
               "-Q", queue, "-n", hostname + "@probe", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "-l", "ERROR"]
        proc = subprocess.Popen(cmd, env=dict(self.env, **env), start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def kill(self, proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(proc)


def app_for(workdir, broker_url, **env):
    """Import the tasks module in this process (the client side) with the given settings."""
    os.environ["PROBE_BROKER"] = broker_url
    os.environ.update(env)
    sys.path.insert(0, workdir)
    import probe_tasks
    return probe_tasks


def wait_ready(tasks, queue, timeout=30):
    """A worker is ready when it has run one task from its queue."""
    tasks.nap.apply_async((1,), queue=queue).get(timeout=timeout)


def pools(args, workdir, broker, workers):
    """Each pool runs a group of CPU-bound and a group of sleep-bound tasks; the span is taken from the tasks' own
    start and end times on the worker, the best of --repeat groups."""
    from celery import group
    tasks = app_for(workdir, broker.url())
    results = {}
    for pool in args.pools:
        queue = "q_" + pool
        worker = workers.start(pool, args.concurrency, queue, pool)
        wait_ready(tasks, queue)
        timings = {}
        for kind, sig in (("cpu", tasks.burn.s(args.burn)), ("io", tasks.nap.s(args.nap_ms))):
            best, processes, threads = float("inf"), set(), set()
            for _ in range(args.repeat):
                ran = group(sig.clone() for _ in range(args.tasks)).apply_async(queue=queue).get(timeout=120)
                best = min(best, max(end for *_, end in ran) - min(start for _, _, start, _ in ran))
                processes.update(pid for pid, *_ in ran)
                threads.update((pid, tid) for pid, tid, *_ in ran)
            timings[kind] = {"best_s": best, "processes": len(processes), "threads": len(threads)}
        results[pool] = timings
        workers.kill(worker)
    return {"pools": results, "tasks": args.tasks, "concurrency": args.concurrency, "burn": args.burn,
            "nap_ms": args.nap_ms}


def redelivery(args, workdir, broker, workers):
    """Kill -9 a worker mid-task; start another once the visibility timeout has passed; did the task finish?"""
    acks_late = args.acks_late == "on"
    env = {"PROBE_ACKS_LATE": "1" if acks_late else "0", "PROBE_VISIBILITY": str(args.visibility),
           "PROBE_PREFETCH": "1"}
    tasks = app_for(workdir, broker.url(), **env)
    first = workers.start("prefork", 1, "q_kill", "first", **env)
    job = tasks.nap.apply_async((args.nap_ms,), queue="q_kill")
    deadline = time.monotonic() + 30
    while job.state != "STARTED":
        if time.monotonic() > deadline:
            raise RuntimeError("the task never started")
        time.sleep(0.01)
    workers.kill(first)
    killed_at = time.monotonic()
    time.sleep(args.visibility + args.restart_after)
    second = workers.start("prefork", 1, "q_kill", "second", **env)
    finished, seconds = False, None
    try:
        job.get(timeout=args.wait)
        finished, seconds = True, time.monotonic() - killed_at
    except Exception:  # celery.exceptions.TimeoutError: the task never came back
        pass
    workers.kill(second)
    return {"acks_late": acks_late, "visibility_s": args.visibility, "finished": finished,
            "seconds_after_kill": seconds, "state_at_end": job.state,
            "second_worker_started_after_s": args.visibility + args.restart_after}


def ratelimit(args, workdir, broker, workers):
    """Two workers, one queue, rate_limit on the task: the most task starts in any one-second window, across both
    workers, against the limit. Celery documents rate_limit as a per-worker limit; this shows what that means."""
    from celery import group
    env = {"PROBE_RATE": f"{args.rate}/s", "PROBE_PREFETCH": "4"}
    tasks = app_for(workdir, broker.url(), **env)
    for name in ("a", "b"):
        workers.start("solo", 1, "q_rate", name, **env)
    for _ in range(4):  # both workers up (each takes some of these)
        wait_ready(tasks, "q_rate")
    time.sleep(1.0)  # each worker's token bucket full again
    ran = group(tasks.limited.s() for _ in range(args.tasks)).apply_async(queue="q_rate").get(timeout=120)
    stamps = sorted(t for _, t in ran)
    peak = max(sum(1 for t in stamps if s0 <= t < s0 + 1.0) for s0 in stamps)
    return {"rate_limit_per_s": args.rate, "workers": 2, "tasks": args.tasks,
            "workers_that_ran": len({pid for pid, _ in ran}), "peak_starts_in_1s": peak}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["pools", "redelivery", "ratelimit"], required=True)
    parser.add_argument("--pools", nargs="+", default=["prefork", "threads", "solo"],
                        choices=["prefork", "threads", "solo", "gevent"])
    parser.add_argument("--concurrency", type=positive_int, default=2)
    parser.add_argument("--tasks", type=positive_int, default=8)
    parser.add_argument("--burn", type=positive_int, default=1_000_000)
    parser.add_argument("--nap-ms", type=positive_int, default=100)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--acks-late", choices=["on", "off"], default="off")
    parser.add_argument("--visibility", type=float, default=1.0)
    parser.add_argument("--restart-after", type=float, default=0.3)
    parser.add_argument("--wait", type=float, default=3.0)
    parser.add_argument("--rate", type=positive_int, default=10)
    args = parser.parse_args()

    import celery
    import kombu
    with tempfile.TemporaryDirectory(prefix="conclab-celery-") as workdir:
        with open(os.path.join(workdir, "probe_tasks.py"), "w") as f:
            f.write(TASKS_MODULE)
        broker = Broker(workdir)
        workers = Workers(workdir, broker.url())
        try:
            result = {"pools": pools, "redelivery": redelivery, "ratelimit": ratelimit}[args.mode](
                args, workdir, broker, workers)
        finally:
            workers.stop_all()
            # Celery's AsyncResult.__del__ talks to the backend: collect them while the broker still answers, or
            # each retries a dead socket for ~20 s at exit.
            gc.collect()
            broker.close()
    emit({"celery": celery.__version__, "kombu": kombu.__version__, "mode": args.mode, **result})


if __name__ == "__main__":
    main()

"""Which operations release the GIL: a ticker thread beside each operation, timed by CPU clocks.

A "ticker" thread runs a pure-Python loop nonstop. The main thread runs one
operation ``--calls`` times meanwhile. Each thread's CPU time (its own
CLOCK_THREAD_CPUTIME_ID, which counts user and kernel time) is divided by the
wall time of the calls:

  main_cpu      cores' worth of CPU the main thread used (≈ 0 for a wait)
  tick_cpu      cores' worth the ticker used
  parallelism   their sum

Only the thread holding the GIL runs Python code, and a thread waiting for the
GIL sleeps (it uses no CPU). So if the operation holds the GIL the two threads
take turns and parallelism stays at about 1 however many cores there are;
noise from other processes can only lower it. If the operation releases the
GIL, the ticker runs while the main thread is inside the call: a CPU-bound call
(hashlib, zlib, a file read from the page cache, numpy) then gives a
parallelism near 2 on two free cores, and a call that waits (sleep, a socket
read) leaves the ticker a whole core (tick_cpu near 1), even on one core.
Had such a call kept the GIL, the ticker would run only between calls, about
one switch interval per call. Each measurement is preceded by the ticker's
loop alone, on the main thread, for two calls' time (tick_alone_cpu): how much
CPU this machine gave one Python thread just then.

After each call that released the GIL the main thread must take it back from
the ticker, which keeps it for up to one switch interval (the convoy effect,
measured in gil-handoff): calls are sized to take ``--call-ms`` alone so that
this wait is small beside them.

Operations:
  sleep          time.sleep(call_ms)
  socket-recv    one request to a loopback server (``--port``; left out when
                 0) that answers after a delay: sendall, then recv until the
                 answer's newline
  file-read      f.readinto() of a whole file in a temporary directory, read
                 once before so it comes from the page cache (a kernel memcpy)
  hashlib        hashlib.sha256(buffer).digest() of one large buffer; CPython
                 releases the GIL only for data of at least 2048 bytes
                 (HASHLIB_GIL_MINSIZE in Modules/hashlib.h)
  zlib           zlib.compress(buffer, 1) of one large buffer
  numpy-matmul   a @ b on float64 square matrices (BLAS). OPENBLAS_NUM_THREADS
                 and its siblings are set to 1 before numpy is imported, so
                 BLAS computes on the calling thread only: the measurement is
                 about the GIL, not about BLAS's own threads
  numpy-add      np.add(a, b, out=a) on large float64 arrays (a ufunc loop)
  numpy-object   np.add on arrays of dtype=object holding Python ints: every
                 element goes through the C API, so numpy keeps the GIL
  pure-python    probelib.burn(n), a pure-Python loop

The numpy operations are left out when numpy is missing. Every operation runs
``--repeat`` times, taking turns; per operation the run with the largest
parallelism is reported (the best overlap seen: conservative for operations
expected to hold the GIL).

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.interpreter_facts)
  switch_interval   sys.getswitchinterval(), in seconds
  blas_threads      the value the probe gave OPENBLAS_NUM_THREADS and siblings
  numpy             numpy.__version__, or null when numpy is missing
  ops               {name: {main_cpu, tick_cpu, parallelism, wall_s,
                    tick_alone_cpu (of the same round), call_ms, calls,
                    detail}}
"""

import os

# BLAS libraries read these when they load: set them before numpy is imported.
BLAS_THREADS = "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = BLAS_THREADS

import argparse  # noqa: E402
import hashlib  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402

from probelib import burn, emit, positive_int  # noqa: E402

try:
    import numpy as np  # noqa: E402
except ImportError:  # the numpy operations are left out, not made up
    np = None

TICK_CHUNK = 200
MIB = 1 << 20


class Ticker:
    """A thread that counts chunks of pure-Python work until stopped; its CPU clock is readable from others."""

    def __init__(self):
        self.count = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="ticker")
        self._clock = None

    def _run(self):
        acc = 0
        while not self._stop:
            for i in range(TICK_CHUNK):
                acc = (acc * 31 + i) % 1000003
            self.count += 1

    def cpu(self):
        """CPU seconds the ticker thread has used so far."""
        return time.clock_gettime(self._clock)

    def __enter__(self):
        self._thread.start()
        self._clock = time.pthread_getcpuclockid(self._thread.ident)
        while self.count == 0:  # until it runs: sleep releases the GIL for it
            time.sleep(0.001)
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()


def run_calls(call, calls):
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - start


def beside_ticker(call, calls):
    """{wall_s, main_cpu, tick_cpu, parallelism} over `calls` calls with the ticker running: each thread's CPU
    time divided by the wall time, and their sum."""
    with Ticker() as ticker:
        w0, m0, k0 = time.perf_counter(), time.thread_time(), ticker.cpu()
        for _ in range(calls):
            call()
        w1, m1, k1 = time.perf_counter(), time.thread_time(), ticker.cpu()
    wall = w1 - w0
    main_cpu, tick_cpu = (m1 - m0) / wall, (k1 - k0) / wall
    return {"wall_s": wall, "main_cpu": main_cpu, "tick_cpu": tick_cpu, "parallelism": main_cpu + tick_cpu}


def scaled(make, size, call_s, low, high):
    """(call, size) with size scaled so that one call takes about call_s alone."""
    call = make(size)
    call()  # warm up (page faults, lazy initialisation)
    once = run_calls(call, 1)
    size = int(min(high, max(low, size * call_s / max(once, 1e-6))))
    call = make(size)
    call()  # warm up again: fresh buffers fault their pages in on first use
    return call, size


class Ops:
    """The operations, each a no-argument call sized to take about call_s alone."""

    def __init__(self, call_s, port, tmpdir):
        self.call_s = call_s
        self.port = port
        self.tmpdir = tmpdir
        self.closers = []

    def build(self):
        """{name: (call, description)}, in the order of the module docstring."""
        ops = {"sleep": (lambda: time.sleep(self.call_s), "time.sleep(%.0f ms)" % (self.call_s * 1e3))}
        if self.port:
            ops["socket-recv"] = self.socket_recv()
        ops["file-read"] = self.file_read()
        ops["hashlib"] = self.sized(self.sha256, 4 * MIB, 64 * MIB, "hashlib.sha256 of %.1f MiB", MIB)
        ops["zlib"] = self.sized(self.compress, 4 * MIB, 32 * MIB, "zlib.compress of %.1f MiB, level 1", MIB)
        if np is not None:
            ops["numpy-matmul"] = self.matmul()
            ops["numpy-add"] = self.sized(self.np_add, 1 << 20, 16 << 20,
                                          "np.add(a, b, out=a) on float64 arrays of %.0f MiB", MIB / 8)
            ops["numpy-object"] = self.sized(self.np_object, 100_000, 2_000_000,
                                             "np.add on dtype=object arrays of %.2f M Python ints", 1e6)
        ops["pure-python"] = self.sized(lambda n: (lambda: burn(n)), 100_000, 1 << 30,
                                        "probelib.burn(%.2f M iterations)", 1e6)
        return ops

    def sized(self, make, start, cap, label, unit):
        """(call, description) with the size scaled to take about call_s per call, at most cap."""
        call, size = scaled(make, start, self.call_s, 64, cap)
        return call, label % (size / unit)

    @staticmethod
    def sha256(n):
        data = bytes(n)
        return lambda: hashlib.sha256(data).digest()

    @staticmethod
    def compress(n):
        text = b"The quick brown fox jumps over the lazy dog; 0123456789. "
        data = (text * (n // len(text) + 1))[:n]
        return lambda: zlib.compress(data, 1)

    def socket_recv(self):
        conn = socket.create_connection(("127.0.0.1", self.port))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closers.append(conn.close)

        def request():
            conn.sendall(b"x\n")
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = conn.recv(64)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                answer += chunk
        return request, "sendall + recv from a loopback server that answers after a delay"

    def file_read(self):
        path = os.path.join(self.tmpdir, "data.bin")

        def make(n):
            with open(path, "wb") as f:
                f.write(os.urandom(MIB) * max(1, n // MIB))
            size = os.path.getsize(path)
            buf = bytearray(size)
            f = open(path, "rb", buffering=0)
            self.closers.append(f.close)

            def read():
                f.seek(0)
                f.readinto(buf)
            return read
        call, _size = scaled(make, 16 * MIB, self.call_s, MIB, 64 * MIB)
        return call, "readinto of a %.0f MiB file (page cache)" % (os.path.getsize(path) / MIB)

    def matmul(self):
        def make(n):
            a = np.random.default_rng(1).random((n, n))
            b = np.random.default_rng(2).random((n, n))
            return lambda: a @ b
        call = make(256)
        call()
        once = run_calls(call, 1)
        n = int(min(4096, max(64, 256 * (self.call_s / max(once, 1e-6)) ** (1 / 3))))
        call = make(n)
        call()
        return call, "a @ b, float64 %d×%d (BLAS, %s thread)" % (n, n, BLAS_THREADS)

    @staticmethod
    def np_add(n):
        a, b = np.ones(n), np.ones(n)
        return lambda: np.add(a, b, out=a)

    @staticmethod
    def np_object(n):
        a = np.arange(n, dtype=object)
        b = np.arange(n, dtype=object)
        return lambda: np.add(a, b)

    def close(self):
        for close in self.closers:
            close()


def ticker_alone(window_s):
    """Cores' worth of CPU the ticker's loop gets when it is the only thread: run on the main thread itself."""
    acc = 0
    w0, c0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - w0 < window_s:
        for i in range(TICK_CHUNK):
            acc = (acc * 31 + i) % 1000003
    return (time.thread_time() - c0) / (time.perf_counter() - w0)


def measure(ops, call_s, calls, repeat):
    """Per operation and round (`repeat` rounds, taking turns): the ticker's loop alone for 2 calls' time, right
    before the operation beside the ticker, for context. Reports per operation the round with the largest
    parallelism."""
    best = {}
    for _ in range(repeat):
        for name, (call, _label) in ops.items():
            alone = ticker_alone(2 * call_s)
            got = beside_ticker(call, calls)
            got["tick_alone_cpu"] = alone
            if name not in best or got["parallelism"] > best[name]["parallelism"]:
                best[name] = got
    for name, (_call, label) in ops.items():
        best[name].update(call_ms=best[name]["wall_s"] / calls * 1e3, calls=calls, detail=label)
    return best


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--call-ms", type=positive_int, default=40)
    parser.add_argument("--calls", type=positive_int, default=5)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--port", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    call_s = args.call_ms / 1e3
    with tempfile.TemporaryDirectory(prefix="gil-release-") as tmpdir:
        ops = Ops(call_s, args.port, tmpdir)
        try:
            result = measure(ops.build(), call_s, args.calls, args.repeat)
        finally:
            ops.close()
    emit({
        "switch_interval": sys.getswitchinterval(),
        "blas_threads": BLAS_THREADS,
        "numpy": np.__version__ if np is not None else None,
        "ops": result,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

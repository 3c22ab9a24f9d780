"""What an idle TCP connection costs a CPython server: asyncio (one thread, a coroutine per connection), uvloop (the
same on libuv) and a threading.Thread per connection.

Each variant's server runs in a child process of its own (``--serve VARIANT``), so its memory holds nothing but the
server. The parent (this script without ``--serve``) opens ``--connections`` plain TCP connections to it from
loopback, waits until the server has accepted every one, and asks the server for its resident set (VmRSS) and its
OS thread count (Threads), both from /proc/self/status, before the first connection and while all are held idle.
Per connection: the difference over the connections. The connections are raw TCP (no WebSocket handshake), so this
is the runtime's cost of holding a connection, not a chat protocol's.

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.emit)
  connections                         N
  variants                            object: name -> {rss_before, rss_held (bytes), threads_before, threads_held,
                                      rss_per_connection (bytes), threads_per_connection}
                                      names: asyncio, uvloop (when importable), threads
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
from probelib import emit, positive_int


def status():
    """(VmRSS bytes, Threads) of this process, from /proc/self/status."""
    with open("/proc/self/status") as f:
        text = f.read()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1)) * 1024
    threads = int(re.search(r"^Threads:\s+(\d+)", text, re.M).group(1))
    return rss, threads


def answer(accepted):
    rss, threads = status()
    sys.stdout.write(f"{accepted} {rss} {threads}\n")
    sys.stdout.flush()


def serve_asyncio(use_uvloop):
    import asyncio
    if use_uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    accepted = 0

    async def handle(reader, writer):
        nonlocal accepted
        accepted += 1
        await reader.read(1)          # idle until the client closes
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        print(server.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def on_stdin():                # a reader on the loop: no helper thread
            line = sys.stdin.readline()
            if not line:
                loop.remove_reader(sys.stdin.fileno())
                done.set_result(None)
            else:
                answer(accepted)
        loop.add_reader(sys.stdin.fileno(), on_stdin)
        await done
        server.close()
    asyncio.run(main())


def serve_threads():
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    print(listener.getsockname()[1], flush=True)
    accepted = 0
    lock = threading.Lock()

    def connection(conn):
        try:
            conn.recv(1)               # a blocking read per connection, on its own OS thread
        finally:
            conn.close()

    def accept_loop():
        nonlocal accepted
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=connection, args=(conn,), daemon=True).start()
            with lock:
                accepted += 1

    threading.Thread(target=accept_loop, daemon=True).start()
    for line in sys.stdin:             # the main thread answers the parent
        with lock:
            n = accepted
        answer(n)
    listener.close()


def measure(variant, n):
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", variant],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())

        def ask():
            server.stdin.write("stats\n")
            server.stdin.flush()
            accepted, rss, threads = map(int, server.stdout.readline().split())
            return accepted, rss, threads

        _, rss0, threads0 = ask()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        deadline = time.monotonic() + 60
        while True:
            accepted, rss1, threads1 = ask()
            if accepted >= n or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        time.sleep(0.05)
        accepted, rss1, threads1 = ask()
        for c in clients:
            c.close()
        return {"accepted": accepted, "rss_before": rss0, "rss_held": rss1, "threads_before": threads0,
                "threads_held": threads1, "rss_per_connection": (rss1 - rss0) / n,
                "threads_per_connection": (threads1 - threads0) / n}
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=positive_int, default=300)
    parser.add_argument("--serve", choices=["asyncio", "uvloop", "threads"])
    args = parser.parse_args()
    if args.serve == "asyncio":
        serve_asyncio(False)
        return
    if args.serve == "uvloop":
        serve_asyncio(True)
        return
    if args.serve == "threads":
        serve_threads()
        return
    variants = ["asyncio", "threads"]
    try:
        import uvloop  # noqa: F401
        variants.insert(1, "uvloop")
    except ImportError:
        pass
    results = {v: measure(v, args.connections) for v in variants}
    emit({"connections": args.connections, "variants": results})


if __name__ == "__main__":
    main()

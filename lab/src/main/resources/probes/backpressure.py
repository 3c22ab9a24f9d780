"""Backpressure in asyncio: a fast producer, a slow consumer, and what holds the producer back.

unbounded   Broken: ``asyncio.Queue()``. ``put`` on a queue with no maxsize never
            suspends, and the producer awaits nothing else, so it runs all
            ``--items`` puts before the consumer runs once: the queue peaks at
            every item. Each item is a fresh ``--item-bytes`` bytes object; the
            peak traced memory (``tracemalloc``) grows with the queue.
bounded     ``asyncio.Queue(maxsize=N)``: ``await put`` suspends the producer
            while the queue is full, so the queue never holds more than N and
            the memory stays flat. ``puts_suspended`` counts the puts that found
            the queue full (``q.full()`` just before the put).
semaphore   a task per item, each awaiting ``asyncio.sleep(0)`` a few times as its
            "work": without a cap every task is created at once (peak in flight
            = items); with ``asyncio.Semaphore(k)`` acquired before creating the
            task and released when it ends, at most k are in flight.
stream      ``StreamWriter.write`` to a loopback peer whose reader does not read
            yet. Both sockets' kernel buffers are set small (SO_SNDBUF,
            SO_RCVBUF), so the kernel soon takes no more. Without ``drain`` the
            writer loops ``write`` over ``--stream-bytes`` bytes and the
            transport's user-space buffer (``get_write_buffer_size``) grows to
            nearly all of it. Meanwhile the peer's ``StreamReader`` has stopped
            reading its socket (``transport.is_reading()`` False: it pauses at
            2 x its limit). With ``await writer.drain()`` after each write, and a
            peer that reads slowly, the buffer never exceeds the high-water
            mark plus one write. The transport's default limits are reported
            (``get_write_buffer_limits``: low, high).

Prints one JSON object: interpreter facts, then ``unbounded``, ``bounded``,
``semaphore`` and ``stream`` objects (see ``main``).
"""

import argparse
import asyncio
import socket
import sys
import tracemalloc
from probelib import emit, positive_int

HOST = "127.0.0.1"
SMALL_KERNEL_BUFFER = 16 * 1024  # the kernel doubles it; keeps loopback from absorbing megabytes
CHUNK = 16 * 1024  # bytes per write()
GIVE_UP_S = 20.0


async def produce_consume(queue, items, item_bytes):
    """A producer that puts as fast as it can, and a consumer that yields to the loop after every item."""
    peak = 0
    suspended = 0
    consumed = 0

    async def producer():
        nonlocal peak, suspended
        for i in range(items):
            if queue.full():
                suspended += 1
            await queue.put(bytes(item_bytes))  # a fresh object each time, so memory tracks the backlog
            peak = max(peak, queue.qsize())
        await queue.put(None)

    async def consumer():
        nonlocal consumed
        while (item := await queue.get()) is not None:
            consumed += 1
            await asyncio.sleep(0)  # the slow consumer: one loop round per item

    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    await asyncio.gather(producer(), consumer())
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak_qsize": peak, "puts_suspended": suspended, "consumed": consumed,
            "peak_traced_bytes": top - base}


async def in_flight(items, cap):
    """One task per item; with cap, a Semaphore(cap) is acquired before creating each task."""
    sem = asyncio.Semaphore(cap) if cap else None
    now = peak = 0

    async def work():
        nonlocal now
        try:
            for _ in range(3):
                await asyncio.sleep(0)
        finally:
            now -= 1
            if sem:
                sem.release()

    tasks = []
    for _ in range(items):
        if sem:
            await sem.acquire()
        now += 1
        peak = max(peak, now)
        tasks.append(asyncio.create_task(work()))
    await asyncio.gather(*tasks)
    return peak


async def stream(total, drain):
    """Writes `total` bytes to a loopback peer; returns the write-buffer sizes seen and the peer's reading state."""
    loop = asyncio.get_running_loop()
    may_read = asyncio.Event()
    received = 0
    peer_transport = None
    peer_done = loop.create_future()

    async def peer(reader, writer):
        nonlocal received, peer_transport
        peer_transport = writer.transport
        try:
            await may_read.wait()
            while chunk := await reader.read(CHUNK):
                received += len(chunk)
                if drain:
                    await asyncio.sleep(0.0005)  # a slow reader: the writer must wait for it
        finally:
            writer.close()
            peer_done.set_result(None)

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_KERNEL_BUFFER)  # accepted sockets inherit it
    listener.bind((HOST, 0))
    server = await asyncio.start_server(peer, sock=listener)
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_KERNEL_BUFFER)
        sock.connect(listener.getsockname())
        reader, writer = await asyncio.open_connection(sock=sock)
        low, high = writer.transport.get_write_buffer_limits()
        while peer_transport is None:
            await asyncio.sleep(0.001)
        if drain:
            may_read.set()
        peak = 0
        writes = 0
        data = b"x" * CHUNK
        sent = 0
        while sent < total:
            writer.write(data)
            sent += len(data)
            writes += 1
            peak = max(peak, writer.transport.get_write_buffer_size())
            if drain:
                await writer.drain()
        after_loop = writer.transport.get_write_buffer_size()
        # Without drain nothing has awaited yet: let the loop run until the peer's reader pauses its socket.
        paused = None
        if not drain:
            deadline = loop.time() + GIVE_UP_S
            while peer_transport.is_reading() and loop.time() < deadline:
                await asyncio.sleep(0.001)
            paused = not peer_transport.is_reading()
            may_read.set()
        await asyncio.wait_for(writer.drain(), GIVE_UP_S)  # everything reaches the kernel once the peer reads
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(peer_done, GIVE_UP_S)
        return {"bytes": sent, "writes": writes, "chunk": CHUNK, "peak_write_buffer": peak,
                "write_buffer_after_loop": after_loop, "peer_paused_reading": paused,
                "peer_resumed_and_received": received, "low_water": low, "high_water": high}
    finally:
        server.close()
        await server.wait_closed()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=positive_int, default=2000)
    parser.add_argument("--item-bytes", type=positive_int, default=1024)
    parser.add_argument("--maxsize", type=positive_int, default=16)
    parser.add_argument("--workers", type=positive_int, default=8)
    parser.add_argument("--stream-bytes", type=positive_int, default=8 * 1024 * 1024)
    args = parser.parse_args(argv)

    unbounded = asyncio.run(produce_consume(asyncio.Queue(), args.items, args.item_bytes))
    bounded = asyncio.run(produce_consume(asyncio.Queue(maxsize=args.maxsize), args.items, args.item_bytes))
    emit({
        "items": args.items,
        "item_bytes": args.item_bytes,
        "maxsize": args.maxsize,
        "unbounded": unbounded,
        "bounded": bounded,
        "semaphore": {"cap": args.workers,
                      "peak_in_flight_uncapped": asyncio.run(in_flight(args.items, 0)),
                      "peak_in_flight_capped": asyncio.run(in_flight(args.items, args.workers))},
        "stream": {"no_drain": asyncio.run(stream(args.stream_bytes, False)),
                   "drain": asyncio.run(stream(args.stream_bytes, True))},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())

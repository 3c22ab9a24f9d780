"""A small asyncio chat server speaking enough of chat/PROTOCOL.md for the JVM's load generator.

hello-free subset: ``?name=`` on connect (``welcome``), ``join`` (``joined`` to every
member), ``send`` (``message`` with a server id and timestamp to every member, the
sender included, then ``ack``). Anything else gets an ``error``.

Design, the same as the JVM models': every connection has a bounded
``asyncio.Queue(maxsize=--outbound-limit)`` and its own writer task that awaits
``websocket.send`` (which waits for the transport to drain: the client's pace).
Fan-out only does ``put_nowait`` to the members' queues; a full queue closes
that member with 1008 (slow consumer) instead of slowing the sender. It all
runs on one event loop, in one thread: under the GIL one core at most.

The server stops when it receives ``GET /shutdown`` (a plain HTTP request,
answered 200), or after ``--deadline`` seconds. Prints one JSON object:
interpreter facts, the websockets version, and counters (connections,
messages, deliveries, the deepest queue seen, slow-consumer closes).
"""

import argparse
import asyncio
import http
import json
import time
from urllib.parse import urlparse, parse_qs

import websockets

from probelib import emit, positive_int

DUMPS = json.JSONEncoder(separators=(",", ":")).encode  # compact: {"type":"message",... as the JVM servers send


class Hub:
    def __init__(self, outbound_limit):
        self.limit = outbound_limit
        self.rooms = {}          # room -> list of connections, join order
        self.next_id = 0
        self.stats = {"connections": 0, "peak_connections": 0, "messages": 0, "deliveries": 0,
                      "deepest_queue": 0, "slow_consumer_closes": 0, "errors": 0}

    def deliver(self, conn, frame):
        """Fan-out never awaits: a full queue disconnects that member, the others go on."""
        if conn.closing:
            return
        try:
            conn.queue.put_nowait(frame)
        except asyncio.QueueFull:
            conn.closing = True
            self.stats["slow_consumer_closes"] += 1
            asyncio.get_running_loop().create_task(conn.ws.close(1008, "slow consumer"))
            return
        self.stats["deliveries"] += 1
        self.stats["deepest_queue"] = max(self.stats["deepest_queue"], conn.queue.qsize())

    def broadcast(self, room, frame):
        for member in self.rooms.get(room, ()):
            self.deliver(member, frame)


class Conn:
    def __init__(self, ws, name, limit):
        self.ws = ws
        self.name = name
        self.queue = asyncio.Queue(maxsize=limit)
        self.rooms = set()
        self.closing = False


async def writer(conn):
    try:
        while True:
            frame = await conn.queue.get()
            await conn.ws.send(frame)
    except websockets.ConnectionClosed:
        pass


def error(hub, conn, code, ref=None):
    hub.stats["errors"] += 1
    msg = {"type": "error", "code": code, "message": code}
    if ref is not None:
        msg["ref"] = ref
    hub.deliver(conn, DUMPS(msg))


async def serve_one(hub, ws):
    query = parse_qs(urlparse(ws.path).query)
    conn = Conn(ws, query.get("name", ["guest"])[0], hub.limit)
    hub.stats["connections"] += 1
    hub.stats["peak_connections"] = max(hub.stats["peak_connections"], hub.stats["connections"])
    task = asyncio.get_running_loop().create_task(writer(conn))
    hub.deliver(conn, DUMPS({"type": "welcome", "name": conn.name}))
    try:
        async for text in ws:
            try:
                m = json.loads(text)
            except ValueError:
                error(hub, conn, "invalid-json")
                continue
            kind = m.get("type") if isinstance(m, dict) else None
            ref = m.get("ref") if isinstance(m, dict) else None
            if kind == "join":
                room = m.get("room")
                conn.rooms.add(room)
                hub.rooms.setdefault(room, []).append(conn)
                hub.broadcast(room, DUMPS({"type": "joined", "room": room, "name": conn.name}))
            elif kind == "send" and m.get("room") in conn.rooms:
                hub.next_id += 1
                hub.stats["messages"] += 1
                room = m["room"]
                hub.broadcast(room, DUMPS({"type": "message", "id": hub.next_id, "room": room,
                                           "from": conn.name, "text": m.get("text", ""),
                                           "ts": int(time.time() * 1000)}))
                ack = {"type": "ack", "id": hub.next_id}
                if ref is not None:
                    ack = {"type": "ack", "ref": ref, "id": hub.next_id}
                hub.deliver(conn, DUMPS(ack))
            else:
                error(hub, conn, "unknown-type", ref)
    except websockets.ConnectionClosed:
        pass
    finally:
        hub.stats["connections"] -= 1
        for room in conn.rooms:
            members = hub.rooms.get(room, [])
            if conn in members:
                members.remove(conn)
        task.cancel()


async def main_async(args):
    hub = Hub(args.outbound_limit)
    stop = asyncio.get_running_loop().create_future()

    async def process_request(path, headers):
        if path == "/shutdown":
            if not stop.done():
                stop.set_result(True)
            return http.HTTPStatus.OK, [("Content-Length", "3")], b"bye"
        return None

    async with websockets.serve(lambda ws: serve_one(hub, ws), "127.0.0.1", args.port,
                                process_request=process_request, max_size=16 * 1024, ping_interval=None):
        try:
            await asyncio.wait_for(stop, args.deadline)
        except asyncio.TimeoutError:
            hub.stats["stopped_by_deadline"] = True
    return hub.stats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=positive_int, required=True)
    parser.add_argument("--outbound-limit", type=positive_int, default=256)
    parser.add_argument("--deadline", type=positive_int, default=60)
    args = parser.parse_args()
    stats = asyncio.run(main_async(args))
    stats["websockets"] = websockets.__version__
    stats["outbound_limit"] = args.outbound_limit
    emit(stats)


if __name__ == "__main__":
    main()

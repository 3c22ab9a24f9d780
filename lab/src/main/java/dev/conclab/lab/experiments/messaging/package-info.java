/**
 * Real-time messaging: the experiments of issue 8, run against the {@code chat} module's servers.
 *
 * <p>A chat server is a fan-out machine: one message in, a copy out to every member of a room. What these
 * experiments teach:
 *
 * <ul>
 *   <li><b>Fan-out must never wait for a reader.</b> Each connection gets a bounded outbound queue and its own
 *       writer (a task on an event loop, or a virtual thread); fan-out only offers to those queues. A client that
 *       stops reading fills its own queue and is disconnected (close 1008) — the others never notice. A fan-out
 *       that writes in the sender's path makes every member wait for the slowest
 *       ({@code chat-server}, {@code fanout-races}).</li>
 *   <li><b>Order needs one sequencer per room.</b> One node's room lock, or across nodes one counter (a Lua script
 *       in Redis), gives every member the same order with increasing ids; per-node counters that deliver locally
 *       first show different orders on different nodes ({@code messaging-design}, {@code fanout-races}).</li>
 *   <li><b>Know the bus's delivery promise.</b> Redis pub/sub is at-most-once: a subscriber that is away loses what
 *       was published meanwhile. A log (a Redis Stream, the room's history) lets a returning client resume from
 *       the last id it saw ({@code messaging-design}).</li>
 *   <li><b>Fan-out on write costs one queue operation per member per message</b>: a message to a room of 1,000 costs
 *       tens of times more than one to 10 ({@code messaging-design}).</li>
 *   <li><b>Limits keep one client from hurting the rest</b>: a per-connection rate limit, a frame-size limit (close
 *       1009), errors for malformed input, and the server keeps serving ({@code chat-server}).</li>
 *   <li><b>The same design in CPython</b>: an asyncio server with a bounded {@code asyncio.Queue} and a writer task
 *       per connection, driven by the same load generator; one thread under the GIL does all the fan-out
 *       ({@code chat-server}).</li>
 * </ul>
 *
 * <p>The scale experiments of the same issue (10,000 connections, the event loop's transports) live in this package
 * too, under their own names.
 */
package dev.conclab.lab.experiments.messaging;

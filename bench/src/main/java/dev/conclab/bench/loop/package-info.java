/**
 * Benchmarks of event loops and sleeping tasks: the toolkit's {@code SelectorEventLoop} beside Netty's event loops
 * (callbacks and timers per second), and 10,000 concurrent sleepers on the loop, on virtual threads and on
 * {@code CompletableFuture}s completed by a scheduler (time to completion against the sleep itself, and heap per
 * pending sleeper).
 */
package dev.conclab.bench.loop;

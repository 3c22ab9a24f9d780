/**
 * Experiments behind the asyncio cards (asyncio-01 … asyncio-10): the event loop and its tasks, coroutines,
 * cancellation, async I/O, and where asyncio and the JVM differ.
 *
 * <p>Each runs CPython's asyncio through a probe beside the same program on the JVM: on the toolkit's asyncio-style
 * {@link dev.conclab.toolkit.loop.SelectorEventLoop} where the point is the loop itself, or on virtual threads and
 * structured concurrency where the point is how the JVM answers the same need. Orderings are forced by the loop's
 * own rules (FIFO queues, deadlines, latches across threads), never by sleeps.
 */
package dev.conclab.lab.experiments.asyncio;

/**
 * Experiments behind the multiprocessing cards (multiprocessing-01 … multiprocessing-10): parallelism with
 * processes — how CPython's {@code multiprocessing} starts workers, hands them work and data, and what it costs —
 * beside the JVM, whose threads already run in parallel and whose child processes start as fresh JVMs.
 *
 * <p>The CPython side runs real {@code multiprocessing} through probes; the JVM side measures the same shapes with
 * executors, child JVMs started through {@link dev.conclab.toolkit.process.JvmLauncher} (which die with their
 * parent), and the toolkit's process pool. Orderings are forced with events and latches, never by sleeps; timings
 * are the best of several runs with generous margins.
 */
package dev.conclab.lab.experiments.multiprocessing;

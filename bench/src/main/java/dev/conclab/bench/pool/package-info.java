/**
 * Benchmarks of the toolkit's {@link dev.conclab.toolkit.process.pool.ProcessPool}: what a task costs when it
 * crosses a process boundary, how CPU-bound work scales with worker processes, and how long a worker JVM takes to
 * start. Each compares the pool with a {@link java.util.concurrent.ForkJoinPool} of threads doing the same work in
 * the same run, the ideal a process pool can only approach.
 */
package dev.conclab.bench.pool;

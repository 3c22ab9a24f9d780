/**
 * Applying a function over a list with bounded parallelism: the JVM's answer to Python's
 * {@code ThreadPoolExecutor.map}, with results in input order and a failure kept per item.
 *
 * <p>{@link java.util.concurrent.ExecutorService#invokeAll} already returns futures in input order; what
 * {@link dev.conclab.toolkit.parallel.ParallelMap} adds is a bound on how many items run at once (with virtual
 * threads the pool no longer bounds it), an overall timeout that interrupts what is still running, cancellation on
 * the first failure, and one {@link dev.conclab.toolkit.parallel.Outcome} per item that says what became of it.
 */
package dev.conclab.toolkit.parallel;

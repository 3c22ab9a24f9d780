/**
 * Graceful shutdown: stop taking new work, let the work in flight finish within a deadline, then interrupt what is
 * left and end child processes, and say afterwards what finished and what was abandoned.
 *
 * <p>The JVM gives the pieces ({@link java.util.concurrent.ExecutorService#shutdown()},
 * {@link java.util.concurrent.ExecutorService#awaitTermination}, {@link java.util.concurrent.ExecutorService#shutdownNow()},
 * {@link Thread#interrupt()}, {@link java.lang.ProcessHandle#destroy()}, {@link Runtime#addShutdownHook}); the
 * {@link dev.conclab.toolkit.shutdown.Shutdown} coordinator puts them in order under one deadline. Interruption is
 * cooperative: a task that never blocks and never checks its interrupt status cannot be stopped from outside,
 * only reported and abandoned.
 */
package dev.conclab.toolkit.shutdown;

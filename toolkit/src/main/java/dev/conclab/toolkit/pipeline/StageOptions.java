package dev.conclab.toolkit.pipeline;

import java.time.Duration;
import java.util.Objects;

/**
 * How a stage runs: its number of workers, the kind of thread, the capacity of its input channel, whether its
 * output keeps the input order, and how many items at most are handed to it at a time. Immutable; the
 * {@code with...} methods return copies.
 *
 * <p>Ordered output with several workers keeps at most {@code reorderWindow} items between the oldest one not yet
 * emitted and the newest one taken, so a slow item holds back at most that many finished ones (bounded memory).
 *
 * <p>Items reach the stage in batches of up to {@code handoffBatch} (never more than {@code capacity}): the
 * producing workers fill private batches and hand each over with one lock acquisition. A partial batch never waits
 * while this stage's workers wait for input (see the package documentation), so a larger batch costs memory, not
 * latency: the stage's input holds at most {@code capacity + (producers + workers) × handoffBatch} items. A
 * one-worker stage also takes up to {@code handoffBatch} items at a time; a many-worker stage takes one at a time.
 *
 * @param parallelism    number of workers, at least 1
 * @param virtualThreads whether the workers are virtual threads (else platform threads)
 * @param capacity       capacity of the stage's input channel, in items, at least 1
 * @param ordered        whether items leave in the order they came in
 * @param reorderWindow  for ordered stages: the most items taken but not yet emitted, at least 1
 * <p>A stage running a function ({@code map}, {@code sink}) may retry a failed item ({@link #withRetry}) and
 * limit each call ({@link #withTimeout}); by default it does neither. A call past the limit is interrupted, and the
 * attempt fails with a {@link java.util.concurrent.TimeoutException}, which the retry policy may retry. An item
 * that runs out of attempts, or fails with an exception the policy does not retry, goes to the dead letters with
 * its last cause and its number of attempts. The worker keeps the item while it backs off, so retries slow the
 * stage (backpressure) rather than pile items up; the wait holds no lock and {@code cancel()} ends it at once.
 * A call that ignores the interrupt keeps its worker until it returns; its item still counts as timed out.
 *
 * @param parallelism    number of workers, at least 1
 * @param virtualThreads whether the workers are virtual threads (else platform threads)
 * @param capacity       capacity of the stage's input channel, in items, at least 1
 * @param ordered        whether items leave in the order they came in
 * @param reorderWindow  for ordered stages: the most items taken but not yet emitted, at least 1
 * @param handoffBatch   the most items handed to the stage at a time, at least 1 (1: item by item)
 * @param retry          how a failed item is retried ({@link RetryPolicy#none()}: not at all)
 * @param timeout        the time limit of one call of the stage's function, positive; {@code null}: no limit
 */
public record StageOptions(int parallelism, boolean virtualThreads, int capacity, boolean ordered,
                           int reorderWindow, int handoffBatch, RetryPolicy retry, Duration timeout) {

    /** The default input channel capacity, in items. */
    public static final int DEFAULT_CAPACITY = 256;

    /**
     * The default hand-off batch, 128 items (half the default capacity): the best of 32, 64, 128 and 256 for the
     * engine's source → map → sink chain at the default capacity ({@code EngineThroughput} in the bench module).
     */
    public static final int DEFAULT_HANDOFF_BATCH = BatchingChannel.DEFAULT_BATCH;

    public StageOptions {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        if (reorderWindow < 1) {
            throw new IllegalArgumentException("reorderWindow must be at least 1, got " + reorderWindow);
        }
        if (handoffBatch < 1) {
            throw new IllegalArgumentException("handoffBatch must be at least 1, got " + handoffBatch);
        }
        Objects.requireNonNull(retry, "retry (RetryPolicy.none() for no retry)");
        if (timeout != null && !timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
    }

    /** Options with no retry and no time limit. */
    public StageOptions(int parallelism, boolean virtualThreads, int capacity, boolean ordered, int reorderWindow,
                        int handoffBatch) {
        this(parallelism, virtualThreads, capacity, ordered, reorderWindow, handoffBatch, RetryPolicy.none(), null);
    }

    /** Options with the default hand-off batch ({@link #DEFAULT_HANDOFF_BATCH}). */
    public StageOptions(int parallelism, boolean virtualThreads, int capacity, boolean ordered, int reorderWindow) {
        this(parallelism, virtualThreads, capacity, ordered, reorderWindow, DEFAULT_HANDOFF_BATCH);
    }

    /** One platform-thread worker, unordered (trivially ordered), default capacity. */
    public static StageOptions serial() {
        return new StageOptions(1, false, DEFAULT_CAPACITY, false, 1);
    }

    /** {@code n} platform-thread workers, unordered output, default capacity; {@link #inOrder()} orders it. */
    public static StageOptions parallel(int n) {
        return new StageOptions(n, false, DEFAULT_CAPACITY, false, Math.max(1, 4 * n));
    }

    /** A copy with {@code n} workers. */
    public StageOptions withParallelism(int n) {
        return new StageOptions(n, virtualThreads, capacity, ordered, reorderWindow, handoffBatch, retry, timeout);
    }

    /** A copy whose workers are virtual threads: for stages that mostly wait (I/O), not for CPU work. */
    public StageOptions withVirtualThreads() {
        return new StageOptions(parallelism, true, capacity, ordered, reorderWindow, handoffBatch, retry, timeout);
    }

    /** A copy whose input channel holds {@code c} items. */
    public StageOptions withCapacity(int c) {
        return new StageOptions(parallelism, virtualThreads, c, ordered, reorderWindow, handoffBatch, retry, timeout);
    }

    /** A copy whose items are handed over in batches of up to {@code n} (1: one at a time). */
    public StageOptions withHandoffBatch(int n) {
        return new StageOptions(parallelism, virtualThreads, capacity, ordered, reorderWindow, n, retry, timeout);
    }

    /** A copy retrying failed items with {@code policy} ({@link RetryPolicy#none()}: no retry). */
    public StageOptions withRetry(RetryPolicy policy) {
        return new StageOptions(parallelism, virtualThreads, capacity, ordered, reorderWindow, handoffBatch, policy,
                timeout);
    }

    /**
     * A copy limiting each call of the stage's function to {@code limit}: past it the call is interrupted and the
     * attempt fails with a {@link java.util.concurrent.TimeoutException}. Costs one watchdog thread per stage.
     */
    public StageOptions withTimeout(Duration limit) {
        Objects.requireNonNull(limit, "limit");
        return new StageOptions(parallelism, virtualThreads, capacity, ordered, reorderWindow, handoffBatch, retry,
                limit);
    }

    /** A copy with no time limit per call. */
    public StageOptions withoutTimeout() {
        return new StageOptions(parallelism, virtualThreads, capacity, ordered, reorderWindow, handoffBatch, retry,
                null);
    }

    /** Ordered output with a reorder window of {@code window} items. */
    public StageOptions inOrder(int window) {
        return new StageOptions(parallelism, virtualThreads, capacity, true, window, handoffBatch, retry, timeout);
    }

    /** Ordered output with a reorder window of four items per worker. */
    public StageOptions inOrder() {
        return inOrder(Math.max(1, 4 * parallelism));
    }
}

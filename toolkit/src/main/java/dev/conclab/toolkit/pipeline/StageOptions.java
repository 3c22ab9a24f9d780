package dev.conclab.toolkit.pipeline;

/**
 * How a stage runs: its number of workers, the kind of thread, the capacity of its input channel, and whether its
 * output keeps the input order. Immutable; the {@code with...} methods return copies.
 *
 * <p>Ordered output with several workers keeps at most {@code reorderWindow} items between the oldest one not yet
 * emitted and the newest one taken, so a slow item holds back at most that many finished ones (bounded memory).
 *
 * @param parallelism    number of workers, at least 1
 * @param virtualThreads whether the workers are virtual threads (else platform threads)
 * @param capacity       capacity of the stage's input channel, at least 1
 * @param ordered        whether items leave in the order they came in
 * @param reorderWindow  for ordered stages: the most items taken but not yet emitted, at least 1
 */
public record StageOptions(int parallelism, boolean virtualThreads, int capacity, boolean ordered,
                           int reorderWindow) {

    /** The default input channel capacity. */
    public static final int DEFAULT_CAPACITY = 256;

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
        return new StageOptions(n, virtualThreads, capacity, ordered, reorderWindow);
    }

    /** A copy whose workers are virtual threads: for stages that mostly wait (I/O), not for CPU work. */
    public StageOptions withVirtualThreads() {
        return new StageOptions(parallelism, true, capacity, ordered, reorderWindow);
    }

    /** A copy whose input channel holds {@code c} items. */
    public StageOptions withCapacity(int c) {
        return new StageOptions(parallelism, virtualThreads, c, ordered, reorderWindow);
    }

    /** Ordered output with a reorder window of {@code window} items. */
    public StageOptions inOrder(int window) {
        return new StageOptions(parallelism, virtualThreads, capacity, true, window);
    }

    /** Ordered output with a reorder window of four items per worker. */
    public StageOptions inOrder() {
        return inOrder(Math.max(1, 4 * parallelism));
    }
}

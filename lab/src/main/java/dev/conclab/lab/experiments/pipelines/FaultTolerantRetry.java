package dev.conclab.lab.experiments.pipelines;

import dev.conclab.toolkit.pipeline.StageFunction;

import java.util.Objects;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stage function that retries a {@link Transient} failure with exponential backoff: attempt k (from 2) waits
 * {@code base × 2^(k-2)} plus up to half as much random jitter, up to {@code maxAttempts} in all; any other exception,
 * or the last transient one, propagates, so the engine dead-letters the item with that cause (a transient cause that
 * ran out of attempts is wrapped in {@link RetriesExhausted}, which names the attempt count).
 *
 * <p>The pipeline engine has no retry option of its own, so the retry lives inside the stage: the worker keeps the
 * item while it backs off, so a backoff slows its stage down (backpressure) instead of piling items up elsewhere.
 * Thread-safe: one instance serves all the stage's workers; counters are per item and atomic.
 *
 * @param <I> the type of the items in
 * @param <O> the type of the items out
 */
final class FaultTolerantRetry<I, O> implements StageFunction<I, O> {

    /** A failure worth retrying (a timeout, a refused connection, HTTP 503...). */
    static final class Transient extends Exception {
        Transient(String message) {
            super(message);
        }
    }

    /** The last transient failure of an item that ran out of attempts. */
    static final class RetriesExhausted extends Exception {
        RetriesExhausted(int attempts, Throwable last) {
            super("gave up after " + attempts + " attempts", last);
        }
    }

    private final StageFunction<I, O> fn;
    private final int maxAttempts;
    private final long baseNanos;
    private final AtomicInteger attempts = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private final AtomicLong shortestWaitPerMille = new AtomicLong(Long.MAX_VALUE);

    FaultTolerantRetry(StageFunction<I, O> fn, int maxAttempts, long baseMicros) {
        this.fn = Objects.requireNonNull(fn, "fn");
        if (maxAttempts < 1 || baseMicros < 1) {
            throw new IllegalArgumentException("maxAttempts and baseMicros must be at least 1, got " + maxAttempts
                    + " and " + baseMicros);
        }
        this.maxAttempts = maxAttempts;
        this.baseNanos = baseMicros * 1_000;
    }

    @Override
    public O apply(I item) throws Exception {
        for (int attempt = 1; ; attempt++) {
            attempts.incrementAndGet();
            try {
                return fn.apply(item);
            } catch (Transient e) {
                if (attempt == maxAttempts) {
                    throw new RetriesExhausted(attempt, e);
                }
                long backoff = baseNanos << (attempt - 1);
                long jitter = ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
                long t0 = System.nanoTime();
                Thread.sleep(Duration.ofNanos(backoff + jitter));
                // the measured wait over its nominal backoff, so the caller can check that every retry waited
                long waitedPerMille = (System.nanoTime() - t0) * 1_000 / backoff;
                shortestWaitPerMille.accumulateAndGet(waitedPerMille, Math::min);
                retries.incrementAndGet();
            }
        }
    }

    /** Calls of the wrapped function so far, first attempts included. */
    int attempts() {
        return attempts.get();
    }

    /** Retries so far (attempts after a transient failure). */
    int retries() {
        return retries.get();
    }

    /** The shortest wait before a retry as a fraction of its nominal backoff (≥ 1 if every retry waited); 0 if none. */
    double shortestWaitOverBackoff() {
        long v = shortestWaitPerMille.get();
        return v == Long.MAX_VALUE ? 0 : v / 1_000.0;
    }
}

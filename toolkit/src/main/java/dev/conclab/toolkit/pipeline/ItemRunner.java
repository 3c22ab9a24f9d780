package dev.conclab.toolkit.pipeline;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;

/**
 * Runs one item through a stage's function under the stage's {@link RetryPolicy} and per-item time limit, counts
 * attempts, retries and timeouts, and dead-letters the item when it gives up. One per worker; used only by it.
 *
 * <p>A failed attempt is retried while attempts are left and the policy accepts the failure; an interrupted one
 * never is. The backoff wait is a plain interruptible sleep holding no lock, so {@link Pipeline#cancel()} (which
 * interrupts the worker) ends it at once; the worker keeps the item meanwhile, so a stage that backs off slows its
 * producers (backpressure) instead of piling items up. The wait counts as busy time: the worker is not free.
 */
final class ItemRunner {

    /** Waits between attempts; tests inject one that records the waits instead of sleeping. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long nanos) throws InterruptedException;

        Sleeper REAL = nanos -> {
            if (nanos > 0) {
                Thread.sleep(Duration.ofNanos(nanos));
            }
        };
    }

    private final PipelineBuilder b;
    private final StageMetrics m;
    private final WorkerStats w;
    private final RetryPolicy retry;
    private final Watchdog.Slot timer; // null: no time limit
    private final Duration limit;

    ItemRunner(PipelineBuilder b, StageMetrics m, WorkerStats w, StageOptions options, Watchdog watchdog) {
        this.b = b;
        this.m = m;
        this.w = w;
        this.retry = options.retry();
        this.limit = options.timeout();
        this.timer = watchdog == null ? null : watchdog.newSlot();
    }

    /**
     * The result of {@code fn} on {@code item}, or null if the item was dead-lettered (or {@code fn} dropped it).
     *
     * @throws InterruptedException only if the pipeline was cancelled
     */
    <I, O> O apply(Pipeline p, StageFunction<? super I, ? extends O> fn, I item) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            w.countAttempt();
            Exception failure;
            try {
                return call(p, fn, item);
            } catch (InterruptedException e) {
                if (p.isCancelled()) {
                    throw e;
                }
                failure = e; // interrupted by something else: this item failed (rethrowing would end the worker and lose it)
            } catch (Exception e) {
                failure = e;
            }
            boolean interrupted = Thread.currentThread().isInterrupted(); // a call that kept its interrupt
            if (attempt >= retry.maxAttempts() || interrupted || !retry.retries(failure)) {
                b.deadLetter(m, item, failure, attempt);
                return null;
            }
            m.retried.increment();
            try {
                b.sleeper.sleep(retry.delayNanos(attempt, ThreadLocalRandom.current()));
            } catch (InterruptedException e) {
                if (p.isCancelled()) {
                    throw e;
                }
                failure.addSuppressed(e); // interrupted while backing off: not retried
                b.deadLetter(m, item, failure, attempt);
                return null;
            }
        }
    }

    private <I, O> O call(Pipeline p, StageFunction<? super I, ? extends O> fn, I item) throws Exception {
        if (timer == null) {
            return fn.apply(item);
        }
        O result = null;
        Exception thrown = null;
        boolean timedOut;
        timer.arm();
        try {
            result = fn.apply(item);
        } catch (Exception e) {
            thrown = e;
        } finally {
            timedOut = timer.disarm();
        }
        if (timedOut) {
            if (p.isCancelled()) { // disarm cleared the interrupt, which cancel() had sent too
                Thread.currentThread().interrupt();
                throw new InterruptedException("cancelled");
            }
            m.timedOut.increment();
            TimeoutException t = new TimeoutException("stage '" + m.name + "': the call on item " + item
                    + " took longer than " + limit + "; interrupted");
            if (thrown != null) {
                t.initCause(thrown);
            }
            throw t;
        }
        if (thrown != null) {
            throw thrown;
        }
        return result;
    }
}

package dev.conclab.toolkit.ratelimit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Admits work at a bounded rate: each call asks for {@code permits} and is admitted now, later, or (for
 * {@link #tryAcquire}) refused. Two policies implement it:
 * <ul>
 *   <li>{@link #tokenBucket(double, int) token bucket}: permits refill continuously at {@code permitsPerSecond}
 *       into a bucket holding at most {@code burst}; a bucket idle long enough is full, so up to {@code burst}
 *       permits are admitted at one instant, and over any interval of length {@code t} at most
 *       {@code burst + rate × t}.</li>
 *   <li>{@link #slidingWindow(int, Duration) sliding window}: at most {@code limit} permits in any window of
 *       length {@code window} (a log of admission times, exact at its edges: a permit admitted at {@code t} stops
 *       counting at {@code t + window}).</li>
 * </ul>
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread at any time.
 *
 * <p><b>Blocking and ordering.</b> {@link #acquire} blocks until admitted; waiters, blocking and
 * {@link #acquireAsync asynchronous} alike, are served strictly first-in first-out: a waiter asking for many
 * permits holds back those behind it, and {@link #tryAcquire} refuses while anyone is waiting (it never barges,
 * unlike {@link java.util.concurrent.Semaphore#tryAcquire()} on a fair semaphore). While a limiter has waiters, one
 * virtual thread (its <em>pump</em>) parks until the head waiter can be admitted, admits it and every following
 * one that fits, and exits when the queue is empty; there is never a thread per waiter.
 *
 * <p><b>Interruption and cancellation.</b> A thread interrupted on entry to or while waiting in {@link #acquire}
 * leaves the queue without consuming permits and gets {@link InterruptedException}, its interrupt status cleared;
 * if it was admitted before the interrupt was seen it returns normally with its interrupt status set. Cancelling
 * (or completing) a future from {@link #acquireAsync} before it is admitted removes the waiter and consumes no
 * permit; {@code cancel} returns {@code false} once the permits are granted.
 *
 * <p><b>Non-blocking path.</b> A refused {@link #tryAcquire} only reads shared state: it decides from a snapshot
 * and writes (by compare-and-set, or under a write lock for the sliding window) only when it admits.
 *
 * <p><b>Time.</b> Each call reads its {@link Ticker} once, on entry, and decides as of that reading: a thread
 * delayed between the reading and the decision (descheduled) may be refused permits that refilled meanwhile.
 *
 * <p><b>Memory consistency.</b> Actions before a permit is granted to a waiter happen-before the waiter's return
 * from {@code acquire} or the completion of its future.
 *
 * <p>No method holds a monitor; waiting uses {@link java.util.concurrent.locks.LockSupport} parking, so virtual
 * threads unmount while they wait.
 */
public sealed interface RateLimiter permits TokenBucketLimiter, SlidingWindowLimiter {

    /**
     * A token bucket refilled at {@code permitsPerSecond}, holding at most {@code burst} permits, full at creation,
     * on the system ticker.
     *
     * @throws IllegalArgumentException if {@code permitsPerSecond} is not a positive finite number of at most 10⁹,
     *                                  or {@code burst} is less than 1
     */
    static RateLimiter tokenBucket(double permitsPerSecond, int burst) {
        return new TokenBucketLimiter(permitsPerSecond, burst, Ticker.system());
    }

    /** As {@link #tokenBucket(double, int)}, with time from {@code ticker}. */
    static RateLimiter tokenBucket(double permitsPerSecond, int burst, Ticker ticker) {
        return new TokenBucketLimiter(permitsPerSecond, burst, ticker);
    }

    /**
     * A sliding window admitting at most {@code limit} permits in any interval of length {@code window}, on the
     * system ticker.
     *
     * @throws IllegalArgumentException if {@code limit} is less than 1 or {@code window} is not positive
     */
    static RateLimiter slidingWindow(int limit, Duration window) {
        return new SlidingWindowLimiter(limit, window, Ticker.system());
    }

    /** As {@link #slidingWindow(int, Duration)}, with time from {@code ticker}. */
    static RateLimiter slidingWindow(int limit, Duration window, Ticker ticker) {
        return new SlidingWindowLimiter(limit, window, ticker);
    }

    /** {@link #tryAcquire(int) tryAcquire(1)}. */
    default boolean tryAcquire() {
        return tryAcquire(1);
    }

    /**
     * Admits {@code permits} now if they are available and nobody is waiting; never blocks.
     *
     * @return whether the permits were granted
     * @throws IllegalArgumentException if {@code permits} is less than 1 or more than {@link #capacity()}
     */
    boolean tryAcquire(int permits);

    /** {@link #acquire(int) acquire(1)}. */
    default void acquire() throws InterruptedException {
        acquire(1);
    }

    /**
     * Blocks until {@code permits} are granted, behind every earlier waiter.
     *
     * @throws InterruptedException     if interrupted on entry or while waiting (no permit is consumed)
     * @throws IllegalArgumentException if {@code permits} is less than 1 or more than {@link #capacity()}
     */
    void acquire(int permits) throws InterruptedException;

    /**
     * Asks for {@code permits} without blocking: the future completes (normally, with {@code null}) when they are
     * granted, in the same FIFO order as blocking waiters. It is completed by the caller if the permits are
     * available at once, otherwise by the limiter's pump thread, so dependent stages not run through an
     * {@code ...Async} method run there: keep them short. Cancelling the future before it is granted gives the
     * place up without consuming permits.
     *
     * @throws IllegalArgumentException if {@code permits} is less than 1 or more than {@link #capacity()}
     */
    CompletableFuture<Void> acquireAsync(int permits);

    /** The permits a {@link #tryAcquire(int)} could take at this instant if nobody were waiting (a snapshot). */
    long availablePermits();

    /** The most permits ever admitted at one instant: the bucket's burst, or the window's limit. */
    int capacity();

    /** The number of waiters (blocking and asynchronous) at this instant (a snapshot). */
    int queueLength();
}

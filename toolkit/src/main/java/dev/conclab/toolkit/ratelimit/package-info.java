/**
 * Rate limiting: admit work at a bounded rate, with bursts, for one resource or per key.
 *
 * <p>{@link dev.conclab.toolkit.ratelimit.RateLimiter} is the one interface: a
 * {@link dev.conclab.toolkit.ratelimit.TokenBucketLimiter token bucket} (steady rate plus a burst) or a
 * {@link dev.conclab.toolkit.ratelimit.SlidingWindowLimiter sliding-window log} (at most N per window), each with
 * a non-blocking {@code tryAcquire}, a blocking {@code acquire} and an asynchronous {@code acquireAsync}.
 * {@link dev.conclab.toolkit.ratelimit.KeyedRateLimiter} holds one limiter per key and evicts idle ones.
 * Time comes from an injectable {@link dev.conclab.toolkit.ratelimit.Ticker}, so tests drive it exactly.
 *
 * <p>Shared rules of the package:
 * <ul>
 *   <li><b>Fairness.</b> Waiters are served first-in first-out and {@code tryAcquire} never overtakes them.</li>
 *   <li><b>Interruption.</b> A blocking call interrupted while it waits throws
 *       {@link java.lang.InterruptedException}, clears the interrupt status and consumes no permit.</li>
 *   <li><b>Threads.</b> No monitor is held and no thread spins: waiters park, and one virtual thread per limiter
 *       with waiters admits them in turn.</li>
 *   <li><b>Bad input.</b> A rate, burst, limit, window or permit count out of range throws
 *       {@link java.lang.IllegalArgumentException} naming the parameter.</li>
 * </ul>
 * The JDK has no rate limiter; {@link java.util.concurrent.Semaphore} bounds concurrency (how many at once), not
 * rate (how many per second).
 */
package dev.conclab.toolkit.ratelimit;

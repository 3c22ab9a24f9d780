package dev.conclab.crawl.crawler;

/**
 * Per-host politeness: how long a request to a host must wait so that the host sees no more than its rate.
 * Implementations are thread-safe. A reservation is taken when the caller commits to send; the caller then waits the
 * returned time (a sleep on a blocking model, a delayed stage on the async one), so no thread is needed per waiter.
 *
 * <p>The crawler's own implementation is {@link IntervalHostLimiter}; the toolkit's production limiter
 * ({@code dev.conclab.toolkit.ratelimit}) is meant to be adapted behind this interface.
 */
public interface HostRateLimiter {

    /** Reserves the next slot for {@code hostKey} and returns the nanoseconds to wait before sending (≥ 0). */
    long reserveNanos(String hostKey);

    /** Holds every request to {@code hostKey} for at least {@code nanos} from now (a 429's Retry-After). */
    void pause(String hostKey, long nanos);
}

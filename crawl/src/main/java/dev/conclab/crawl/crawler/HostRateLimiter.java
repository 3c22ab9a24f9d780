package dev.conclab.crawl.crawler;

import dev.conclab.toolkit.ratelimit.Ticker;

import java.util.concurrent.CompletableFuture;

/**
 * Per-host politeness: admits each request to a host at the moment it is sent, so that the host never sees more than
 * {@code rate} requests per second plus {@code burst}. Keys are {@link UrlNormalizer#hostKey host keys}; hosts are
 * independent of each other.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread at any time.
 *
 * <p><b>Contract.</b> A caller sends its request <em>immediately</em> after {@link #acquire} returns or the future
 * of {@link #acquireAsync} completes, with no wait in between: the admission is the send. Over any interval of
 * length {@code t}, at most {@code burst + rate × t} admissions happen for one host (measured at the admission
 * instants, whatever the scheduling delays inside the wait), and none during a {@link #pause}.
 *
 * <p><b>Blocking.</b> {@link #acquire} parks (virtual-thread friendly) and is interruptible; {@link #acquireAsync}
 * holds no thread while it waits.
 */
public interface HostRateLimiter {

    /**
     * Blocks until a request to {@code hostKey} may be sent now.
     *
     * @throws InterruptedException if interrupted while waiting (nothing is consumed)
     */
    void acquire(String hostKey) throws InterruptedException;

    /**
     * Completes (normally) when a request to {@code hostKey} may be sent; the request is sent by the stage that
     * depends on it, at once. Cancelling the future gives up the place.
     */
    CompletableFuture<Void> acquireAsync(String hostKey);

    /** Holds every request to {@code hostKey} for at least {@code nanos} from now (a 429's Retry-After). */
    void pause(String hostKey, long nanos);

    /** No limit: every request is admitted at once (a pause is still honoured). */
    static HostRateLimiter unlimited() {
        return new TokenBucketHostLimiter(0, 1, Ticker.system());
    }

    /**
     * The crawler's limiter: the toolkit's token bucket per host at {@code perSecond} with {@code burst}, checked
     * again at send time (see {@link TokenBucketHostLimiter}).
     *
     * @param perSecond requests per second per host, 0 for no limit
     * @param burst     requests admitted at one instant after an idle spell (1: strictly spaced)
     * @throws IllegalArgumentException if the rate is negative, not finite or above 10⁹, or the burst below 1
     */
    static HostRateLimiter perHost(double perSecond, int burst) {
        return new TokenBucketHostLimiter(perSecond, burst, Ticker.system());
    }
}

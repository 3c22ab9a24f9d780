package dev.conclab.crawl.site;

import java.time.Duration;
import java.util.Objects;

/**
 * What the test site serves and how it misbehaves. Immutable; every {@code with...} method returns a copy and checks
 * its argument, throwing {@link IllegalArgumentException} with a message that names the bad value.
 *
 * @param pages             number of linked pages, {@code /page/0} to {@code /page/(pages-1)}
 * @param seed              the seed of the link graph and of the injected faults: the same seed, the same site
 * @param latency           added before every response (scheduled, never a blocked thread)
 * @param jitter            up to this much more, uniformly at random
 * @param errorRate         the probability that a {@code /page/} request answers 503
 * @param slowRate          the probability that a {@code /page/} request is delayed by {@code slowDelay} more
 * @param slowDelay         the extra delay of a slow response (and of every {@code /slow/} page)
 * @param rateLimit         requests per second allowed per client address; 0 means no limit
 * @param retryAfterSeconds the Retry-After of a 429 answer
 * @param traps             whether some pages also link to the bad inputs (external, non-HTTP, malformed, broken,
 *                          redirect loop and chain, huge, binary, flaky, slow and robots-disallowed links)
 * @param hugeBytes         the size of a {@code /huge/} page
 * @param port              the port to listen on, 0 for any free port
 * @param ioThreads         the server's event-loop threads
 * @param recordRequests    whether every request is logged (time, path, status) for tests
 */
public record SiteConfig(int pages, long seed, Duration latency, Duration jitter, double errorRate, double slowRate,
                         Duration slowDelay, int rateLimit, int retryAfterSeconds, boolean traps, int hugeBytes,
                         int port, int ioThreads, boolean recordRequests) {

    /** The largest site: its pages are cached in memory (about half a kilobyte each). */
    public static final int MAX_PAGES = 2_000_000;

    public SiteConfig {
        check(pages >= 1 && pages <= MAX_PAGES, "pages must be in 1.." + MAX_PAGES + ", got " + pages);
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(jitter, "jitter");
        Objects.requireNonNull(slowDelay, "slowDelay");
        check(!latency.isNegative() && latency.toSeconds() < 3600, "latency must be in 0..1h, got " + latency);
        check(!jitter.isNegative() && jitter.toSeconds() < 3600, "jitter must be in 0..1h, got " + jitter);
        check(!slowDelay.isNegative() && slowDelay.toSeconds() < 3600, "slow delay must be in 0..1h, got " + slowDelay);
        check(errorRate >= 0 && errorRate <= 1, "error rate must be in 0..1, got " + errorRate);
        check(slowRate >= 0 && slowRate <= 1, "slow rate must be in 0..1, got " + slowRate);
        check(rateLimit >= 0, "rate limit must be >= 0 (0 = none), got " + rateLimit);
        check(retryAfterSeconds >= 0 && retryAfterSeconds <= 3600,
                "Retry-After must be in 0..3600 seconds, got " + retryAfterSeconds);
        check(hugeBytes >= 1024 && hugeBytes <= 256 << 20, "huge page size must be in 1 KiB..256 MiB, got " + hugeBytes);
        check(port >= 0 && port <= 65535, "port must be in 0..65535, got " + port);
        check(ioThreads >= 1 && ioThreads <= 256, "io threads must be in 1..256, got " + ioThreads);
    }

    /** A well-behaved site of {@code pages} pages: no latency, no faults, no traps, no rate limit, any port. */
    public static SiteConfig of(int pages) {
        return new SiteConfig(pages, 42, Duration.ZERO, Duration.ZERO, 0, 0, Duration.ofSeconds(2), 0, 1, false,
                4 << 20, 0, Math.max(1, Runtime.getRuntime().availableProcessors()), false);
    }

    public SiteConfig withSeed(long seed) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withLatency(Duration latency, Duration jitter) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withErrorRate(double errorRate) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withSlow(double slowRate, Duration slowDelay) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withRateLimit(int perSecond, int retryAfterSeconds) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, perSecond,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withTraps(boolean traps) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withHugeBytes(int hugeBytes) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withPort(int port) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withIoThreads(int ioThreads) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    public SiteConfig withRecordRequests(boolean recordRequests) {
        return new SiteConfig(pages, seed, latency, jitter, errorRate, slowRate, slowDelay, rateLimit,
                retryAfterSeconds, traps, hugeBytes, port, ioThreads, recordRequests);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}

package dev.conclab.crawl.crawler;

import java.time.Duration;
import java.util.Objects;

/**
 * How a crawl runs. Immutable; the canonical constructor checks every value and throws
 * {@link IllegalArgumentException} naming the bad one; {@code with...} methods return checked copies.
 *
 * @param concurrency     the most fetches in flight at once (pages, their retries and redirects included)
 * @param perHostRate     requests per second to any one host, 0 for no limit
 * @param maxPages        the most pages dispatched for fetching
 * @param maxDepth        links further than this many hops from a seed are not followed
 * @param model           the fetch model
 * @param connectTimeout  the TCP connect timeout
 * @param readTimeout     the time allowed from sending a request to its response headers
 * @param maxBodyBytes    a larger body is abandoned (the connection is dropped) and counted as too large
 * @param maxRedirects    more hops than this are counted as too many redirects
 * @param maxRetries      retries after a 5xx, a timeout or a connection error (with back-off and jitter)
 * @param maxThrottled    retries after a 429 (each after its Retry-After)
 * @param backoffBase     the first back-off; each retry doubles it, up to {@code backoffMax}
 * @param backoffMax      the longest back-off
 * @param maxRetryAfter   a longer Retry-After is cut to this
 * @param sameHostOnly    follow links only to the seeds' hosts
 * @param obeyRobots      fetch and obey robots.txt
 * @param userAgent       the User-Agent sent and matched in robots.txt
 */
public record CrawlConfig(int concurrency, double perHostRate, int maxPages, int maxDepth, ModelKind model,
                          Duration connectTimeout, Duration readTimeout, int maxBodyBytes, int maxRedirects,
                          int maxRetries, int maxThrottled, Duration backoffBase, Duration backoffMax,
                          Duration maxRetryAfter, boolean sameHostOnly, boolean obeyRobots, String userAgent) {

    public CrawlConfig {
        check(concurrency >= 1 && concurrency <= 100_000, "concurrency must be in 1..100000, got " + concurrency);
        check(perHostRate >= 0 && perHostRate <= 1e9, "per-host rate must be in 0..1e9 (0 = no limit), got "
                + perHostRate);
        check(maxPages >= 1, "max pages must be >= 1, got " + maxPages);
        check(maxDepth >= 0, "depth must be >= 0, got " + maxDepth);
        Objects.requireNonNull(model, "model");
        positive(connectTimeout, "connect timeout");
        positive(readTimeout, "read timeout");
        check(maxBodyBytes >= 1024, "max body must be >= 1024 bytes, got " + maxBodyBytes);
        check(maxRedirects >= 0 && maxRedirects <= 100, "max redirects must be in 0..100, got " + maxRedirects);
        check(maxRetries >= 0 && maxRetries <= 100, "max retries must be in 0..100, got " + maxRetries);
        check(maxThrottled >= 0 && maxThrottled <= 100, "max 429 retries must be in 0..100, got " + maxThrottled);
        positive(backoffBase, "back-off base");
        positive(backoffMax, "back-off max");
        positive(maxRetryAfter, "max Retry-After");
        Objects.requireNonNull(userAgent, "userAgent");
        check(!userAgent.isBlank(), "user agent must not be blank");
    }

    /** Defaults: 16 in flight, no per-host limit, 1,000 pages, depth 10, virtual threads, 5 s timeouts, 1 MiB. */
    public static CrawlConfig defaults() {
        return new CrawlConfig(16, 0, 1000, 10, ModelKind.VIRTUAL, Duration.ofSeconds(5), Duration.ofSeconds(5),
                1 << 20, 5, 3, 3, Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofSeconds(30), true, true,
                "conclab-crawler/0.1");
    }

    public CrawlConfig withConcurrency(int v) {
        return new CrawlConfig(v, perHostRate, maxPages, maxDepth, model, connectTimeout, readTimeout, maxBodyBytes,
                maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    public CrawlConfig withPerHostRate(double v) {
        return new CrawlConfig(concurrency, v, maxPages, maxDepth, model, connectTimeout, readTimeout, maxBodyBytes,
                maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    public CrawlConfig withMaxPages(int v) {
        return new CrawlConfig(concurrency, perHostRate, v, maxDepth, model, connectTimeout, readTimeout, maxBodyBytes,
                maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    public CrawlConfig withMaxDepth(int v) {
        return new CrawlConfig(concurrency, perHostRate, maxPages, v, model, connectTimeout, readTimeout, maxBodyBytes,
                maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    public CrawlConfig withModel(ModelKind v) {
        return new CrawlConfig(concurrency, perHostRate, maxPages, maxDepth, v, connectTimeout, readTimeout,
                maxBodyBytes, maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter,
                sameHostOnly, obeyRobots, userAgent);
    }

    public CrawlConfig withTimeouts(Duration connect, Duration read) {
        return new CrawlConfig(concurrency, perHostRate, maxPages, maxDepth, model, connect, read, maxBodyBytes,
                maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    public CrawlConfig withMaxBodyBytes(int v) {
        return new CrawlConfig(concurrency, perHostRate, maxPages, maxDepth, model, connectTimeout, readTimeout, v,
                maxRedirects, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    public CrawlConfig withRetries(int retries, int throttled, Duration base, Duration max) {
        return new CrawlConfig(concurrency, perHostRate, maxPages, maxDepth, model, connectTimeout, readTimeout,
                maxBodyBytes, maxRedirects, retries, throttled, base, max, maxRetryAfter, sameHostOnly, obeyRobots,
                userAgent);
    }

    public CrawlConfig withMaxRedirects(int v) {
        return new CrawlConfig(concurrency, perHostRate, maxPages, maxDepth, model, connectTimeout, readTimeout,
                maxBodyBytes, v, maxRetries, maxThrottled, backoffBase, backoffMax, maxRetryAfter, sameHostOnly,
                obeyRobots, userAgent);
    }

    private static void positive(Duration d, String what) {
        Objects.requireNonNull(d, what);
        check(d.isPositive(), what + " must be positive, got " + d);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}

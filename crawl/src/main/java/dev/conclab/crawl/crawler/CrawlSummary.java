package dev.conclab.crawl.crawler;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.net.URI;

/**
 * What a crawl did. Immutable.
 *
 * @param model      the fetch model used
 * @param pages      HTML pages fetched and parsed
 * @param requests   HTTP requests sent (robots.txt, redirects and retries included)
 * @param retries    retries after 5xx, timeouts or connection errors
 * @param throttled  429 answers honoured
 * @param links      links seen on pages
 * @param errors     failures and skips by kind
 * @param elapsed    wall time
 * @param p50Micros  request latency percentiles, microseconds
 * @param stopped    whether the crawl was stopped or cancelled before it ran out of work
 * @param fetched    the normalized URLs whose pages were fetched
 */
public record CrawlSummary(ModelKind model, long pages, long requests, long retries, long throttled, long links,
                           Map<ErrorKind, Long> errors, Duration elapsed, long p50Micros, long p90Micros,
                           long p99Micros, long maxMicros, boolean stopped, Set<URI> fetched) {

    /** Pages per second of wall time. */
    public double pagesPerSecond() {
        double s = elapsed.toNanos() / 1e9;
        return s == 0 ? 0 : pages / s;
    }

    /** Failures and skips of every kind. */
    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** A few lines for a terminal. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append(String.format("model %s: %,d pages in %.2f s (%,.0f pages/s), %,d requests, %,d retries, %,d 429s%s%n",
                model.label(), pages, elapsed.toNanos() / 1e9, pagesPerSecond(), requests, retries, throttled,
                stopped ? " (stopped early)" : ""));
        out.append(String.format("latency  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms%n",
                p50Micros / 1e3, p90Micros / 1e3, p99Micros / 1e3, maxMicros / 1e3));
        if (errors.isEmpty()) {
            out.append("errors   none\n");
        } else {
            out.append("errors  ");
            errors.forEach((k, v) -> out.append(' ').append(k.label()).append('=').append(v));
            out.append('\n');
        }
        return out.toString();
    }
}

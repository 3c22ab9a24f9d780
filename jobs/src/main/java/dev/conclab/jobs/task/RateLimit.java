package dev.conclab.jobs.task;

/**
 * A task's rate limit: a token bucket of {@code burst} permits refilled at {@code permitsPerSecond}, held by the
 * broker so that it binds all workers together (Celery's {@code rate_limit} is per worker instance; this one is
 * not). Immutable.
 *
 * @param permitsPerSecond the refill rate, greater than 0
 * @param burst            the bucket's size, at least 1
 */
public record RateLimit(double permitsPerSecond, int burst) {
    public RateLimit {
        if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
            throw new IllegalArgumentException("permitsPerSecond must be finite and > 0, was " + permitsPerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be >= 1, was " + burst);
        }
    }
}

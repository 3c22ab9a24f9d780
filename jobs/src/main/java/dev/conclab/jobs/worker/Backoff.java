package dev.conclab.jobs.worker;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential back-off with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"; Celery's
 * {@code retry_backoff} with {@code retry_jitter=True}): the delay before retry {@code n} (0-based) is drawn
 * uniformly from {@code [0, min(cap, base × 2^n)]}, so retries of many failed tasks spread out instead of
 * arriving together. Stateless; safe from any thread.
 */
public final class Backoff {

    private Backoff() {
    }

    /** The largest delay for retry {@code attempt}: {@code min(cap, base × 2^attempt)}, without overflow. */
    public static long ceilingMillis(Duration base, Duration cap, int attempt) {
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must be >= 0, was " + attempt);
        }
        long b = base.toMillis();
        long c = cap.toMillis();
        if (b <= 0) {
            return 0;
        }
        if (attempt >= 62 || b > (c >> Math.min(attempt, 62))) {
            return c;
        }
        return Math.min(c, b << attempt);
    }

    /** A delay drawn from {@code [0, ceilingMillis]}. */
    public static long delayMillis(Duration base, Duration cap, int attempt) {
        long ceiling = ceilingMillis(base, cap, attempt);
        return ceiling == 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling + 1);
    }
}

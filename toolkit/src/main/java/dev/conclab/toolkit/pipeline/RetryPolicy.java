package dev.conclab.toolkit.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * How a stage retries an item whose call failed: at most {@code maxAttempts} calls in all, the first one included
 * (as Resilience4j's {@code maxAttempts} and Guava Retryer's {@code stopAfterAttempt}), with an exponential backoff
 * between them. Immutable, and thread-safe if {@code retryable} is (the stage's workers call it concurrently);
 * the {@code with...} and {@code retry...} methods return copies.
 *
 * <p>The wait before retry {@code n} (1 for the second call) is at most {@code min(cap, base × 2^(n-1))}, its
 * <em>ceiling</em>, and is drawn with the {@link Jitter}: {@code FULL} uniformly from {@code [0, ceiling]} (Celery's
 * {@code retry_jitter}, the AWS "full jitter"), {@code EQUAL} from {@code [ceiling/2, ceiling]}, {@code NONE} exactly
 * the ceiling. {@link #minDelay(int)} and {@link #maxDelay(int)} give those bounds.
 *
 * <p>Only exceptions {@code retryable} accepts are retried; an {@link InterruptedException} never is, whatever the
 * predicate says, because an interrupt asks the item to stop. A stage's per-item timeout fails the attempt with a
 * {@link java.util.concurrent.TimeoutException}, retried if the predicate accepts it.
 *
 * @param maxAttempts the most calls per item, the first one included, at least 1 (1: no retry)
 * @param base        the ceiling of the first wait, zero or more
 * @param cap         the largest ceiling of any wait, at least {@code base}
 * @param jitter      how a wait is drawn below its ceiling
 * @param retryable   which failures are retried (never an {@link InterruptedException})
 */
public record RetryPolicy(int maxAttempts, Duration base, Duration cap, Jitter jitter,
                          Predicate<? super Exception> retryable) {

    /** How a wait is drawn below its ceiling (names from the AWS blog "Exponential Backoff And Jitter"). */
    public enum Jitter {
        /** Exactly the ceiling: retries of items that failed together come back together. */
        NONE,
        /** Uniform in {@code [0, ceiling]}: spreads retries the most (the default). */
        FULL,
        /** Uniform in {@code [ceiling/2, ceiling]}: spread, yet never shorter than half the ceiling. */
        EQUAL
    }

    private static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO, Jitter.NONE, e -> false);

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1 (the first call counts), got "
                    + maxAttempts);
        }
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(cap, "cap");
        Objects.requireNonNull(jitter, "jitter");
        Objects.requireNonNull(retryable, "retryable");
        if (base.isNegative()) {
            throw new IllegalArgumentException("base backoff must not be negative, got " + base);
        }
        if (cap.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff cap must be at least the base " + base + ", got " + cap);
        }
    }

    /** No retry: one call per item. The default of every stage. */
    public static RetryPolicy none() {
        return NONE;
    }

    /**
     * Up to {@code maxAttempts} calls per item, retrying every exception but an interrupt, with full jitter below
     * {@code min(cap, base × 2^(n-1))} before retry {@code n}.
     *
     * @throws IllegalArgumentException if {@code maxAttempts < 1}, {@code base} is negative or {@code cap < base}
     */
    public static RetryPolicy exponential(int maxAttempts, Duration base, Duration cap) {
        return new RetryPolicy(maxAttempts, base, cap, Jitter.FULL, e -> true);
    }

    /** A copy drawing its waits with {@code j}. */
    public RetryPolicy withJitter(Jitter j) {
        return new RetryPolicy(maxAttempts, base, cap, j, retryable);
    }

    /** A copy retrying only exceptions of the given types and their subtypes (Celery's {@code autoretry_for}). */
    @SafeVarargs
    public final RetryPolicy retryOn(Class<? extends Exception>... types) {
        List<Class<? extends Exception>> list = List.of(types);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("retryOn needs at least one exception type");
        }
        return retryIf(e -> list.stream().anyMatch(t -> t.isInstance(e)));
    }

    /** A copy retrying the exceptions {@code predicate} accepts. */
    public RetryPolicy retryIf(Predicate<? super Exception> predicate) {
        return new RetryPolicy(maxAttempts, base, cap, jitter, predicate);
    }

    /** Whether a call that failed with {@code e} may be retried (attempts left aside); never for an interrupt. */
    public boolean retries(Exception e) {
        return !(e instanceof InterruptedException) && retryable.test(e);
    }

    /** The ceiling of the wait before retry {@code n} (1-based): {@code min(cap, base × 2^(n-1))}, saturating. */
    public Duration maxDelay(int n) {
        return Duration.ofNanos(ceilingNanos(n));
    }

    /** The shortest wait before retry {@code n} (1-based) that the jitter can draw. */
    public Duration minDelay(int n) {
        long c = ceilingNanos(n);
        return Duration.ofNanos(switch (jitter) {
            case NONE -> c;
            case FULL -> 0;
            case EQUAL -> c / 2;
        });
    }

    /** A wait before retry {@code n} (1-based), drawn between {@link #minDelay(int)} and {@link #maxDelay(int)}. */
    public Duration delay(int n) {
        return Duration.ofNanos(delayNanos(n, ThreadLocalRandom.current()));
    }

    long delayNanos(int n, RandomGenerator random) {
        long c = ceilingNanos(n);
        long floor = minDelay(n).toNanos();
        return Math.min(c, floor + (long) (random.nextDouble() * (c - floor + 1.0)));
    }

    private long ceilingNanos(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("retry number must be at least 1, got " + n);
        }
        long b = saturatedNanos(base);
        long c = saturatedNanos(cap);
        int shift = n - 1;
        if (b == 0) {
            return 0;
        }
        if (shift >= 62 || b > (c >> shift)) {
            return c;
        }
        return Math.min(c, b << shift);
    }

    private static long saturatedNanos(Duration d) {
        return d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
    }
}

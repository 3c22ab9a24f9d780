package dev.conclab.toolkit.ratelimit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket with burst, kept as one {@code long}: the <em>theoretical arrival time</em> of the generic cell
 * rate algorithm (GCRA). Each permit costs {@code interval = 1 s / rate} of schedule; {@code tat} is the instant by
 * which every permit granted so far would have been paid for at the steady rate. A request for {@code n} permits at
 * {@code now} is admitted iff {@code max(tat, now) + n × interval − now ≤ burst × interval}, i.e. iff the bucket
 * holds {@code n} tokens, where the bucket holds {@code burst − (tat − now) / interval} (all {@code burst} when
 * {@code tat ≤ now}).
 *
 * <p><b>Burst, exactly.</b> The bucket is full at creation and after {@code burst × interval} of idleness: then up
 * to {@code burst} permits are admitted at one instant. Over any interval of length {@code t}, at most
 * {@code burst + t / interval} permits are admitted, never more; no tokens accumulate beyond {@code burst}.
 *
 * <p><b>Resolution.</b> The interval is a whole number of nanoseconds ({@code round(10⁹ / rate)}), so the
 * effective rate is {@code 10⁹ / interval}: within 0.05 % of the configured rate up to 10⁶ permits per second.
 * Rates above 10⁹ per second are refused.
 *
 * <p>Admission is lock-free: a refused {@code tryAcquire} reads {@code tat} and returns; an admitted one
 * compare-and-sets it. Waiting and ordering are as described in {@link RateLimiter}. This is the habit of Guava's
 * {@code SmoothBursty} (stored permits refilled by elapsed time) without its lock and without its "pay later"
 * reservations, which would let a cancelled reservation leave a hole in the schedule.
 */
public final class TokenBucketLimiter extends QueuedLimiter implements RateLimiter {

    private static final double MAX_RATE = 1e9;
    /** The value of {@code tat} once sealed (retired by {@link KeyedRateLimiter}); never a schedule reached. */
    private static final long SEALED = Long.MIN_VALUE;

    private final long interval;
    private final int burst;
    private final long capacityNanos;
    private final AtomicLong tat;

    TokenBucketLimiter(double permitsPerSecond, int burst, Ticker ticker) {
        super(ticker);
        if (!(permitsPerSecond > 0) || permitsPerSecond > MAX_RATE || Double.isInfinite(permitsPerSecond)) {
            throw new IllegalArgumentException("permitsPerSecond must be positive and at most 1e9, got "
                    + permitsPerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1, got " + burst);
        }
        this.interval = Math.max(1, Math.round(1e9 / permitsPerSecond));
        this.burst = burst;
        this.capacityNanos = Math.multiplyExact(interval, (long) burst);
        this.tat = new AtomicLong(ticker.read());
    }

    @Override
    boolean tryTake(int permits, long now) {
        long cost = permits * interval;
        while (true) {
            long current = tat.get();
            long next = (current - now > 0 ? current : now) + cost;
            if (next - now > capacityNanos || current == SEALED) {
                return false;                       // refused: nothing written
            }
            if (tat.compareAndSet(current, next)) {
                return true;
            }
        }
    }

    @Override
    long nanosUntil(int permits, long now) {
        long current = tat.get();
        long next = (current - now > 0 ? current : now) + permits * interval;
        return Math.max(0, next - capacityNanos - now);
    }

    @Override
    boolean seal() {
        while (true) {
            long current = tat.get();
            if (current == SEALED || current - ticker.read() > 0) {
                return false;                       // not full: some permits are still being paid for
            }
            if (tat.compareAndSet(current, SEALED)) {
                return true;
            }
        }
    }

    @Override
    boolean sealed() {
        return tat.get() == SEALED;
    }

    @Override
    public long availablePermits() {
        long current = tat.get();
        if (current == SEALED) {
            return successor().availablePermits();
        }
        long debt = current - ticker.read();
        return debt <= 0 ? burst : (capacityNanos - debt) / interval;
    }

    @Override
    public int capacity() {
        return burst;
    }

    /** The time between permits at the steady rate, in nanoseconds. */
    public long intervalNanos() {
        return interval;
    }

    @Override
    public String toString() {
        return "TokenBucketLimiter[rate=" + (1e9 / interval) + "/s, burst=" + burst + ", available="
                + availablePermits() + ", waiting=" + queueLength() + "]";
    }
}

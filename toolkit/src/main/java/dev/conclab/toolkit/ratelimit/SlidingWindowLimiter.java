package dev.conclab.toolkit.ratelimit;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.StampedLock;

/**
 * A sliding-window log: at most {@code limit} permits in any interval of length {@code window}. It keeps the
 * admission time of the last {@code limit} permits in a ring; {@code n} more permits fit at {@code now} iff the
 * permit that would become the {@code (limit + 1)}-th most recent was admitted at least {@code window} ago. A
 * permit admitted at {@code t} therefore counts in every window that contains {@code t} and stops counting at
 * exactly {@code t + window}: no approximation at the edges, unlike a two-bucket sliding-window counter, at the
 * price of {@code 8 × limit} bytes.
 *
 * <p>Unlike the token bucket, permits return in the same pattern they left: {@code limit} permits taken at one
 * instant all come back together one window later.
 *
 * <p>Decisions read the ring under a {@link StampedLock} optimistic read, which writes nothing, so a refused
 * {@code tryAcquire} writes nothing shared; admissions take the write lock. Waiting and ordering are as described
 * in {@link RateLimiter}.
 */
public final class SlidingWindowLimiter extends QueuedLimiter implements RateLimiter {

    private final int limit;
    private final long windowNanos;
    private final StampedLock stamped = new StampedLock();
    private final long[] times;  // times[i % limit] = admission time of permit i; written under the write lock
    private long count;          // permits admitted so far; written under the write lock
    private long last;           // the latest admission time, to keep the log ordered under a racy ticker
    private volatile boolean isSealed; // set once under the write lock: retired, admits nothing

    SlidingWindowLimiter(int limit, Duration window, Ticker ticker) {
        super(ticker);
        Objects.requireNonNull(window, "window");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive, got " + window);
        }
        this.limit = limit;
        this.windowNanos = window.toNanos();
        this.times = new long[limit];
    }

    @Override
    boolean tryTake(int permits, long now) {
        for (int attempt = 0; attempt < 4; attempt++) {
            long stamp = stamped.tryOptimisticRead();
            boolean fits = fits(permits, now, count);
            if (stamped.validate(stamp)) {
                if (!fits) {
                    return false;                   // refused: nothing written
                }
                break;
            }
        }
        long stamp = stamped.writeLock();
        try {
            long at = Math.max(now, last);
            if (isSealed || !fits(permits, at, count)) {
                return false;
            }
            for (int i = 0; i < permits; i++) {
                times[(int) ((count + i) % limit)] = at;
            }
            count += permits;
            last = at;
            return true;
        } finally {
            stamped.unlockWrite(stamp);
        }
    }

    /** Whether {@code permits} more fit at {@code now} after {@code admitted} permits (may read torn data). */
    private boolean fits(int permits, long now, long admitted) {
        long evicted = admitted + permits - 1 - limit;  // the permit that must have left the window
        return evicted < 0 || now - times[(int) (evicted % limit)] >= windowNanos;
    }

    @Override
    boolean seal() {
        long now = ticker.read();
        long stamp = stamped.writeLock();
        try {
            if (isSealed || (count > 0 && now - times[(int) ((count - 1) % limit)] < windowNanos)) {
                return false;                       // some permit still counts in the window
            }
            isSealed = true;
            return true;
        } finally {
            stamped.unlockWrite(stamp);
        }
    }

    @Override
    boolean sealed() {
        return isSealed;
    }

    @Override
    long nanosUntil(int permits, long now) {
        long stamp = stamped.readLock();
        try {
            long evicted = count + permits - 1 - limit;
            return evicted < 0 ? 0 : Math.max(0, windowNanos - (now - times[(int) (evicted % limit)]));
        } finally {
            stamped.unlockRead(stamp);
        }
    }

    @Override
    public long availablePermits() {
        if (isSealed) {
            return successor().availablePermits();
        }
        long now = ticker.read();
        long stamp = stamped.readLock();
        try {
            int inWindow = 0;
            for (long i = count - 1; i >= 0 && i >= count - limit; i--) {
                if (now - times[(int) (i % limit)] >= windowNanos) {
                    break;
                }
                inWindow++;
            }
            return limit - inWindow;
        } finally {
            stamped.unlockRead(stamp);
        }
    }

    @Override
    public int capacity() {
        return limit;
    }

    @Override
    public String toString() {
        return "SlidingWindowLimiter[limit=" + limit + ", window=" + Duration.ofNanos(windowNanos) + ", available="
                + availablePermits() + ", waiting=" + queueLength() + "]";
    }
}

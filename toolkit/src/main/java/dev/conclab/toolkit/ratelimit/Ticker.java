package dev.conclab.toolkit.ratelimit;

import java.util.concurrent.locks.LockSupport;

/**
 * The time source of a {@link RateLimiter}: a monotonic reading in nanoseconds, and a way to wait for it to
 * advance. {@link #system()} is {@link System#nanoTime()} with {@link LockSupport#parkNanos(Object, long)}; tests
 * inject a fake whose time moves only when told, so admission counts are exact and no test sleeps.
 *
 * <p>A lambda over a {@code LongSupplier} of nanoseconds is a valid ticker ({@code Ticker t = clock::nanos}); its
 * {@link #parkNanos} then waits in real time, which is correct only if the supplier follows real time. A fake
 * ticker must also override {@link #parkNanos} so that a parked thread returns once the fake time has moved past
 * the deadline (or earlier: callers re-check).
 *
 * <p>Implementations must be thread-safe; readings are compared by subtraction, as with {@code System.nanoTime},
 * so only differences matter.
 */
@FunctionalInterface
public interface Ticker {

    /** The current time in nanoseconds, from an arbitrary origin; never goes backwards. */
    long read();

    /**
     * Parks the calling thread for up to {@code nanos} of this ticker's time. May return earlier: on
     * {@link LockSupport#unpark}, on interrupt, or spuriously; the caller re-checks its condition. The default
     * parks in real time.
     *
     * @param blocker the object the thread waits for, shown by thread dumps
     * @param nanos   the longest wait, in this ticker's nanoseconds
     */
    default void parkNanos(Object blocker, long nanos) {
        LockSupport.parkNanos(blocker, nanos);
    }

    /** {@link System#nanoTime()}, parking in real time. */
    static Ticker system() {
        return System::nanoTime;
    }
}

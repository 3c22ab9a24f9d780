package dev.conclab.jobs.broker.redis;

import java.time.Duration;

/**
 * Doubling waits between reconnection attempts, from {@code first} up to {@code cap}, reset after a success. Not
 * thread-safe: one per waiting call.
 */
final class CappedBackoff {

    private final long firstMillis;
    private final long capMillis;
    private long nextMillis;

    CappedBackoff(Duration first, Duration cap) {
        this.firstMillis = first.toMillis();
        this.capMillis = cap.toMillis();
        this.nextMillis = firstMillis;
    }

    /** Sleeps the next wait, but not past {@code deadlineNanos}. */
    void pause(long deadlineNanos) throws InterruptedException {
        long left = Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
        Thread.sleep(Math.min(nextMillis, left));
        nextMillis = Math.min(capMillis, nextMillis * 2);
    }

    void reset() {
        nextMillis = firstMillis;
    }
}

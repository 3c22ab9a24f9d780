package dev.conclab.jobs.broker.sqlite;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.sqlite.BusyHandler;

/**
 * What a connection does when another connection (of this JVM or another process) holds the file's write lock:
 * retry after a short wait, starting at a few microseconds and doubling to at most {@value #MAX_PAUSE_MICROS} µs,
 * until the busy timeout has passed. SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries,
 * so a writer that finds the lock taken for 100 µs waits milliseconds; with several workers committing small
 * transactions that idle time, not the disk, bounded throughput.
 *
 * <p>Called by SQLite on the thread running the statement, which holds its store's lock, so one connection's
 * handler never runs on two threads at once.
 */
final class ShortWaitBusyHandler extends BusyHandler {
    static final long MAX_PAUSE_MICROS = 1_000;

    private final long timeoutNanos;
    private long firstBusyAt;

    ShortWaitBusyHandler(long timeoutMillis) {
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    /** @param attempts how many times SQLite already called this for the current lock request (0 the first) */
    @Override
    protected int callback(int attempts) {
        long now = System.nanoTime();
        if (attempts == 0) {
            firstBusyAt = now;
        } else if (now - firstBusyAt >= timeoutNanos) {
            return 0; // give up: the statement fails with SQLITE_BUSY
        }
        if (attempts < 4) {
            Thread.onSpinWait();
            Thread.yield();
        } else {
            long micros = Math.min(MAX_PAUSE_MICROS, 5L << Math.min(attempts - 4, 10));
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(micros));
        }
        return 1;
    }
}

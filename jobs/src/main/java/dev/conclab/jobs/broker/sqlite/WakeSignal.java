package dev.conclab.jobs.broker.sqlite;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes the consumers blocked in {@link SqliteBroker#reserve} when a broker of the same JVM commits something
 * deliverable to the same file. One signal per file (by canonical path), shared by every broker instance of this
 * JVM; other processes are not signalled (their consumers poll). Thread-safe; a wait is interruptible.
 *
 * <p>A waiter reads {@link #version()} before it looks for work and waits only while the version is unchanged, so
 * a commit between its look and its wait is never missed.
 */
final class WakeSignal {
    private static final Map<String, WakeSignal> BY_FILE = new ConcurrentHashMap<>();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long version;

    static WakeSignal forFile(String canonicalPath) {
        return BY_FILE.computeIfAbsent(canonicalPath, p -> new WakeSignal());
    }

    long version() {
        lock.lock();
        try {
            return version;
        } finally {
            lock.unlock();
        }
    }

    void signal() {
        lock.lock();
        try {
            version++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the version moves past {@code seen} or the time passes; returns whether it moved. */
    boolean awaitChange(long seen, long nanos) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long left = nanos;
            while (version == seen) {
                if (left <= 0) {
                    return false;
                }
                left = changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    static long millisToNanos(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(Math.max(0, millis));
    }
}

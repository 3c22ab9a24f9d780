package dev.conclab.toolkit.pipeline;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Puts the results of an ordered stage's workers back in input order. Workers take a permit of the window before
 * taking an item and get a sequence number with it; a finished result waits here until every earlier one has left.
 * The permit is returned when the result leaves, so at most {@code window} items are between taken and emitted.
 */
final class Reorderer<T> {
    private static final Object DROPPED = new Object(); // a failed or filtered item: leaves nothing, keeps the order

    private final Outlet<T> out;
    private final StageMetrics metrics;
    final Semaphore window;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Long, Object> finished = new HashMap<>(); // guarded by lock
    private long nextToEmit; // guarded by lock
    private long nextSeq; // guarded by takeLock
    final ReentrantLock takeLock = new ReentrantLock();

    Reorderer(Outlet<T> out, StageMetrics metrics, int window) {
        this.out = out;
        this.metrics = metrics;
        this.window = new Semaphore(window);
    }

    /** The next sequence number; call with {@link #takeLock} held, right after taking the item. */
    long nextSeq() {
        return nextSeq++;
    }

    /** Records the result of item {@code seq} ({@code null}: nothing to emit) and emits what is now in order. */
    void complete(long seq, T result) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            finished.put(seq, result == null ? DROPPED : result);
            Object next;
            while ((next = finished.remove(nextToEmit)) != null) {
                nextToEmit++;
                if (next != DROPPED) {
                    @SuppressWarnings("unchecked") T item = (T) next;
                    out.send(item); // under the lock: the next in order must not overtake this one
                    metrics.out.increment();
                }
                window.release();
            }
        } finally {
            lock.unlock();
        }
    }
}

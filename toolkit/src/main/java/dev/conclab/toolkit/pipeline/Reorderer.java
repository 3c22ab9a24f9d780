package dev.conclab.toolkit.pipeline;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Puts the results of an ordered stage's workers back in input order. Workers take a permit of the window before
 * taking an item and get a sequence number with it; a finished result waits here until every earlier one has left.
 * The permit is returned when the result leaves, so at most {@code window} items are between taken and emitted.
 * Results leave through one sender shared by the workers under {@link #lock}, so batching keeps their order.
 */
final class Reorderer<T> {
    private static final Object DROPPED = new Object(); // a failed or filtered item: leaves nothing, keeps the order

    private final Outlet<T> out;
    final Semaphore window;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Long, Object> finished = new HashMap<>(); // guarded by lock
    private BatchingChannel.Sender<T> sender; // guarded by lock; created on first use (the channel exists by then)
    private long nextToEmit; // guarded by lock
    private long nextSeq; // guarded by takeLock
    final ReentrantLock takeLock = new ReentrantLock();

    Reorderer(Outlet<T> out, int window) {
        this.out = out;
        this.window = new Semaphore(window);
    }

    /** The next sequence number; call with {@link #takeLock} held, right after taking the item. */
    long nextSeq() {
        return nextSeq++;
    }

    /**
     * Records the result of item {@code seq} ({@code null}: nothing to emit) and emits what is now in order,
     * counting it on {@code w}, the calling worker.
     */
    void complete(long seq, T result, WorkerStats w) throws InterruptedException {
        lock(w);
        try {
            finished.put(seq, result == null ? DROPPED : result);
            Object next;
            while ((next = finished.remove(nextToEmit)) != null) {
                nextToEmit++;
                if (next != DROPPED) {
                    @SuppressWarnings("unchecked") T item = (T) next;
                    w.countOut();
                    sender(w).send(item); // under the lock: the next in order must not overtake this one
                }
                window.release();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Hands the shared sender's partial batch over (before a worker waits for input, and at its end). */
    void flush(WorkerStats w) throws InterruptedException {
        lock(w);
        try {
            sender(w).flush();
        } finally {
            lock.unlock();
        }
    }

    private void lock(WorkerStats w) throws InterruptedException {
        if (!lock.tryLock()) {
            w.waiting(lock::lockInterruptibly); // waiting for another worker is not work
        }
    }

    private BatchingChannel.Sender<T> sender(WorkerStats w) {
        if (sender == null) {
            sender = out.newSender(w);
        }
        sender.clock(w); // its waits for room count against whichever worker holds the lock
        return sender;
    }
}

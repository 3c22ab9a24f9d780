package dev.conclab.toolkit.ratelimit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The waiting half shared by both policies: a FIFO queue of blocking and asynchronous waiters under a
 * {@link ReentrantLock}, served by one pump thread while the queue is not empty. Subclasses supply the admission
 * policy: {@link #tryTake} (lock-free or optimistic, writing only when it admits) and {@link #nanosUntil}.
 *
 * <p><b>Retirement.</b> {@link KeyedRateLimiter} evicts a key's limiter by {@link #retireIfIdle retiring} it: only
 * when nobody waits and the policy is full, the policy is atomically {@link #seal sealed} so that it admits nothing
 * ever again, and every later call (from a caller still holding it) is forwarded to the key's live limiter. An
 * evicted limiter therefore never adds a second burst beside the new one.
 */
abstract sealed class QueuedLimiter permits TokenBucketLimiter, SlidingWindowLimiter {

    final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Waiter> queue = new ArrayDeque<>(); // guarded by lock
    private Thread pump;                                          // guarded by lock; null when not running
    /** The queue's size, readable without the lock so that tryAcquire refuses to barge without writing. */
    private volatile int queued;
    /** Where calls go once this limiter is retired: written before {@link #seal}, so a sealed reader sees it. */
    private volatile Supplier<? extends RateLimiter> successor;

    QueuedLimiter(Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    /** The capacity, as in {@link RateLimiter#capacity()}. */
    public abstract int capacity();

    /** Takes {@code permits} at {@code now} if the policy allows; must write nothing shared when it refuses. */
    abstract boolean tryTake(int permits, long now);

    /** How long after {@code now} {@code permits} would be available if nobody else took any (0 if now). */
    abstract long nanosUntil(int permits, long now);

    /**
     * If the policy is full at this instant (evicting it loses nothing), makes it refuse every later
     * {@link #tryTake} atomically with that check, and returns {@code true}; otherwise changes nothing.
     */
    abstract boolean seal();

    /** Whether {@link #seal} succeeded: then every refusal is the seal's, and calls go to the successor. */
    abstract boolean sealed();

    public final boolean tryAcquire(int permits) {
        checkPermits(permits);
        if (queued == 0 && tryTake(permits, ticker.read())) {
            return true;
        }
        return sealed() && successor().tryAcquire(permits);    // a refusal reads one more field, writes nothing
    }

    /**
     * Retires this limiter if nobody waits on it and its policy is full: afterwards it admits nothing itself and
     * forwards every call to {@code successor.get()}. Called by {@link KeyedRateLimiter} inside the map's
     * {@code compute} for the key, so that the successor lookup finds the key absent and makes a fresh limiter.
     *
     * @return whether it was retired
     */
    final boolean retireIfIdle(Supplier<? extends RateLimiter> successor) {
        lock.lock();
        try {
            if (!queue.isEmpty() || this.successor != null) {
                return false;
            }
            this.successor = successor;   // first: a caller that sees the seal must find the successor
            if (seal()) {
                return true;
            }
            this.successor = null;        // nobody saw it: nobody could see a seal that did not happen
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** The live limiter a retired one forwards to; only called once {@link #sealed()} returned {@code true}. */
    final RateLimiter successor() {
        return successor.get();
    }

    public final void acquire(int permits) throws InterruptedException {
        checkPermits(permits);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (queued == 0 && tryTake(permits, ticker.read())) {
            return;
        }
        Waiter waiter = enqueue(new Waiter(permits, Thread.currentThread(), null));
        if (waiter == null) {
            successor().acquire(permits);
            return;
        }
        while (true) {
            LockSupport.park(this);
            lock.lock();
            try {
                if (waiter.granted) {
                    return;
                }
                if (Thread.interrupted()) {
                    remove(waiter);
                    throw new InterruptedException();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    public final CompletableFuture<Void> acquireAsync(int permits) {
        checkPermits(permits);
        if (queued == 0 && tryTake(permits, ticker.read())) {
            return CompletableFuture.completedFuture(null);
        }
        var future = new PermitFuture();
        future.waiter = enqueue(new Waiter(permits, null, future));
        return future.waiter == null ? successor().acquireAsync(permits) : future;
    }

    public final int queueLength() {
        return queued;
    }

    final void checkPermits(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1, got " + permits);
        }
        if (permits > capacity()) {
            throw new IllegalArgumentException("permits (" + permits + ") exceeds the capacity (" + capacity()
                    + "): they could never be granted");
        }
    }

    /** Queues {@code waiter}, or returns {@code null} if this limiter is retired (the caller goes elsewhere). */
    private Waiter enqueue(Waiter waiter) {
        lock.lock();
        try {
            if (sealed()) {
                return null;
            }
            queue.addLast(waiter);
            queued = queue.size();
            if (pump == null) {
                pump = Thread.ofVirtual().name("rate-limiter-pump").unstarted(this::pump);
                pump.start();
            }
            return waiter;
        } finally {
            lock.unlock();
        }
    }

    /** Removes a waiter that gives up; wakes the pump if it was the head, whose wait may now be shorter. */
    private boolean remove(Waiter waiter) {
        lock.lock();
        try {
            boolean head = queue.peekFirst() == waiter;
            boolean removed = queue.remove(waiter);
            queued = queue.size();
            if (head && pump != null) {
                LockSupport.unpark(pump);
            }
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /** Grants heads in order while they fit, parks until the next one can, and exits when the queue empties. */
    private void pump() {
        List<Waiter> granted = new ArrayList<>();
        while (true) {
            long wait;
            lock.lock();
            try {
                long now = ticker.read();
                Waiter head;
                while ((head = queue.peekFirst()) != null && tryTake(head.permits, now)) {
                    queue.pollFirst();
                    head.granted = true;
                    granted.add(head);
                }
                queued = queue.size();
                if (head == null) {
                    pump = null;
                    wait = -1;
                } else {
                    wait = Math.max(1, nanosUntil(head.permits, now));
                }
            } finally {
                lock.unlock();
            }
            for (Waiter w : granted) {
                w.deliver();
            }
            granted.clear();
            if (wait < 0) {
                return;
            }
            ticker.parkNanos(this, wait);
        }
    }

    /** One waiter: a parked thread or a pending future; {@code granted} is written under the lock. */
    private static final class Waiter {
        final int permits;
        final Thread thread;
        final PermitFuture future;
        boolean granted;

        Waiter(int permits, Thread thread, PermitFuture future) {
            this.permits = permits;
            this.thread = thread;
            this.future = future;
        }

        void deliver() {
            if (thread != null) {
                LockSupport.unpark(thread);
            } else {
                future.grant();
            }
        }
    }

    /**
     * The future of {@link #acquireAsync}: any completion from outside (cancel, a timeout from {@code orTimeout},
     * {@code complete}) first withdraws the waiter, so that it never consumes permits it will not use; once the
     * permits are granted such calls return {@code false}.
     */
    private final class PermitFuture extends CompletableFuture<Void> {
        Waiter waiter;

        void grant() {
            super.complete(null);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return remove(waiter) && super.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean complete(Void value) {
            return remove(waiter) && super.complete(value);
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            Objects.requireNonNull(ex, "ex");
            return remove(waiter) && super.completeExceptionally(ex);
        }
    }
}

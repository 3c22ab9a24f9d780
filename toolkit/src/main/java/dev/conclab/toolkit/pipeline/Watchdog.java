package dev.conclab.toolkit.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The per-item time limit of one stage: interrupts a worker whose call has run past the limit. One thread per stage
 * that has a limit, started with the stage's workers; it ends when they have all ended, or on cancel.
 *
 * <p>A worker {@linkplain Slot#arm() arms} its slot before a call and {@linkplain Slot#disarm() disarms} it after;
 * both take the watchdog's lock, and the watchdog interrupts only an armed slot, under the same lock, so its
 * interrupt lands inside the call and never on the worker's next wait. The watchdog sleeps until the earliest
 * deadline and is woken only when an arm makes an earlier one (never, with one fixed limit, unless it was idle),
 * so a busy stage costs two lock acquisitions per call, not a wake-up.
 */
final class Watchdog {

    private final long limitNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<Slot> slots = new ArrayList<>(); // filled while building
    private int workersLeft; // guarded by lock
    private boolean idle; // guarded by lock: waiting with no call armed
    private long wakeAt; // guarded by lock: the deadline it waits for, when not idle
    private boolean waiting; // guarded by lock

    Watchdog(long limitNanos) {
        this.limitNanos = limitNanos;
    }

    /** A slot for one more worker; called while building. */
    Slot newSlot() {
        Slot s = new Slot();
        slots.add(s);
        workersLeft++;
        return s;
    }

    /** The watchdog thread's body: fires expired slots until every worker is done or the thread is interrupted. */
    void run() throws InterruptedException {
        lock.lock();
        try {
            while (workersLeft > 0) {
                long now = System.nanoTime();
                boolean any = false;
                long next = 0;
                for (Slot s : slots) {
                    if (!s.armed) {
                        continue;
                    }
                    if (s.deadline - now <= 0) {
                        s.armed = false;
                        s.fired = true;
                        s.thread.interrupt();
                    } else if (!any || s.deadline - next < 0) {
                        next = s.deadline;
                        any = true;
                    }
                }
                waiting = true;
                idle = !any;
                wakeAt = next;
                try {
                    if (any) {
                        changed.awaitNanos(next - now);
                    } else {
                        changed.await();
                    }
                } finally {
                    waiting = false;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** A worker of the stage has ended. */
    void workerDone() {
        lock.lock();
        try {
            workersLeft--;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** One worker's watch; used only by that worker (its fields are guarded by the watchdog's lock). */
    final class Slot {
        private Thread thread;
        private boolean armed;
        private boolean fired;
        private long deadline;

        /** Starts the limit for a call the current thread is about to make. */
        void arm() {
            long d = System.nanoTime() + limitNanos;
            lock.lock();
            try {
                thread = Thread.currentThread();
                deadline = d;
                armed = true;
                fired = false;
                if (waiting && (idle || d - wakeAt < 0)) {
                    changed.signal();
                }
            } finally {
                lock.unlock();
            }
        }

        /**
         * Ends the watch of the current call. Returns whether the limit passed, in which case the watchdog's
         * interrupt is cleared from the current thread (the call may not have consumed it).
         */
        boolean disarm() {
            boolean timedOut;
            lock.lock();
            try {
                armed = false;
                timedOut = fired;
                fired = false;
            } finally {
                lock.unlock();
            }
            if (timedOut) {
                Thread.interrupted();
            }
            return timedOut;
        }
    }
}

package dev.conclab.toolkit.ratelimit;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/** A ticker whose time moves only on {@link #advance}; threads parked on it wake when it moves past them. */
final class FakeTicker implements Ticker {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Set<Thread> parked = ConcurrentHashMap.newKeySet();

    @Override
    public long read() {
        return now.get();
    }

    @Override
    public void parkNanos(Object blocker, long nanos) {
        long deadline = now.get() + nanos;
        Thread me = Thread.currentThread();
        parked.add(me);
        try {
            if (now.get() - deadline < 0) {     // registered before re-reading: an advance cannot be missed
                LockSupport.park(blocker);
            }
        } finally {
            parked.remove(me);
        }
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
        parked.forEach(LockSupport::unpark);
    }

    /** Whether some thread is parked on this ticker (the pump waiting for time to pass). */
    boolean hasParked() {
        return !parked.isEmpty();
    }
}

package dev.conclab.crawl.crawler;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The simplest strict limiter: requests to one host are spaced at least {@code 1/rate} apart (no burst), so a host
 * never sees more than {@code rate} requests in any second, plus one at the window's edge. Thread-safe; reservations
 * for one host are serialized on that host's slot, hosts do not contend with each other. A rate of 0 means no limit.
 */
public final class IntervalHostLimiter implements HostRateLimiter {

    private final long intervalNanos;
    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

    private static final class Slot {
        long next;          // the earliest time the next request may go
    }

    public IntervalHostLimiter(double perSecond) {
        this(perSecond, System::nanoTime);
    }

    IntervalHostLimiter(double perSecond, LongSupplier clock) {
        if (!(perSecond >= 0) || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("per-host rate must be a finite number >= 0 (0 = no limit), got "
                    + perSecond);
        }
        this.intervalNanos = perSecond == 0 ? 0 : (long) Math.ceil(1e9 / perSecond);
        this.clock = clock;
    }

    @Override
    public long reserveNanos(String hostKey) {
        Slot slot = slots.computeIfAbsent(hostKey, k -> new Slot());
        long now = clock.getAsLong();
        synchronized (slot) {
            long at = Math.max(now, slot.next);
            slot.next = Math.max(slot.next, at + intervalNanos);
            return at - now;
        }
    }

    @Override
    public void pause(String hostKey, long nanos) {
        Slot slot = slots.computeIfAbsent(hostKey, k -> new Slot());
        long until = clock.getAsLong() + nanos;
        synchronized (slot) {
            slot.next = Math.max(slot.next, until);
        }
    }
}

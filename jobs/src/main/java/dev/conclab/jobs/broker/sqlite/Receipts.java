package dev.conclab.jobs.broker.sqlite;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Receipts (lease tokens) for reservations: a random prefix per broker instance and a counter, so receipts of every
 * instance and process sharing a file differ (two collide only if two 64-bit random prefixes do). Thread-safe.
 */
final class Receipts {
    private final String prefix = Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";
    private final AtomicLong counter = new AtomicLong();

    String next() {
        return prefix + counter.incrementAndGet();
    }
}

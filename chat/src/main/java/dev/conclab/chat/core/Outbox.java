package dev.conclab.chat.core;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One connection's bounded outbound queue of encoded frames, with the hand-off that tells its single consumer (the
 * transport) when to drain.
 *
 * <p><b>Thread safety.</b> Any number of producers may {@link #offer} at once; {@link #poll} and {@link #drained}
 * are called by one consumer at a time. Never blocks: {@code offer} on a full outbox returns {@link Offer#FULL} at
 * once (the caller applies the slow-consumer policy), and the queue never holds more than its capacity.
 *
 * <p><b>Wake-ups.</b> Exactly one {@code offer} per idle-to-busy transition returns {@link Offer#WAKE}: the consumer
 * is then <em>scheduled</em> and drains until {@link #drained()} returns {@code false}. A frame offered while the
 * consumer is scheduled is seen by it, either by its {@code poll} or by the re-check in {@code drained}.
 *
 * <p><b>Ordering and memory.</b> Frames from one producer are polled in the order offered; actions before an
 * {@code offer} happen-before the {@code poll} that returns that frame.
 */
public final class Outbox {

    /** What {@link #offer} did. */
    public enum Offer {
        /** Queued; the consumer is already scheduled. */
        QUEUED,
        /** Queued; the caller must wake the consumer. */
        WAKE,
        /** Not queued: the outbox holds its capacity already. */
        FULL
    }

    private final int capacity;
    private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    /** @throws IllegalArgumentException if {@code capacity} is less than 1 */
    public Outbox(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** Queues {@code frame} unless the outbox is full; never blocks. */
    public Offer offer(String frame) {
        if (size.incrementAndGet() > capacity) {
            size.decrementAndGet();
            return Offer.FULL;
        }
        queue.add(frame);
        return scheduled.compareAndSet(false, true) ? Offer.WAKE : Offer.QUEUED;
    }

    /** The next frame, or {@code null} when none is queued now. Consumer only. */
    public String poll() {
        String frame = queue.poll();
        if (frame != null) {
            size.decrementAndGet();
        }
        return frame;
    }

    /**
     * The consumer found the outbox empty and stops: returns {@code true} if a frame arrived meanwhile and the
     * consumer must go on draining (it is still scheduled), {@code false} if it may stop (a later offer wakes it).
     */
    public boolean drained() {
        scheduled.set(false);
        return !queue.isEmpty() && scheduled.compareAndSet(false, true);
    }

    /**
     * Marks the consumer scheduled, as an {@code offer} returning {@link Offer#WAKE} would: returns {@code true}
     * when the caller must wake it (it was idle). Used to deliver a pending close to an idle consumer.
     */
    public boolean schedule() {
        return scheduled.compareAndSet(false, true);
    }

    /** Frames queued now (a snapshot). */
    public int size() {
        return size.get();
    }

    public int capacity() {
        return capacity;
    }

    /** Drops every queued frame (after the connection is gone). */
    void clear() {
        while (poll() != null) {
            // discard
        }
    }
}

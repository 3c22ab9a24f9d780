package dev.conclab.toolkit.diagnostics;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The deadlocks the JVM saw at one instant: zero or more cycles, each a ring of threads where every thread waits
 * for a lock that the next one holds. Immutable.
 *
 * @param takenAt when the snapshot was taken
 * @param cycles  the cycles found, each starting at its thread with the lowest id; empty when there was none
 */
public record DeadlockReport(Instant takenAt, List<Cycle> cycles) {

    public DeadlockReport {
        Objects.requireNonNull(takenAt, "takenAt");
        cycles = List.copyOf(cycles);
    }

    /** A report of no deadlock. */
    static DeadlockReport none(Instant takenAt) {
        return new DeadlockReport(takenAt, List.of());
    }

    /** True when the JVM saw no deadlock. */
    public boolean isEmpty() {
        return cycles.isEmpty();
    }

    /** True when one cycle holds every thread of {@code threads}. */
    public boolean hasCycleOf(Thread... threads) {
        return cycles.stream().anyMatch(c -> c.involvesAll(threads));
    }

    /** The cycle holding every thread of {@code threads}, if there is one. */
    public Optional<Cycle> cycleOf(Thread... threads) {
        return cycles.stream().filter(c -> c.involvesAll(threads)).findFirst();
    }

    @Override
    public String toString() {
        return isEmpty() ? "no deadlock" : cycles.stream().map(Cycle::toString).collect(Collectors.joining("; "));
    }

    /**
     * One ring of waiting threads: {@code links.get(i)} waits for a lock held by {@code links.get(i + 1)}, and the
     * last waits for a lock held by the first.
     */
    public record Cycle(List<Link> links) {

        public Cycle {
            links = List.copyOf(links);
            if (links.size() < 1) {
                throw new IllegalArgumentException("a cycle needs at least one thread");
            }
        }

        /** The ids of the threads in the ring, in ring order. */
        public List<Long> threadIds() {
            return links.stream().map(Link::threadId).toList();
        }

        /** The link of the thread with {@code threadId}, if it is in the ring. */
        public Optional<Link> linkOf(long threadId) {
            return links.stream().filter(l -> l.threadId() == threadId).findFirst();
        }

        /** True when every one of {@code threads} is in the ring. */
        public boolean involvesAll(Thread... threads) {
            for (Thread t : threads) {
                if (linkOf(t.threadId()).isEmpty()) {
                    return false;
                }
            }
            return true;
        }

        /** E.g. {@code "t1" waits for Sync@1a (held by "t2") → "t2" waits for Sync@2b (held by "t1")}. */
        @Override
        public String toString() {
            return links.stream().map(Link::toString).collect(Collectors.joining(" → "));
        }
    }

    /**
     * One thread of a cycle and the lock it waits for.
     *
     * @param threadId   the waiting thread's id
     * @param threadName the waiting thread's name
     * @param state      its state when seen: {@code BLOCKED} on a monitor, {@code WAITING} or
     *                   {@code TIMED_WAITING} on an ownable synchronizer
     * @param waitsFor   the lock it waits to acquire
     * @param ownerId    the id of the thread that holds that lock
     * @param ownerName  the name of the thread that holds that lock
     * @param waitingAt  the innermost frame of the waiting thread outside the JDK, or its top frame when every frame
     *                   is in the JDK; {@code null} when the JVM gave no stack
     */
    public record Link(long threadId, String threadName, Thread.State state, LockRef waitsFor, long ownerId,
                       String ownerName, StackTraceElement waitingAt) {

        public Link {
            Objects.requireNonNull(threadName, "threadName");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(waitsFor, "waitsFor");
            Objects.requireNonNull(ownerName, "ownerName");
        }

        @Override
        public String toString() {
            return "\"" + threadName + "\" waits for " + waitsFor + " (held by \"" + ownerName + "\")";
        }
    }
}

package dev.conclab.jobs.worker;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one worker since it started, for {@code jobs inspect} and the benchmarks. Updated by the worker's
 * threads without locks ({@link LongAdder}); {@link #snapshot()} may be called from any thread and returns
 * values that were each true at some moment during the call (not one atomic cut).
 */
public final class WorkerMetrics {

    final LongAdder received = new LongAdder();
    final LongAdder started = new LongAdder();
    final LongAdder succeeded = new LongAdder();
    final LongAdder retried = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder deadLettered = new LongAdder();
    final LongAdder revoked = new LongAdder();
    final LongAdder released = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder softLimited = new LongAdder();
    final LongAdder hardLimited = new LongAdder();
    final LongAdder lostReservations = new LongAdder();
    final LongAdder rateLimitWaits = new LongAdder();
    final LongAdder settlementsDropped = new LongAdder();

    WorkerMetrics() {
    }

    /**
     * The counters at one moment.
     *
     * @param received           messages reserved from the broker
     * @param started            task bodies started
     * @param succeeded          settled SUCCESS
     * @param retried            settled RETRY
     * @param failed             settled FAILURE (dead-lettered ones included)
     * @param deadLettered       settled FAILURE into the dead-letter set
     * @param revoked            settled REVOKED
     * @param released           given back unrun or unfinished (graceful shutdown)
     * @param duplicates         redelivered messages of tasks already final, settled without running
     * @param softLimited        tasks interrupted at their soft limit
     * @param hardLimited        tasks abandoned at their hard limit
     * @param lostReservations   reservations that lapsed before the heartbeat could extend them
     * @param rateLimitWaits     times a task waited for a rate-limit permit
     * @param settlementsDropped settlements the broker dropped (the task was already final elsewhere)
     * @param running            bodies running now
     * @param held               messages held now (prefetched and running)
     */
    public record Snapshot(long received, long started, long succeeded, long retried, long failed, long deadLettered,
                           long revoked, long released, long duplicates, long softLimited, long hardLimited,
                           long lostReservations, long rateLimitWaits, long settlementsDropped, int running,
                           int held) {
        /** Tasks that reached a final state on this worker. */
        public long finished() {
            return succeeded + failed + revoked;
        }
    }

    Snapshot snapshot(int running, int held) {
        return new Snapshot(received.sum(), started.sum(), succeeded.sum(), retried.sum(), failed.sum(),
                deadLettered.sum(), revoked.sum(), released.sum(), duplicates.sum(), softLimited.sum(),
                hardLimited.sum(), lostReservations.sum(), rateLimitWaits.sum(), settlementsDropped.sum(), running,
                held);
    }
}

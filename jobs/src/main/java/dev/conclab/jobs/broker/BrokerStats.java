package dev.conclab.jobs.broker;

import java.util.List;
import java.util.Map;

/**
 * A snapshot of a broker for {@code jobs inspect}: what waits, what runs, what died, and the counters since the
 * store was created (they survive restarts of workers and of the broker process).
 *
 * @param queued          ready or delayed messages per queue
 * @param inFlight        reserved messages (whose workers may be running them, or may be dead)
 * @param deadLetters     the number of dead-lettered tasks
 * @param delivered       deliveries to workers, redeliveries included
 * @param redelivered     deliveries after a lapsed reservation
 * @param duplicates      settlements dropped because the task already had a final state (a redelivered copy
 *                        finished after the first), plus submissions suppressed by an idempotency key
 * @param succeeded       tasks that reached SUCCESS
 * @param failed          tasks that reached FAILURE
 */
public record BrokerStats(
        Map<String, Long> queued,
        List<InFlight> inFlight,
        long deadLetters,
        long delivered,
        long redelivered,
        long duplicates,
        long succeeded,
        long failed) {

    /** One reserved message: who holds it and when its reservation lapses. */
    public record InFlight(String taskId, String name, String consumer, long visibleAgainMillis) {
    }
}

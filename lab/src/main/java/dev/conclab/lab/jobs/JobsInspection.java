package dev.conclab.lab.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.TaskRecord;

import java.util.List;
import java.util.Map;

/**
 * What {@code ./conclab jobs inspect} shows (and {@code --json} prints) and the web lab's jobs page lists: the
 * broker's queues, tasks in flight, counters and the newest dead letters. A snapshot; immutable.
 *
 * @param broker      the broker's URL
 * @param stats       queued messages per queue, reservations, counters
 * @param deadLetters the newest dead-lettered tasks, newest first
 * @param hint        why the view is empty and what to do (the store does not exist yet), else {@code null} (and
 *                    then left out of the JSON)
 */
public record JobsInspection(String broker, BrokerStats stats, List<TaskRecord> deadLetters,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String hint) {

    /** What to do when there is no broker store yet. */
    public static final String START_WORKER = "start a worker: ./conclab jobs worker";

    public JobsInspection {
        deadLetters = List.copyOf(deadLetters);
    }

    /** Reads {@code broker} (two bounded reads: the stats, then up to {@code deadLetters} dead letters). */
    public static JobsInspection of(Broker broker, String url, int deadLetters) {
        if (deadLetters < 0) {
            throw new IllegalArgumentException("deadLetters must be >= 0, got " + deadLetters);
        }
        return new JobsInspection(url, broker.stats(), deadLetters == 0 ? List.of() : broker.deadLetters(deadLetters),
                null);
    }

    /** An empty view of a broker that has no store yet, with {@code hint} saying what to do. */
    public static JobsInspection empty(String url, String hint) {
        return new JobsInspection(url, new BrokerStats(Map.of(), List.of(), 0, 0, 0, 0, 0, 0), List.of(), hint);
    }
}

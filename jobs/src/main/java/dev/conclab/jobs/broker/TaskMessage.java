package dev.conclab.jobs.broker;

import java.util.Objects;

/**
 * One task as the broker stores and delivers it: immutable, and complete enough that any worker on any machine can
 * run it. Times are epoch milliseconds (they go into SQL columns and Redis scores as they are); 0 means "not set".
 *
 * @param id               the task id, unique, chosen by the client before submission (a UUID)
 * @param name             the registered task's name
 * @param argsJson         the arguments, a JSON array, already validated against the task's arity
 * @param queue            the queue it waits in ({@code "default"} unless routed)
 * @param priority         0 (lowest) to 9 (highest); among ready messages of one queue, higher goes first, then
 *                         older. (Celery's Redis transport counts the other way, 0 highest; AMQP counts this way.)
 * @param notBeforeMillis  ETA: not delivered before this instant (0: at once); set by a countdown and by retries
 * @param attempt          0 for the first run, incremented by each {@linkplain Settlement.Retry retry}; a
 *                         redelivery after a crash does not count as an attempt
 * @param maxRetries       retries allowed after the first attempt before the task is dead-lettered
 * @param idempotencyKey   null, or a key: a second submission with the same key is suppressed
 * @param softLimitMillis  0, or the run time after which the worker interrupts the task
 * @param hardLimitMillis  0, or the run time after which the worker abandons the task and fails it
 * @param parentId         null, or the task whose result is prepended to {@code argsJson} when this one runs
 *                         (the next step of a chain)
 * @param link             null, or the message enqueued, atomically with this task's success, as the next step of a
 *                         chain (its {@code parentId} is this task's id)
 * @param chordId          null, or the chord this task is a member of: the broker counts members down as they
 *                         succeed and enqueues the chord's callback after the last (see {@link Broker#openChord})
 * @param chordResultsOf   null, or (for a chord's callback) the chord whose members' results, in member order,
 *                         are prepended to {@code argsJson} as one JSON array when this task runs
 * @param submittedMillis  when the client submitted it
 */
public record TaskMessage(
        String id,
        String name,
        String argsJson,
        String queue,
        int priority,
        long notBeforeMillis,
        int attempt,
        int maxRetries,
        String idempotencyKey,
        long softLimitMillis,
        long hardLimitMillis,
        String parentId,
        TaskMessage link,
        String chordId,
        String chordResultsOf,
        long submittedMillis) {

    /** The queue a message waits in unless routed elsewhere. */
    public static final String DEFAULT_QUEUE = "default";
    public static final int MIN_PRIORITY = 0;
    public static final int MAX_PRIORITY = 9;

    public TaskMessage {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(argsJson, "argsJson");
        Objects.requireNonNull(queue, "queue");
        if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException("priority must be 0..9, was " + priority);
        }
        if (attempt < 0 || maxRetries < 0 || softLimitMillis < 0 || hardLimitMillis < 0 || notBeforeMillis < 0) {
            throw new IllegalArgumentException("attempt, maxRetries, limits and notBefore must be >= 0: " + id);
        }
    }

    /** A plain message: default queue, priority 0, at once, no retries, no limits, no canvas links. */
    public static TaskMessage of(String id, String name, String argsJson, long submittedMillis) {
        return new TaskMessage(id, name, argsJson, DEFAULT_QUEUE, 0, 0, 0, 0, null, 0, 0, null, null, null, null,
                submittedMillis);
    }

    /** This message for its next attempt: attempt + 1, not before the given instant. */
    public TaskMessage nextAttempt(long notBeforeMillis) {
        return new TaskMessage(id, name, argsJson, queue, priority, notBeforeMillis, attempt + 1, maxRetries,
                idempotencyKey, softLimitMillis, hardLimitMillis, parentId, link, chordId, chordResultsOf,
                submittedMillis);
    }
}

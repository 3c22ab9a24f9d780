package dev.conclab.jobs.broker;

import dev.conclab.jobs.task.TaskState;

/**
 * What the broker knows of one task at the moment it was read: a snapshot, not a live view.
 *
 * @param id              the task id
 * @param name            the task's name
 * @param state           its state
 * @param argsJson        its arguments as submitted
 * @param resultJson      the result (SUCCESS only), else null
 * @param error           the last error (RETRY, FAILURE, REVOKED), else null
 * @param attempt         the attempt now running or last run (0-based)
 * @param deliveries      how many times it was delivered to a worker (redeliveries included)
 * @param worker          the consumer that last received it, or null
 * @param submittedMillis when it was submitted
 * @param startedMillis   when its last attempt started, or 0
 * @param finishedMillis  when it reached a final state, or 0
 */
public record TaskRecord(
        String id,
        String name,
        TaskState state,
        String argsJson,
        String resultJson,
        String error,
        int attempt,
        int deliveries,
        String worker,
        long submittedMillis,
        long startedMillis,
        long finishedMillis) {
}

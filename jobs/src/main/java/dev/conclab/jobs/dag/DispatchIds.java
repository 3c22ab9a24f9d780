package dev.conclab.jobs.dag;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The deterministic identity of one try of one task instance in the task queue: the same (run, task, try) always
 * gives the same queue task id and idempotency key, so a scheduler that restarts between persisting "queued" and
 * enqueueing re-sends the same message, and the broker suppresses it if the first copy did arrive. Stateless.
 */
public final class DispatchIds {

    private DispatchIds() {
    }

    /** The idempotency key: {@code dag:RUN_ID/TASK_ID/TRY}. */
    public static String idempotencyKey(String runId, String taskId, int tryNumber) {
        if (tryNumber < 1) {
            throw new IllegalArgumentException("try number must be >= 1, was " + tryNumber);
        }
        return "dag:" + runId + "/" + taskId + "/" + tryNumber;
    }

    /** The queue task id: a name-based (version 3) UUID of the idempotency key. */
    public static String queueTaskId(String runId, String taskId, int tryNumber) {
        return UUID.nameUUIDFromBytes(idempotencyKey(runId, taskId, tryNumber).getBytes(StandardCharsets.UTF_8))
                .toString();
    }
}

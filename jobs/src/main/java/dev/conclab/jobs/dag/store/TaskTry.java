package dev.conclab.jobs.dag.store;

import dev.conclab.jobs.dag.TaskInstanceState;

/**
 * One try of one task instance, kept for the Gantt trace: a snapshot.
 *
 * @param runId       its run
 * @param taskId      its task
 * @param tryNumber   1-based
 * @param queueTaskId the queue task that ran it
 * @param state       RUNNING while it runs, then SUCCESS, FAILED or UP_FOR_RETRY (the instance's state when it ended)
 * @param startMillis when it started on a worker, or 0
 * @param endMillis   when it ended, or 0
 * @param worker      the worker, or null
 */
public record TaskTry(String runId, String taskId, int tryNumber, String queueTaskId, TaskInstanceState state,
                      long startMillis, long endMillis, String worker) {
}

package dev.conclab.jobs.dag.store;

import dev.conclab.jobs.dag.TaskInstanceState;

/**
 * One task in one DAG run as stored: a snapshot.
 *
 * @param runId          its run
 * @param taskId         its task
 * @param state          its state
 * @param tryNumber      0 before the first dispatch; the try now queued, running or last ended (1-based, as Airflow)
 * @param queueTaskId    the queue task of the current try, or null
 * @param notBeforeMillis UP_FOR_RETRY: when the next try may be dispatched; else 0
 * @param startMillis    when the current try started on a worker, or 0
 * @param endMillis      when the instance reached its state (final or up_for_retry), or 0
 * @param worker         the worker of the current try, or null
 * @param error          the last error, or null
 */
public record TaskInstance(String runId, String taskId, TaskInstanceState state, int tryNumber, String queueTaskId,
                           long notBeforeMillis, long startMillis, long endMillis, String worker, String error) {

    /** This instance in another state, the rest unchanged. */
    public TaskInstance withState(TaskInstanceState newState) {
        return new TaskInstance(runId, taskId, newState, tryNumber, queueTaskId, notBeforeMillis, startMillis,
                endMillis, worker, error);
    }
}

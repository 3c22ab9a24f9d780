package dev.conclab.jobs.dag;

/**
 * The states of one task instance (one task in one DAG run), named as Airflow names them. The usual path is
 * {@code NONE → SCHEDULED → QUEUED → RUNNING → SUCCESS | FAILED}, with {@code FAILED} replaced by
 * {@code UP_FOR_RETRY → SCHEDULED → ...} while DAG-level retries remain; {@code UPSTREAM_FAILED} and
 * {@code SKIPPED} come from the instance's {@link TriggerRule} before it ever runs.
 */
public enum TaskInstanceState {
    /** Created with its run; its upstream tasks are not done yet. */
    NONE,
    /** Its trigger rule is satisfied; waiting for a free slot (max active tasks) to be dispatched. */
    SCHEDULED,
    /** Enqueued to the task queue; no worker has it yet. */
    QUEUED,
    /** A worker received or started it. */
    RUNNING,
    /** Its last try succeeded. Final. */
    SUCCESS,
    /** Its last try failed and no DAG-level retries remain. Final. */
    FAILED,
    /** A try failed; another is dispatched after the task's retry delay. */
    UP_FOR_RETRY,
    /** Its trigger rule can no longer be met because an upstream task failed. Final. */
    UPSTREAM_FAILED,
    /** Its trigger rule decided it should not run (an upstream was skipped, or a one_failed with no failure). Final. */
    SKIPPED;

    /** Whether no further transition can happen in this run. */
    public boolean isFinal() {
        return this == SUCCESS || this == FAILED || this == UPSTREAM_FAILED || this == SKIPPED;
    }

    /** Whether it holds a task slot (counted against max active tasks). */
    public boolean isActive() {
        return this == QUEUED || this == RUNNING;
    }
}

package dev.conclab.jobs.dag;

/**
 * The states of one DAG run: {@code QUEUED → RUNNING → SUCCESS | FAILED}. A run waits in {@code QUEUED} while the
 * DAG already has its maximum of active runs.
 */
public enum DagRunState {
    /** Created; waiting for a free run slot (max active runs). */
    QUEUED,
    /** Its task instances are being scheduled. */
    RUNNING,
    /** Every leaf task ended in SUCCESS or SKIPPED. Final. */
    SUCCESS,
    /** Some leaf task ended in FAILED or UPSTREAM_FAILED. Final. */
    FAILED;

    /** Whether no further transition can happen. */
    public boolean isFinal() {
        return this == SUCCESS || this == FAILED;
    }
}

package dev.conclab.jobs.task;

/**
 * The states of one task, named as Celery names them. A task moves forward only:
 * {@code PENDING → RECEIVED → STARTED → (RETRY → RECEIVED → STARTED)* → SUCCESS | FAILURE | REVOKED}; a task may
 * also be revoked from any non-final state. A redelivery after a worker died goes from {@code RECEIVED} or
 * {@code STARTED} back to {@code RECEIVED}.
 *
 * <p>Unlike Celery, where {@code PENDING} also means "unknown id", an id the broker never accepted has no state at
 * all: {@link dev.conclab.jobs.broker.Broker#record} returns empty.
 */
public enum TaskState {
    /** Accepted and queued (or waiting for its ETA); no worker has it yet. */
    PENDING,
    /** Reserved by a worker (prefetched), not yet running. */
    RECEIVED,
    /** Running on a worker. */
    STARTED,
    /** Failed and queued again for another attempt after its back-off. */
    RETRY,
    /** Finished; the result is stored. Final. */
    SUCCESS,
    /** Failed for good (retries exhausted, a hard time limit, or a non-retryable error). Final. */
    FAILURE,
    /** Cancelled before it finished. Final. */
    REVOKED;

    /** Whether no further transition can happen. */
    public boolean isFinal() {
        return this == SUCCESS || this == FAILURE || this == REVOKED;
    }
}

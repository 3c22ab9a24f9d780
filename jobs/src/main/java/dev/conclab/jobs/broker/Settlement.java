package dev.conclab.jobs.broker;

import java.util.Objects;

/**
 * How a worker ends a reservation. {@link Broker#settle} applies one atomically: the task's record, the removal of
 * the message (the late acknowledgement) and any follow-up (a retry's re-enqueue, a chain's next step, a chord's
 * count-down and callback) happen together or not at all, so a crash between them cannot lose or double work.
 */
public sealed interface Settlement {

    /** The task returned: state SUCCESS with its result; a chain's link is enqueued, a chord is counted down. */
    record Success(String resultJson) implements Settlement {
        public Success {
            Objects.requireNonNull(resultJson, "resultJson");
        }
    }

    /** The task failed and may run again: state RETRY, re-enqueued as {@link TaskMessage#nextAttempt}. */
    record Retry(long notBeforeMillis, String error) implements Settlement {
        public Retry {
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * The task failed for good: state FAILURE with the error. With {@code deadLetter} the message is kept in the
     * dead-letter set (inspectable, re-submittable); a chord it belongs to fails, and its callback with it.
     */
    record Failure(String error, boolean deadLetter) implements Settlement {
        public Failure {
            Objects.requireNonNull(error, "error");
        }
    }

    /** The task was revoked while reserved or running: state REVOKED; nothing follows. */
    record Revoked(String reason) implements Settlement {
        public Revoked {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * The worker gives the message back unrun (graceful shutdown with prefetched messages): visible again at once,
     * state back to PENDING, neither attempt nor delivery count advanced.
     */
    record Release() implements Settlement {
    }
}

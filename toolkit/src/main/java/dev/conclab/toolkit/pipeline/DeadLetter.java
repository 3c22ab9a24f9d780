package dev.conclab.toolkit.pipeline;

import java.util.Objects;

/**
 * An item a stage could not process, with the stage's name, the cause and how many times the stage tried it.
 * Immutable.
 *
 * @param stage    the name of the stage that failed on the item
 * @param item     the item as the stage received it
 * @param cause    what the stage threw on the last attempt (a {@link java.util.concurrent.TimeoutException} if the
 *                 call ran past the stage's time limit)
 * @param attempts how many times the stage called its function on the item: 1 without retries, up to the retry
 *                 policy's {@code maxAttempts} with them, 0 for an item no function was called on (a join's
 *                 unpaired item)
 */
public record DeadLetter(String stage, Object item, Throwable cause, int attempts) {
    public DeadLetter {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(cause, "cause");
        if (attempts < 0) {
            throw new IllegalArgumentException("attempts must not be negative, got " + attempts);
        }
    }

    /** A dead letter of an item tried once. */
    public DeadLetter(String stage, Object item, Throwable cause) {
        this(stage, item, cause, 1);
    }
}

package dev.conclab.toolkit.parallel;

import java.util.Objects;

/**
 * What became of one item of a {@link ParallelMap}: it succeeded with a value, failed with an exception, or was
 * cancelled (never started, or interrupted while running) because the map stopped early. Immutable.
 *
 * @param <T> the type of the function's result
 */
public sealed interface Outcome<T> permits Outcome.Success, Outcome.Failure, Outcome.Cancelled {

    /** The item's position in the input list. */
    int index();

    /** Why a map stopped before every item had run. */
    enum Cause {
        /** An item failed and the map was set to fail fast. */
        FAIL_FAST,
        /** The map's overall timeout expired. */
        TIMEOUT
    }

    /** The function returned {@code value} (which may be {@code null}) for the item at {@code index}. */
    record Success<T>(int index, T value) implements Outcome<T> {
    }

    /** The function threw {@code error} for the item at {@code index}. */
    record Failure<T>(int index, Throwable error) implements Outcome<T> {
        public Failure {
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * The item at {@code index} did not complete because the map stopped for {@code cause}.
     *
     * @param wasRunning whether the function had started on the item (it was then interrupted); {@code false}
     *                   when the item was never started
     */
    record Cancelled<T>(int index, Cause cause, boolean wasRunning) implements Outcome<T> {
        public Cancelled {
            Objects.requireNonNull(cause, "cause");
        }
    }
}

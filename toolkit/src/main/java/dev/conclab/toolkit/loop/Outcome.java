package dev.conclab.toolkit.loop;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;

/**
 * How a {@link LoopFuture} ended, as handed to a {@link Coroutine} when it is resumed: a value, or an exception (a
 * cancelled future ends with a {@link CancellationException}). Immutable, so safe to share between threads.
 *
 * @param <T> the type of the value
 */
public sealed interface Outcome<T> permits Outcome.Success, Outcome.Failure {

    /** The outcome a task's first resume receives: a success with no value, like asyncio's first {@code send(None)}. */
    static <T> Outcome<T> start() {
        return new Success<>(null);
    }

    /** The value, or the exception thrown as is when unchecked (a {@link CancellationException} included). */
    T orThrow();

    /** Whether this outcome is a {@link CancellationException}: what a cancelled task sees at its next resume. */
    default boolean isCancellation() {
        return this instanceof Failure<T>(CancellationException _);
    }

    /** The future completed with {@code value}, which may be {@code null}. */
    record Success<T>(T value) implements Outcome<T> {
        @Override
        public T orThrow() {
            return value;
        }
    }

    /** The future completed with {@code error}, or was cancelled ({@code error} is then a {@link CancellationException}). */
    record Failure<T>(Throwable error) implements Outcome<T> {
        public Failure {
            Objects.requireNonNull(error, "error");
        }

        /**
         * Throws the error: a {@link RuntimeException} or {@link Error} as is, a checked exception wrapped in a
         * {@link CompletionException}.
         */
        @Override
        public T orThrow() {
            switch (error) {
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                default -> throw new CompletionException(error);
            }
        }
    }
}

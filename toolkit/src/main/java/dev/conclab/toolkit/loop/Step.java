package dev.conclab.toolkit.loop;

import java.util.Objects;

/**
 * What a {@link Coroutine} returns from one {@code resume}: either "suspend until this future is done, then resume me
 * with its outcome" ({@link Await}, asyncio's {@code await future}) or "I am finished with this value"
 * ({@link Done}, a coroutine's {@code return}). Immutable.
 *
 * @param <T> the type of the coroutine's final value
 */
public sealed interface Step<T> permits Step.Await, Step.Done {

    /** Suspends the task until {@code future} is done; the task is then resumed with the future's outcome. */
    static <T> Step<T> await(LoopFuture<?> future) {
        return new Await<>(future);
    }

    /** Finishes the task with {@code value} (may be {@code null}). */
    static <T> Step<T> done(T value) {
        return new Done<>(value);
    }

    /** Suspend until {@code future} is done. The future must belong to the task's loop. */
    record Await<T>(LoopFuture<?> future) implements Step<T> {
        public Await {
            Objects.requireNonNull(future, "future");
        }
    }

    /** Finished, with {@code value}. */
    record Done<T>(T value) implements Step<T> {
    }
}

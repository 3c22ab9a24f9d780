package dev.conclab.toolkit.loop;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The result of an operation on a {@link SelectorEventLoop} that is not done yet: asyncio's {@code Future}. It ends
 * once, with a value ({@link #setResult}), an exception ({@link #setException}) or by {@link #cancel()}; later
 * attempts to end it are refused ({@code setResult}/{@code setException} throw, {@code cancel} returns
 * {@code false}).
 *
 * <h2>Thread confinement</h2>
 * A loop future is <em>not</em> thread-safe and never blocks: there is no {@code get()} that waits. All its methods
 * must be called on its loop's thread while the loop runs (or by the one thread that uses the loop while it does not
 * run); a call from another thread while the loop runs throws {@link IllegalStateException}. To complete a future
 * from another thread, post the completion with {@link SelectorEventLoop#callSoonThreadsafe}; to wait for one from
 * another thread, use {@link SelectorEventLoop#runUntilComplete} on the loop's own thread.
 *
 * <h2>Done callbacks</h2>
 * Callbacks added with {@link #addDoneCallback} are never run inline: when the future ends (or at once, if it has
 * already ended) each is scheduled with {@link SelectorEventLoop#callSoon}, in the order they were added, so they run
 * in a later step of the loop, after the code that completed the future has returned.
 *
 * @param <T> the type of the value
 */
public class LoopFuture<T> {

    private enum State { PENDING, SUCCEEDED, FAILED, CANCELLED }

    private final SelectorEventLoop loop;
    private final String name;
    private State state = State.PENDING;
    private T value;
    private Throwable error;
    private List<Consumer<? super LoopFuture<T>>> callbacks = new ArrayList<>();

    LoopFuture(SelectorEventLoop loop, String name) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.name = Objects.requireNonNull(name, "name");
    }

    /** The loop this future belongs to. */
    public SelectorEventLoop loop() {
        return loop;
    }

    /** A name for reports and {@link #toString()}. */
    public String name() {
        return name;
    }

    /** Whether the future has ended (with a value, an exception, or cancelled). */
    public boolean isDone() {
        loop.checkThread("LoopFuture.isDone");
        return state != State.PENDING;
    }

    /** Whether the future was cancelled. */
    public boolean isCancelled() {
        loop.checkThread("LoopFuture.isCancelled");
        return state == State.CANCELLED;
    }

    /**
     * The value.
     *
     * @throws IllegalStateException if the future is not done
     * @throws CancellationException if it was cancelled
     * @throws RuntimeException the exception it ended with, as is if unchecked, else wrapped in a
     *                          {@link CompletionException}
     */
    public T result() {
        return outcome().orThrow();
    }

    /**
     * The exception the future ended with, or {@code null} if it ended with a value.
     *
     * @throws IllegalStateException if the future is not done
     * @throws CancellationException if it was cancelled (as asyncio's {@code Future.exception()} raises)
     */
    public Throwable exception() {
        loop.checkThread("LoopFuture.exception");
        return switch (state) {
            case PENDING -> throw new IllegalStateException("future " + name + " is not done yet");
            case CANCELLED -> throw (CancellationException) error;
            case SUCCEEDED -> null;
            case FAILED -> error;
        };
    }

    /**
     * How the future ended: a {@link Outcome.Success} or a {@link Outcome.Failure} (a cancelled future gives a
     * failure with a {@link CancellationException}).
     *
     * @throws IllegalStateException if the future is not done
     */
    public Outcome<T> outcome() {
        loop.checkThread("LoopFuture.outcome");
        return switch (state) {
            case PENDING -> throw new IllegalStateException("future " + name + " is not done yet");
            case SUCCEEDED -> new Outcome.Success<>(value);
            case FAILED, CANCELLED -> new Outcome.Failure<>(error);
        };
    }

    /**
     * Ends the future with {@code value} (may be {@code null}) and schedules its done callbacks.
     *
     * @throws IllegalStateException if it has already ended, or if this is a {@link Task}
     */
    public void setResult(T value) {
        loop.checkThread("LoopFuture.setResult");
        requirePending("setResult");
        succeed(value);
    }

    /**
     * Ends the future with {@code error} and schedules its done callbacks.
     *
     * @throws NullPointerException if {@code error} is null
     * @throws IllegalStateException if it has already ended, or if this is a {@link Task}
     */
    public void setException(Throwable error) {
        Objects.requireNonNull(error, "error");
        loop.checkThread("LoopFuture.setException");
        requirePending("setException");
        fail(error);
    }

    /**
     * Cancels the future if it is pending and schedules its done callbacks.
     *
     * @return {@code true} if the future was pending, {@code false} if it had already ended
     */
    public boolean cancel() {
        loop.checkThread("LoopFuture.cancel");
        if (state != State.PENDING) {
            return false;
        }
        finish(State.CANCELLED, null, new CancellationException("future " + name + " was cancelled"));
        return true;
    }

    /**
     * Schedules {@code callback} with {@link SelectorEventLoop#callSoon} when the future ends, or at once if it has
     * already ended. The callback receives this future.
     */
    public void addDoneCallback(Consumer<? super LoopFuture<T>> callback) {
        Objects.requireNonNull(callback, "callback");
        loop.checkThread("LoopFuture.addDoneCallback");
        if (state == State.PENDING) {
            callbacks.add(callback);
        } else {
            scheduleCallback(callback);
        }
    }

    /**
     * Removes every registration of {@code callback} that has not been scheduled yet.
     *
     * @return how many were removed
     */
    public int removeDoneCallback(Consumer<? super LoopFuture<T>> callback) {
        loop.checkThread("LoopFuture.removeDoneCallback");
        if (state != State.PENDING) {
            return 0; // its callbacks are already scheduled
        }
        int before = callbacks.size();
        callbacks.removeIf(c -> c == callback);
        return before - callbacks.size();
    }

    void requirePending(String operation) {
        if (state != State.PENDING) {
            throw new IllegalStateException(operation + ": future " + name + " is already done (" + state + ")");
        }
    }

    /** Ends the future with a value: for subclasses that refuse the public {@code setResult}. */
    final void succeed(T result) {
        finish(State.SUCCEEDED, result, null);
    }

    final void fail(Throwable failure) {
        finish(State.FAILED, null, failure);
    }

    final void finishCancelled(CancellationException cancellation) {
        finish(State.CANCELLED, null, cancellation);
    }

    final boolean pending() {
        return state == State.PENDING;
    }

    private void finish(State end, T result, Throwable failure) {
        state = end;
        value = result;
        error = failure;
        List<Consumer<? super LoopFuture<T>>> toRun = callbacks;
        callbacks = List.of();
        for (Consumer<? super LoopFuture<T>> callback : toRun) {
            scheduleCallback(callback);
        }
    }

    private void scheduleCallback(Consumer<? super LoopFuture<T>> callback) {
        loop.callSoon("done callback of " + name, () -> callback.accept(this));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + ", " + state.name().toLowerCase() + "]";
    }
}

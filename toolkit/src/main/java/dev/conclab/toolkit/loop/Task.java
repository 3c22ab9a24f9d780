package dev.conclab.toolkit.loop;

import java.util.Objects;
import java.util.concurrent.CancellationException;

/**
 * A {@link LoopFuture} that drives a {@link Coroutine}: asyncio's {@code Task}. Created by
 * {@link SelectorEventLoop#createTask}, it does not run when created: its first step is scheduled with
 * {@code callSoon}, so the coroutine starts only when the loop gets to it. Each step runs the coroutine up to its
 * next {@link Step.Await}; the task then adds a done callback to the awaited future and returns to the loop, and the
 * next step runs (again through {@code callSoon}) once that future is done. Tasks therefore interleave only at their
 * awaits. The task ends with the coroutine's {@link Step.Done} value, or with the exception it throws.
 *
 * <h2>Cancellation</h2>
 * {@link #cancel()} requests cancellation, as asyncio's {@code Task.cancel()} does: the future the task awaits (if
 * any) is cancelled, and the coroutine's next {@code resume} receives a {@link CancellationException} failure instead
 * of its outcome (like {@code CancelledError} raised at the pending {@code await}). If the coroutine lets it propagate
 * the task ends cancelled; if it catches it, the task goes on. So {@code cancel()} returns {@code true} while the
 * task still is pending, and {@link #isCancelled()} becomes true only after the coroutine's next step.
 *
 * <h2>Thread confinement and references</h2>
 * As every loop future, a task is confined to its loop's thread. The loop holds a task only through the callbacks it
 * has scheduled for it (its next step, its done callback on the awaited future); keep a reference to the tasks you
 * create, as asyncio's documentation asks (asyncio's loop holds tasks only weakly). {@code setResult} and
 * {@code setException} are refused: only the coroutine ends a task.
 *
 * @param <T> the type of the coroutine's result
 */
public final class Task<T> extends LoopFuture<T> {

    private final Coroutine<T> coroutine;
    private LoopFuture<?> awaiting;
    private boolean cancelRequested;

    Task(SelectorEventLoop loop, String name, Coroutine<T> coroutine) {
        super(loop, name);
        this.coroutine = Objects.requireNonNull(coroutine, "coroutine");
        loop.callSoon("step of task " + name, () -> step(Outcome.start()));
    }

    /** Refused: a task ends only through its coroutine. */
    @Override
    public void setResult(T value) {
        throw new IllegalStateException("a task's result is set by its coroutine, not by setResult (task " + name()
                + ")");
    }

    /** Refused: a task ends only through its coroutine. */
    @Override
    public void setException(Throwable error) {
        throw new IllegalStateException("a task's exception is set by its coroutine, not by setException (task "
                + name() + ")");
    }

    /**
     * Requests cancellation: the awaited future is cancelled, and the coroutine's next resume receives a
     * {@link CancellationException}.
     *
     * @return {@code true} if the task was still pending, {@code false} if it had already ended
     */
    @Override
    public boolean cancel() {
        loop().checkThread("Task.cancel");
        if (!pending()) {
            return false;
        }
        cancelRequested = true;
        if (awaiting != null) {
            awaiting.cancel(); // wakes the task with a cancelled outcome; if it was already done, the flag does it
        }
        return true;
    }

    /** Whether the task is suspended on a future (rather than scheduled to run its next step). */
    public boolean isAwaiting() {
        loop().checkThread("Task.isAwaiting");
        return awaiting != null;
    }

    private void step(Outcome<?> outcome) {
        if (!pending()) {
            return;
        }
        Outcome<?> input = outcome;
        if (cancelRequested) {
            cancelRequested = false;
            if (!input.isCancellation()) {
                input = new Outcome.Failure<>(new CancellationException("task " + name() + " was cancelled"));
            }
        }
        Step<T> next;
        Task<?> previous = loop().enterTask(this);
        try {
            next = Objects.requireNonNull(coroutine.resume(input), "coroutine of task " + name()
                    + " returned a null step");
        } catch (CancellationException e) {
            finishCancelled(e);
            return;
        } catch (Throwable e) {
            fail(e);
            if (e instanceof VirtualMachineError vmError) {
                throw vmError;
            }
            return;
        } finally {
            loop().leaveTask(previous);
        }
        switch (next) {
            case Step.Done<T>(T value) -> succeed(value);
            case Step.Await<T>(LoopFuture<?> future) -> await(future);
        }
    }

    private void await(LoopFuture<?> future) {
        if (future.loop() != loop()) {
            fail(new IllegalStateException("task " + name() + " awaited " + future + ", which belongs to another loop"));
        } else if (future == this) {
            fail(new IllegalStateException("task " + name() + " awaited itself"));
        } else {
            awaiting = future;
            future.addDoneCallback(done -> {
                awaiting = null;
                step(done.outcome());
            });
        }
    }
}

package dev.conclab.lab.experiments.pipelines;

import dev.conclab.toolkit.pipeline.StageFunction;

import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A stage function with a per-item time limit: the call runs on a virtual thread of its own and the stage's worker
 * waits at most {@code timeoutMillis} for it; past that the call is cancelled (interrupted) and the worker throws a
 * {@link TimeoutException} naming the item, which the engine dead-letters, and goes on with the next item.
 *
 * <p>The pipeline engine has no per-item timeout option, hence this wrapper. It bounds how long a worker is held,
 * not the work itself: a call that ignores interrupts keeps its virtual thread until it returns. An exception of
 * the call propagates unwrapped. Thread-safe; {@link #close()} waits for the calls still running.
 *
 * @param <I> the type of the items in
 * @param <O> the type of the items out
 */
final class FaultTolerantTimeout<I, O> implements StageFunction<I, O>, AutoCloseable {

    private final StageFunction<I, O> fn;
    private final long timeoutMillis;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();

    FaultTolerantTimeout(StageFunction<I, O> fn, long timeoutMillis) {
        this.fn = Objects.requireNonNull(fn, "fn");
        if (timeoutMillis < 1) {
            throw new IllegalArgumentException("timeoutMillis must be at least 1, got " + timeoutMillis);
        }
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public O apply(I item) throws Exception {
        Future<O> call = calls.submit(() -> fn.apply(item));
        try {
            return call.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new TimeoutException("item " + item + " took longer than " + timeoutMillis + " ms; cancelled");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (InterruptedException e) {
            call.cancel(true); // the pipeline was cancelled: do not leave the call running
            throw e;
        }
    }

    @Override
    public void close() {
        calls.close();
    }
}

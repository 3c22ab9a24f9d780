package dev.conclab.toolkit.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running pipeline: stages connected by bounded channels, each with its own workers. Created by
 * {@link PipelineBuilder#start()}; see the package documentation for an example.
 *
 * <p><b>Backpressure.</b> Every channel is bounded and a producer whose batch is full waits while the channel
 * has no room, so a slow stage slows everything upstream down to the source, and the items in flight never
 * exceed, per channel, its capacity plus one hand-off batch per producing and per consuming worker, plus one item
 * in each worker's hands and the reorder windows (see the package documentation).
 *
 * <p><b>Ending.</b> The pipeline ends by itself when its source returns: each stage finishes the items it has,
 * hands over its last partial batch and closes its output. {@link #drain()} asks the source to stop early with the
 * same result: every item the source handed over reaches a sink or the dead letters. {@link #cancel()} stops at
 * once: it closes every channel and interrupts every worker, which stops before its next item; items in flight,
 * partial batches included, are lost. {@link #await()} waits until every worker thread has ended, so after it
 * returns the pipeline has no thread left.
 *
 * <p><b>Errors.</b> An exception from a stage's function sends the item and the exception to the dead letters and
 * the stage goes on, after the retries of the stage's {@link RetryPolicy}; so does an {@link InterruptedException},
 * unless the pipeline was cancelled (only cancel's own interrupt stops a worker), and it is never retried. A stage's
 * time limit interrupts a call at the limit and fails that attempt with a
 * {@link java.util.concurrent.TimeoutException}. {@link #cancel()} also ends a retry's backoff wait. An
 * {@link Error} in a worker cancels the pipeline and is reported by {@link #failure()}.
 *
 * <p><b>Thread safety.</b> All methods are safe to call from any thread.
 */
public final class Pipeline implements AutoCloseable {

    private final List<Thread> threads = new ArrayList<>();
    private final List<StageMetrics> metrics;
    private final List<BatchingChannel<?>> channels;
    private final PipelineBuilder builder;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean draining;
    private volatile boolean cancelled;

    private Pipeline(PipelineBuilder b) {
        this.builder = b;
        this.metrics = List.copyOf(b.metrics);
        this.channels = List.copyOf(b.channels);
    }

    /** A builder for a new pipeline. */
    public static PipelineBuilder builder() {
        return new PipelineBuilder();
    }

    static Pipeline start(PipelineBuilder b) {
        Pipeline p = new Pipeline(b);
        for (PipelineBuilder.Task t : b.tasks) {
            Thread.Builder tb = t.virtual() ? Thread.ofVirtual() : Thread.ofPlatform().daemon(true);
            p.threads.add(tb.name(t.threadName()).unstarted(() -> p.runWorker(t)));
        }
        p.threads.forEach(Thread::start);
        return p;
    }

    private void runWorker(PipelineBuilder.Task t) {
        try {
            t.body().run(this);
        } catch (Throwable e) {
            if (!(e instanceof InterruptedException) || !cancelled) {
                failure.compareAndSet(null, e);
                cancel();
            }
        }
    }

    /** Whether {@link #drain()} or {@link #cancel()} was called: a source's emit then refuses items. */
    boolean isDraining() {
        return draining || cancelled;
    }

    boolean isCancelled() {
        return cancelled;
    }

    /**
     * Graceful stop: the source's next emit returns {@code false} and the source should return; every item it
     * handed over before goes on to a sink or the dead letters. Does not wait; call {@link #await()}.
     */
    public void drain() {
        draining = true;
    }

    /**
     * Immediate stop: closes every channel and interrupts every worker. Items in flight are lost. Does not wait;
     * call {@link #await()} to be sure no worker thread is left. Idempotent.
     */
    public void cancel() {
        cancelled = true;
        channels.forEach(BatchingChannel::close);
        threads.forEach(Thread::interrupt);
    }

    /** Waits until every worker thread has ended. */
    public void await() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }

    /**
     * Waits up to {@code timeout} until every worker thread has ended.
     *
     * @return whether they all ended
     */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                return !t.isAlive() && threads.stream().noneMatch(Thread::isAlive);
            }
        }
        return true;
    }

    /** Whether every worker thread has ended. */
    public boolean isDone() {
        return threads.stream().noneMatch(Thread::isAlive);
    }

    /** The first unexpected throwable of a worker (which cancelled the pipeline), if any. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** The dead letters collected so far (empty if a dead-letter sink was set on the builder). */
    public List<DeadLetter> deadLetters() {
        return List.copyOf(builder.collected);
    }

    /** A snapshot of every stage's counters, in the order the stages were added. */
    public List<StageStats> metrics() {
        return metrics.stream().map(StageMetrics::snapshot).toList();
    }

    /** The stage with the most busy time per worker: the bottleneck. Empty if no stage has been busy. */
    public Optional<StageStats> bottleneck() {
        return metrics().stream()
                .filter(s -> s.busy().isPositive())
                .max(Comparator.comparing(StageStats::busyPerWorker));
    }

    /** The channels between stages, in the order they were attached (for tests and diagnostics). */
    List<BatchingChannel<?>> channels() {
        return channels;
    }

    /** The worker threads (for tests and diagnostics). */
    List<Thread> threads() {
        return List.copyOf(threads);
    }

    /** Cancels and waits for every worker thread to end. */
    @Override
    public void close() throws InterruptedException {
        cancel();
        await();
    }
}

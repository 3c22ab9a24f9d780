package dev.conclab.toolkit.parallel;

import dev.conclab.toolkit.parallel.Outcome.Cancelled;
import dev.conclab.toolkit.parallel.Outcome.Cause;
import dev.conclab.toolkit.parallel.Outcome.Failure;
import dev.conclab.toolkit.parallel.Outcome.Success;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Applies a function to every item of a list, at most {@code parallelism} items at a time, and returns one
 * {@link Outcome} per item, in input order: the JVM's answer to Python's {@code ThreadPoolExecutor.map}.
 *
 * <pre>{@code
 * Results<Page> pages = ParallelMap.withParallelism(8)
 *         .timeout(Duration.ofSeconds(10))
 *         .map(urls, url -> fetch(url));
 * List<Page> all = pages.valuesOrThrow();   // in the order of urls
 * }</pre>
 *
 * <p><b>Ordering.</b> {@code outcomes().get(i)} is the outcome of {@code inputs.get(i)}, whatever order the items
 * finished in. Items are <em>started</em> in input order.
 *
 * <p><b>Bounded parallelism.</b> At most {@code parallelism} calls of the function run at any moment: the calling
 * thread starts a new item only when a running one has returned. By default each item runs on a new virtual thread
 * (cheap enough that a pool is not needed; the bound, not the pool, limits the load on what the function calls).
 * With {@link #executor(Executor)} the items run on the caller's executor instead, still at most
 * {@code parallelism} at a time.
 *
 * <p><b>Failures.</b> An exception thrown by the function for one item becomes that item's {@link Failure}; the
 * other items go on. With {@link #failFast(boolean) failFast(true)} the first failure stops the map: items not yet
 * started are never started, running ones are interrupted, and both are reported {@link Cancelled} with
 * {@link Cause#FAIL_FAST}. The map waits for the interrupted items to return (within the timeout, if any).
 *
 * <p><b>Blocking and timeout.</b> {@link #map} blocks the calling thread until every item has an outcome. With a
 * {@link #timeout(Duration) timeout}, once it expires the items still running are interrupted, the ones not started
 * are dropped, and {@code map} returns at once with them {@link Cancelled} ({@link Cause#TIMEOUT}); an item whose
 * function ignores interrupts may then still be running, and whatever it returns later is discarded. If the calling
 * thread is interrupted, running items are interrupted too and {@code map} throws {@link InterruptedException}.
 *
 * <p><b>Memory effects.</b> Actions of the function for an item happen-before {@code map} returns: the caller sees
 * everything a task wrote, not only its result.
 *
 * <p><b>Thread safety.</b> Instances are immutable and may be shared; each {@code map} call is independent. The
 * function is called from several threads at once and must be safe for that.
 */
public final class ParallelMap {

    /** The function applied to each item; it may throw, and should return promptly when interrupted. */
    @FunctionalInterface
    public interface Task<I, O> {
        O apply(I input) throws Exception;
    }

    private final int parallelism;
    private final Duration timeout; // null: no timeout
    private final boolean failFast;
    private final Executor executor; // null: one virtual thread per item

    private ParallelMap(int parallelism, Duration timeout, boolean failFast, Executor executor) {
        this.parallelism = parallelism;
        this.timeout = timeout;
        this.failFast = failFast;
        this.executor = executor;
    }

    /** A map that runs at most {@code parallelism} items at a time, with no timeout, not failing fast. */
    public static ParallelMap withParallelism(int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, was " + parallelism);
        }
        return new ParallelMap(parallelism, null, false, null);
    }

    /** A copy that gives up after {@code timeout} (positive), counted from the start of {@link #map}. */
    public ParallelMap timeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        return new ParallelMap(parallelism, timeout, failFast, executor);
    }

    /** A copy that, when {@code failFast}, stops at the first failure. */
    public ParallelMap failFast(boolean failFast) {
        return new ParallelMap(parallelism, timeout, failFast, executor);
    }

    /** A copy that runs the items on {@code executor} instead of one virtual thread each. */
    public ParallelMap executor(Executor executor) {
        return new ParallelMap(parallelism, timeout, failFast, Objects.requireNonNull(executor, "executor"));
    }

    public int parallelism() {
        return parallelism;
    }

    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    public boolean isFailFast() {
        return failFast;
    }

    /**
     * The outcome of every item, in input order, and why the map stopped early, if it did.
     *
     * @param <O> the function's result type
     */
    public record Results<O>(List<Outcome<O>> outcomes, Optional<Cause> stoppedBy) {

        public Results {
            outcomes = Collections.unmodifiableList(new ArrayList<>(outcomes));
            Objects.requireNonNull(stoppedBy, "stoppedBy");
        }

        /**
         * Every value, in input order, like iterating Python's {@code executor.map}: throws for the first item (by
         * index) that did not succeed.
         *
         * @throws ExecutionException    wrapping the first failure's exception
         * @throws CancellationException if the first unsuccessful item was cancelled
         */
        public List<O> valuesOrThrow() throws ExecutionException {
            List<O> values = new ArrayList<>(outcomes.size());
            for (Outcome<O> outcome : outcomes) {
                switch (outcome) {
                    case Success<O>(int i, O value) -> values.add(value);
                    case Failure<O>(int i, Throwable error) -> throw new ExecutionException(
                            "item " + i + " failed: " + error, error);
                    case Cancelled<O>(int i, Cause cause, boolean running) -> throw new CancellationException(
                            "item " + i + " was cancelled (" + cause + ")");
                }
            }
            return Collections.unmodifiableList(values);
        }

        public long succeeded() {
            return outcomes.stream().filter(o -> o instanceof Success).count();
        }

        public List<Failure<O>> failures() {
            return outcomes.stream().<Failure<O>>mapMulti((o, sink) -> {
                if (o instanceof Failure<O> f) {
                    sink.accept(f);
                }
            }).toList();
        }

        public List<Cancelled<O>> cancelled() {
            return outcomes.stream().<Cancelled<O>>mapMulti((o, sink) -> {
                if (o instanceof Cancelled<O> c) {
                    sink.accept(c);
                }
            }).toList();
        }
    }

    /**
     * Applies {@code task} to every item of {@code inputs} (which may contain {@code null}s) and waits for the
     * outcomes; see the class comment for ordering, failures and the timeout.
     *
     * @throws InterruptedException       if the calling thread is interrupted (running items are interrupted too)
     * @throws RejectedExecutionException if the caller's executor refuses an item (running items are interrupted)
     */
    public <I, O> Results<O> map(List<? extends I> inputs, Task<? super I, ? extends O> task)
            throws InterruptedException {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(task, "task");
        return new Run<I, O>(new ArrayList<>(inputs), task).run();
    }

    /** One call of {@link #map}; its fields are confined to the calling thread except where noted. */
    private final class Run<I, O> {
        private final List<I> items;
        private final Task<? super I, ? extends O> task;
        private final List<FutureTask<O>> launched = new ArrayList<>();
        /** Indices of items whose thread has finished with them; written by the item threads. */
        private final BlockingQueue<Integer> finished = new LinkedBlockingQueue<>();
        /** 1 once the function has been entered for an item; written by the item threads. */
        private final AtomicIntegerArray entered;
        private final long start = System.nanoTime();
        private Cause stoppedBy;

        Run(List<I> items, Task<? super I, ? extends O> task) {
            this.items = items;
            this.task = task;
            this.entered = new AtomicIntegerArray(items.size());
        }

        Results<O> run() throws InterruptedException {
            int running = 0;
            try {
                while (true) {
                    while (stoppedBy == null && launched.size() < items.size() && running < parallelism) {
                        launch(launched.size());
                        running++;
                    }
                    if (running == 0) {
                        break;
                    }
                    Integer done = next();
                    if (done == null) { // the timeout expired
                        if (stoppedBy == null) {
                            stoppedBy = Cause.TIMEOUT;
                        }
                        cancelRunning();
                        break;
                    }
                    running--;
                    if (failFast && stoppedBy == null && launched.get(done).state() == FutureTask.State.FAILED) {
                        stoppedBy = Cause.FAIL_FAST;
                        cancelRunning();
                    }
                }
            } catch (InterruptedException | RuntimeException e) {
                cancelRunning();
                throw e;
            }
            return results();
        }

        private void launch(int index) {
            I item = items.get(index);
            FutureTask<O> future = new FutureTask<>(() -> {
                entered.set(index, 1);
                return task.apply(item);
            });
            launched.add(future);
            Runnable body = () -> {
                try {
                    future.run();
                } finally {
                    finished.add(index);
                }
            };
            if (executor == null) {
                Thread.ofVirtual().name("parallel-map-" + index).start(body);
            } else {
                executor.execute(body);
            }
        }

        /** The next finished index, or null when the timeout has expired. */
        private Integer next() throws InterruptedException {
            if (timeout == null) {
                return finished.take();
            }
            long left = timeout.toNanos() - (System.nanoTime() - start);
            return left <= 0 ? finished.poll() : finished.poll(left, TimeUnit.NANOSECONDS);
        }

        private void cancelRunning() {
            launched.forEach(f -> f.cancel(true));
        }

        private Results<O> results() {
            List<Outcome<O>> outcomes = new ArrayList<>(items.size());
            for (int i = 0; i < items.size(); i++) {
                if (i >= launched.size()) {
                    outcomes.add(new Cancelled<>(i, stoppedBy, false));
                    continue;
                }
                FutureTask<O> f = launched.get(i);
                outcomes.add(switch (f.state()) {
                    case SUCCESS -> new Success<>(i, f.resultNow());
                    case FAILED -> new Failure<>(i, f.exceptionNow());
                    // RUNNING cannot be seen here (every unfinished task was cancelled), but is a cancellation too.
                    case CANCELLED, RUNNING -> new Cancelled<>(i, stoppedBy, entered.get(i) == 1);
                });
            }
            return new Results<>(outcomes, Optional.ofNullable(stoppedBy));
        }
    }
}

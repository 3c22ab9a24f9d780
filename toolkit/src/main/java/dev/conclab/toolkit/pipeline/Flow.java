package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.BoundedChannel;
import dev.conclab.toolkit.channel.ChannelClosedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The output of a stage while a pipeline is being built: attach exactly one consumer to it (a stage, a sink, a
 * fan-out or a fan-in). Not thread-safe: used only while building, from the building thread.
 *
 * @param <T> the type of the items
 */
public final class Flow<T> {

    private final PipelineBuilder b;
    private final Outlet<T> outlet;

    Flow(PipelineBuilder b, Outlet<T> outlet) {
        this.b = b;
        this.outlet = outlet;
    }

    /**
     * A stage applying {@code fn} to every item with {@code options.parallelism()} workers; {@code null} results
     * are dropped, exceptions go to the dead letters.
     */
    public <R> Flow<R> map(String name, StageOptions options, StageFunction<? super T, ? extends R> fn) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(fn, "fn");
        BoundedChannel<T> in = b.consume(outlet, options.capacity());
        StageMetrics m = b.stage(name, options.parallelism(), in);
        Outlet<R> out = b.outlet(name, options.parallelism());
        Reorderer<R> reorderer = options.ordered() && options.parallelism() > 1
                ? new Reorderer<>(out, m, options.reorderWindow()) : null;
        for (int i = 0; i < options.parallelism(); i++) {
            b.task(name, i, options.virtualThreads(), p -> {
                try {
                    if (reorderer == null) {
                        mapUnordered(in, m, fn, out);
                    } else {
                        mapOrdered(in, m, fn, reorderer);
                    }
                } catch (InterruptedException | ChannelClosedException e) {
                    // cancelled
                } finally {
                    out.producerDone();
                }
            });
        }
        return new Flow<>(b, out);
    }

    /** {@link #map(String, StageOptions, StageFunction)} on one worker. */
    public <R> Flow<R> map(String name, StageFunction<? super T, ? extends R> fn) {
        return map(name, StageOptions.serial(), fn);
    }

    private <R> void mapUnordered(BoundedChannel<T> in, StageMetrics m, StageFunction<? super T, ? extends R> fn,
                                  Outlet<R> out) throws InterruptedException {
        Optional<T> next;
        while ((next = in.receive()).isPresent()) {
            R r = apply(m, fn, next.get());
            if (r != null) {
                out.send(r);
                m.out.increment();
            }
        }
    }

    private <R> void mapOrdered(BoundedChannel<T> in, StageMetrics m, StageFunction<? super T, ? extends R> fn,
                                Reorderer<R> reorderer) throws InterruptedException {
        while (true) {
            reorderer.window.acquire();
            Optional<T> next;
            long seq;
            reorderer.takeLock.lockInterruptibly();
            try {
                next = in.receive();
                seq = reorderer.nextSeq(); // taken with the item, under one lock: sequence = input order
            } finally {
                reorderer.takeLock.unlock();
            }
            if (next.isEmpty()) {
                reorderer.window.release();
                return;
            }
            reorderer.complete(seq, apply(m, fn, next.get()));
        }
    }

    /** Runs {@code fn} on one item, counting it and timing it; returns null if it failed (dead-lettered). */
    private <R> R apply(StageMetrics m, StageFunction<? super T, ? extends R> fn, T item)
            throws InterruptedException {
        m.in.increment();
        long t0 = System.nanoTime();
        try {
            return fn.apply(item);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            b.deadLetter(m, item, e);
            return null;
        } finally {
            m.busyNanos.add(System.nanoTime() - t0);
        }
    }

    /**
     * A one-worker stage grouping items into lists of up to {@code size}, in order; a partial batch leaves when
     * {@code maxWait} has passed since its first item, or at the end of the stream.
     */
    public Flow<List<T>> batch(String name, int size, long maxWait, TimeUnit unit) {
        if (size < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + size);
        }
        Objects.requireNonNull(unit, "unit");
        BoundedChannel<T> in = b.consume(outlet, Math.max(size, StageOptions.DEFAULT_CAPACITY));
        StageMetrics m = b.stage(name, 1, in);
        Outlet<List<T>> out = b.outlet(name, 1);
        long maxWaitNanos = unit.toNanos(maxWait);
        b.task(name, 0, false, p -> {
            try {
                List<T> batch = new ArrayList<>(size);
                long deadline = 0;
                while (true) {
                    Optional<T> next;
                    if (batch.isEmpty()) {
                        next = in.receive();
                    } else {
                        try {
                            next = in.receive(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                        } catch (TimeoutException e) {
                            out.send(batch);
                            m.out.increment();
                            batch = new ArrayList<>(size);
                            continue;
                        }
                    }
                    if (next.isEmpty()) {
                        break;
                    }
                    m.in.increment();
                    if (batch.isEmpty()) {
                        deadline = System.nanoTime() + maxWaitNanos;
                    }
                    batch.add(next.get());
                    if (batch.size() == size) {
                        out.send(batch);
                        m.out.increment();
                        batch = new ArrayList<>(size);
                    }
                }
                if (!batch.isEmpty()) {
                    out.send(batch);
                    m.out.increment();
                }
            } catch (InterruptedException | ChannelClosedException e) {
                // cancelled
            } finally {
                out.producerDone();
            }
        });
        return new Flow<>(b, out);
    }

    /**
     * Ends this branch: {@code sink} takes every item, on {@code options.parallelism()} workers. With more than
     * one worker the sink is called concurrently and in no particular order ({@code ordered} is ignored).
     */
    public void sink(String name, StageOptions options, ItemSink<? super T> sink) {
        Objects.requireNonNull(sink, "sink");
        StageOptions unordered = new StageOptions(options.parallelism(), options.virtualThreads(), options.capacity(),
                false, 1);
        StageMetrics[] self = new StageMetrics[1]; // set below, before any worker starts
        Flow<Boolean> done = map(name, unordered, item -> {
            sink.accept(item);
            self[0].out.increment(); // a sink's "out" is what it consumed without failing
            return null; // nothing flows out of a sink
        });
        self[0] = b.metrics.getLast();
        b.consume(done.outlet, 1); // an empty, closed-at-end channel nobody reads
    }

    /** {@link #sink(String, StageOptions, ItemSink)} on one worker. */
    public void sink(String name, ItemSink<? super T> sink) {
        sink(name, StageOptions.serial(), sink);
    }

    /**
     * Fan-out to {@code n} branches that each get every item, in order. One worker copies; it waits for the
     * slowest branch (backpressure from every branch).
     */
    public List<Flow<T>> broadcast(String name, int n) {
        return fanOut(name, n, StageOptions.DEFAULT_CAPACITY, null);
    }

    /** {@link #broadcast(String, int)} with an input channel of {@code capacity} items. */
    public List<Flow<T>> broadcast(String name, int n, int capacity) {
        return fanOut(name, n, capacity, null);
    }

    /**
     * Fan-out to {@code n} branches by key: each item goes to branch {@code floorMod(key.hashCode(), n)}, so
     * items with equal keys go to the same branch, in order.
     */
    public List<Flow<T>> partition(String name, int n, Function<? super T, ?> key) {
        return fanOut(name, n, StageOptions.DEFAULT_CAPACITY, Objects.requireNonNull(key, "key"));
    }

    /** {@link #partition(String, int, Function)} with an input channel of {@code capacity} items. */
    public List<Flow<T>> partition(String name, int n, int capacity, Function<? super T, ?> key) {
        return fanOut(name, n, capacity, Objects.requireNonNull(key, "key"));
    }

    private List<Flow<T>> fanOut(String name, int n, int capacity, Function<? super T, ?> key) {
        if (n < 1) {
            throw new IllegalArgumentException("branch count must be at least 1, got " + n);
        }
        BoundedChannel<T> in = b.consume(outlet, capacity);
        StageMetrics m = b.stage(name, 1, in);
        List<Outlet<T>> outs = new ArrayList<>();
        List<Flow<T>> flows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Outlet<T> o = b.outlet(name + "[" + i + "]", 1);
            outs.add(o);
            flows.add(new Flow<>(b, o));
        }
        b.task(name, 0, false, p -> {
            try {
                Optional<T> next;
                while ((next = in.receive()).isPresent()) {
                    T item = next.get();
                    m.in.increment();
                    long t0 = System.nanoTime();
                    if (key == null) {
                        for (Outlet<T> o : outs) {
                            o.send(item);
                        }
                    } else {
                        Object k;
                        try {
                            k = key.apply(item);
                        } catch (RuntimeException e) {
                            b.deadLetter(m, item, e);
                            continue;
                        }
                        outs.get(Math.floorMod(Objects.hashCode(k), n)).send(item);
                    }
                    m.busyNanos.add(System.nanoTime() - t0);
                    m.out.increment();
                }
            } catch (InterruptedException | ChannelClosedException e) {
                // cancelled
            } finally {
                outs.forEach(Outlet::producerDone);
            }
        });
        return List.copyOf(flows);
    }

    /** Fan-in: one flow with the items of all {@code flows}, interleaved as they come (each input's order kept). */
    @SafeVarargs
    public static <T> Flow<T> merge(String name, Flow<? extends T>... flows) {
        return merge(name, StageOptions.DEFAULT_CAPACITY, flows);
    }

    /** {@link #merge(String, Flow[])} with an input channel of {@code capacity} items per merged flow. */
    @SafeVarargs
    public static <T> Flow<T> merge(String name, int capacity, Flow<? extends T>... flows) {
        if (flows.length == 0) {
            throw new IllegalArgumentException("merge needs at least one flow");
        }
        PipelineBuilder b = flows[0].b;
        StageMetrics m = b.stage(name, flows.length, null);
        Outlet<T> out = b.outlet(name, flows.length);
        for (int i = 0; i < flows.length; i++) {
            @SuppressWarnings("unchecked") Flow<T> f = (Flow<T>) flows[i];
            if (f.b != b) {
                throw new IllegalArgumentException("cannot merge flows of different pipelines");
            }
            BoundedChannel<T> in = b.consume(f.outlet, capacity);
            m.addInput(in);
            b.task(name, i, false, p -> forward(in, m, out));
        }
        return new Flow<>(b, out);
    }

    private static <T> void forward(BoundedChannel<T> in, StageMetrics m, Outlet<T> out) {
        try {
            Optional<T> next;
            while ((next = in.receive()).isPresent()) {
                m.in.increment();
                out.send(next.get());
                m.out.increment();
            }
        } catch (InterruptedException | ChannelClosedException e) {
            // cancelled
        } finally {
            out.producerDone();
        }
    }

    /**
     * Keyed join of two flows: each left item is paired with one right item of an equal key, in whichever order
     * they arrive, and {@code combine} makes the output. Items still unpaired when both inputs end go to the dead
     * letters with a {@link NoSuchElementException}. Unpaired items are held in memory until their match comes:
     * the join's memory is bounded by how far apart matching items arrive, not by a channel.
     */
    public static <L, R, K, O> Flow<O> join(String name, Flow<L> left, Flow<R> right,
                                            Function<? super L, ? extends K> leftKey,
                                            Function<? super R, ? extends K> rightKey,
                                            BiFunction<? super L, ? super R, ? extends O> combine) {
        Objects.requireNonNull(leftKey, "leftKey");
        Objects.requireNonNull(rightKey, "rightKey");
        Objects.requireNonNull(combine, "combine");
        PipelineBuilder b = left.b;
        if (right.b != b) {
            throw new IllegalArgumentException("cannot join flows of different pipelines");
        }
        BoundedChannel<L> inL = b.consume(left.outlet, StageOptions.DEFAULT_CAPACITY);
        BoundedChannel<R> inR = b.consume(right.outlet, StageOptions.DEFAULT_CAPACITY);
        StageMetrics m = b.stage(name, 2, inL);
        m.addInput(inR);
        Outlet<O> out = b.outlet(name, 2);
        JoinState<K, L, R> state = new JoinState<>();
        b.task(name, 0, false, p -> joinSide(b, m, inL, leftKey, state.lock, state.left, state.right,
                (l, r) -> combine.apply(l, r), out, state));
        b.task(name, 1, false, p -> joinSide(b, m, inR, rightKey, state.lock, state.right, state.left,
                (r, l) -> combine.apply(l, r), out, state));
        return new Flow<>(b, out);
    }

    /** The unpaired items of a join, by key; both sides' workers share one lock. */
    private static final class JoinState<K, L, R> {
        final ReentrantLock lock = new ReentrantLock();
        final Map<K, ArrayDeque<L>> left = new HashMap<>();
        final Map<K, ArrayDeque<R>> right = new HashMap<>();
        int sidesDone; // guarded by lock
    }

    private static <K, A, B, O> void joinSide(PipelineBuilder b, StageMetrics m, BoundedChannel<A> in,
                                              Function<? super A, ? extends K> key, ReentrantLock lock,
                                              Map<K, ArrayDeque<A>> mine, Map<K, ArrayDeque<B>> theirs,
                                              BiFunction<A, B, ? extends O> combine, Outlet<O> out,
                                              JoinState<K, ?, ?> state) {
        try {
            Optional<A> next;
            while ((next = in.receive()).isPresent()) {
                A item = next.get();
                m.in.increment();
                long t0 = System.nanoTime();
                O result = null;
                try {
                    K k = key.apply(item);
                    B match;
                    lock.lock();
                    try {
                        ArrayDeque<B> waiting = theirs.get(k);
                        match = waiting == null ? null : waiting.poll();
                        if (waiting != null && waiting.isEmpty()) {
                            theirs.remove(k);
                        }
                        if (match == null) {
                            mine.computeIfAbsent(k, x -> new ArrayDeque<>()).add(item);
                        }
                    } finally {
                        lock.unlock();
                    }
                    if (match != null) {
                        result = combine.apply(item, match);
                    }
                } catch (RuntimeException e) {
                    b.deadLetter(m, item, e);
                }
                m.busyNanos.add(System.nanoTime() - t0);
                if (result != null) {
                    out.send(result);
                    m.out.increment();
                }
            }
            lock.lock();
            try {
                if (++state.sidesDone == 2) { // the last side flushes what never matched, both sides
                    for (var e : state.left.entrySet()) {
                        e.getValue().forEach(i -> b.deadLetter(m, i,
                                new NoSuchElementException("no right item with key " + e.getKey())));
                    }
                    for (var e : state.right.entrySet()) {
                        e.getValue().forEach(i -> b.deadLetter(m, i,
                                new NoSuchElementException("no left item with key " + e.getKey())));
                    }
                }
            } finally {
                lock.unlock();
            }
        } catch (InterruptedException | ChannelClosedException e) {
            // cancelled
        } finally {
            out.producerDone();
        }
    }
}

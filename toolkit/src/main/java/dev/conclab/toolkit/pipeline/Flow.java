package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.ChannelClosedException;
import dev.conclab.toolkit.pipeline.BatchingChannel.Receiver;
import dev.conclab.toolkit.pipeline.BatchingChannel.Sender;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The output of a stage while a pipeline is being built: attach exactly one consumer to it (a stage, a sink, a
 * fan-out or a fan-in). Not thread-safe: used only while building, from the building thread.
 *
 * <p>Every consumer reads its input through a {@link BatchingChannel} of its own options' capacity and hand-off
 * batch size ({@link StageOptions#handoffBatch()}); each producing worker sends through a sender of its own, which
 * it flushes before it waits for its own input and when it ends, and which a waiting consumer empties by itself
 * (see the package documentation).
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
     * are dropped, exceptions go to the dead letters (after the retries of {@link StageOptions#retry()}, each call
     * limited by {@link StageOptions#timeout()}). One worker takes up to {@code options.handoffBatch()} waiting
     * items at a time; several workers take one item at a time, so a worker stuck on an item holds back no other
     * (the items still reach the stage in batches, with one lock acquisition per batch on the sending side).
     */
    public <R> Flow<R> map(String name, StageOptions options, StageFunction<? super T, ? extends R> fn) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(fn, "fn");
        BatchingChannel<T> in = b.consume(outlet, options.capacity(), options.handoffBatch());
        StageMetrics m = b.stage(name, options.parallelism(), in);
        Outlet<R> out = b.outlet(name, options.parallelism());
        Watchdog watchdog = b.watchdog(name, options);
        boolean ordered = options.ordered() && options.parallelism() > 1;
        Reorderer<R> reorderer = ordered ? new Reorderer<>(out, options.reorderWindow()) : null;
        Receiver<T> shared = ordered ? in.newReceiver() : null; // taken under takeLock: sequence = input order
        for (int i = 0; i < options.parallelism(); i++) {
            WorkerStats w = m.newWorker();
            ItemRunner runner = new ItemRunner(b, m, w, options, watchdog);
            Receiver<T> r = ordered ? shared : in.newReceiver();
            b.task(name, i, options.virtualThreads(), p -> {
                w.start();
                try {
                    if (reorderer == null) {
                        r.clock(w);
                        mapUnordered(p, r, w, runner, fn, out.newSender(w));
                    } else {
                        mapOrdered(p, r, w, runner, fn, reorderer);
                    }
                } catch (InterruptedException | ChannelClosedException e) {
                    // cancelled
                } finally {
                    w.stop();
                    out.producerDone();
                    if (watchdog != null) {
                        watchdog.workerDone();
                    }
                }
            });
        }
        return new Flow<>(b, out);
    }

    /** {@link #map(String, StageOptions, StageFunction)} on one worker. */
    public <R> Flow<R> map(String name, StageFunction<? super T, ? extends R> fn) {
        return map(name, StageOptions.serial(), fn);
    }

    private <R> void mapUnordered(Pipeline p, Receiver<T> in, WorkerStats w, ItemRunner runner,
                                  StageFunction<? super T, ? extends R> fn, Sender<R> out)
            throws InterruptedException {
        BatchingChannel.BeforeWait flush = out::flush;
        T item;
        while ((item = in.receive(flush)) != null) {
            w.countIn();
            R r = runner.apply(p, fn, item);
            if (r != null) {
                w.countOut(); // before the hand-over: an interrupted send leaves the item in flight, not unsent
                out.send(r);
            }
        }
        out.flush();
    }

    private <R> void mapOrdered(Pipeline p, Receiver<T> in, WorkerStats w, ItemRunner runner,
                                StageFunction<? super T, ? extends R> fn, Reorderer<R> reorderer)
            throws InterruptedException {
        BatchingChannel.BeforeWait flush = () -> reorderer.flush(w);
        while (true) {
            if (!reorderer.window.tryAcquire()) {
                w.waiting(reorderer.window::acquire);
            }
            T item;
            long seq;
            if (!reorderer.takeLock.tryLock()) {
                w.waiting(reorderer.takeLock::lockInterruptibly);
            }
            try {
                in.clock(w);
                item = in.receive(flush);
                seq = reorderer.nextSeq(); // taken with the item, under one lock: sequence = input order
            } finally {
                reorderer.takeLock.unlock();
            }
            if (item == null) {
                reorderer.window.release();
                break;
            }
            w.countIn();
            reorderer.complete(seq, runner.apply(p, fn, item), w);
        }
        reorderer.flush(w);
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
        BatchingChannel<T> in = b.consume(outlet, Math.max(size, StageOptions.DEFAULT_CAPACITY),
                StageOptions.DEFAULT_HANDOFF_BATCH);
        StageMetrics m = b.stage(name, 1, in);
        Outlet<List<T>> out = b.outlet(name, 1);
        long maxWaitNanos = unit.toNanos(maxWait);
        WorkerStats w = m.newWorker();
        Receiver<T> r = in.newReceiver();
        r.clock(w);
        b.task(name, 0, false, p -> {
            w.start();
            try {
                Sender<List<T>> s = out.newSender(w);
                List<T> batch = new ArrayList<>(size);
                long deadline = 0;
                while (true) {
                    T next;
                    if (batch.isEmpty()) {
                        next = r.receive(s::flush);
                    } else {
                        try {
                            next = r.receive(deadline - System.nanoTime(), TimeUnit.NANOSECONDS, s::flush);
                        } catch (TimeoutException e) {
                            w.countOut();
                            s.send(batch);
                            batch = new ArrayList<>(size);
                            continue;
                        }
                    }
                    if (next == null) {
                        break;
                    }
                    w.countIn();
                    if (batch.isEmpty()) {
                        deadline = System.nanoTime() + maxWaitNanos;
                    }
                    batch.add(next);
                    if (batch.size() == size) {
                        w.countOut();
                        s.send(batch);
                        batch = new ArrayList<>(size);
                    }
                }
                if (!batch.isEmpty()) {
                    w.countOut();
                    s.send(batch);
                }
                s.flush();
            } catch (InterruptedException | ChannelClosedException e) {
                // cancelled
            } finally {
                w.stop();
                out.producerDone();
            }
        });
        return new Flow<>(b, out);
    }

    /**
     * Ends this branch: {@code sink} takes every item, on {@code options.parallelism()} workers. With more than
     * one worker the sink is called concurrently and in no particular order ({@code ordered} is ignored). An
     * exception from the sink sends the item to the dead letters, after the retries of {@link StageOptions#retry()},
     * each call limited by {@link StageOptions#timeout()}.
     */
    public void sink(String name, StageOptions options, ItemSink<? super T> sink) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(sink, "sink");
        BatchingChannel<T> in = b.consume(outlet, options.capacity(), options.handoffBatch());
        StageMetrics m = b.stage(name, options.parallelism(), in);
        Watchdog watchdog = b.watchdog(name, options);
        StageFunction<T, T> call = item -> {
            sink.accept(item);
            return item; // never null: items are not null, so null means "dead-lettered"
        };
        for (int i = 0; i < options.parallelism(); i++) {
            WorkerStats w = m.newWorker();
            ItemRunner runner = new ItemRunner(b, m, w, options, watchdog);
            Receiver<T> r = in.newReceiver();
            r.clock(w);
            b.task(name, i, options.virtualThreads(), p -> {
                w.start();
                try {
                    T item;
                    while ((item = r.receive((BatchingChannel.BeforeWait) null)) != null) {
                        w.countIn();
                        if (runner.apply(p, call, item) != null) {
                            w.countOut(); // a sink's "out" is what it consumed without failing
                        }
                    }
                } catch (InterruptedException | ChannelClosedException e) {
                    // cancelled
                } finally {
                    w.stop();
                    if (watchdog != null) {
                        watchdog.workerDone();
                    }
                }
            });
        }
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
        BatchingChannel<T> in = b.consume(outlet, capacity, StageOptions.DEFAULT_HANDOFF_BATCH);
        StageMetrics m = b.stage(name, 1, in);
        List<Outlet<T>> outs = new ArrayList<>();
        List<Flow<T>> flows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Outlet<T> o = b.outlet(name + "[" + i + "]", 1);
            outs.add(o);
            flows.add(new Flow<>(b, o));
        }
        WorkerStats w = m.newWorker();
        Receiver<T> r = in.newReceiver();
        r.clock(w);
        b.task(name, 0, false, p -> {
            w.start();
            try {
                List<Sender<T>> senders = outs.stream().map(o -> o.newSender(w)).toList();
                BatchingChannel.BeforeWait flushAll = () -> {
                    for (Sender<T> s : senders) {
                        s.flush();
                    }
                };
                T item;
                while ((item = r.receive(flushAll)) != null) {
                    w.countIn();
                    if (key == null) {
                        w.countOut();
                        for (Sender<T> s : senders) {
                            s.send(item);
                        }
                    } else {
                        Object k;
                        try {
                            k = key.apply(item);
                        } catch (RuntimeException e) {
                            b.deadLetter(m, item, e);
                            continue;
                        }
                        w.countOut();
                        senders.get(Math.floorMod(Objects.hashCode(k), n)).send(item);
                    }
                }
                flushAll.run();
            } catch (InterruptedException | ChannelClosedException e) {
                // cancelled
            } finally {
                w.stop();
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
            BatchingChannel<T> in = b.consume(f.outlet, capacity, StageOptions.DEFAULT_HANDOFF_BATCH);
            m.addInput(in);
            WorkerStats w = m.newWorker();
            Receiver<T> r = in.newReceiver();
            r.clock(w);
            b.task(name, i, false, p -> forward(r, w, out));
        }
        return new Flow<>(b, out);
    }

    private static <T> void forward(Receiver<T> in, WorkerStats w, Outlet<T> out) {
        w.start();
        try {
            Sender<T> s = out.newSender(w);
            BatchingChannel.BeforeWait flush = s::flush;
            T item;
            while ((item = in.receive(flush)) != null) {
                w.countIn();
                w.countOut();
                s.send(item);
            }
            s.flush();
        } catch (InterruptedException | ChannelClosedException e) {
            // cancelled
        } finally {
            w.stop();
            out.producerDone();
        }
    }

    /**
     * Keyed join of two flows: each left item is paired with one right item of an equal key, in whichever order
     * they arrive, and {@code combine} makes the output. Items still unpaired when both inputs end go to the dead
     * letters with a {@link NoSuchElementException}. Unpaired items are held in memory until their match comes:
     * the join's memory is bounded by how far apart matching items arrive, not by a channel. Each input channel
     * holds {@link StageOptions#DEFAULT_CAPACITY} items.
     */
    public static <L, R, K, O> Flow<O> join(String name, Flow<L> left, Flow<R> right,
                                            Function<? super L, ? extends K> leftKey,
                                            Function<? super R, ? extends K> rightKey,
                                            BiFunction<? super L, ? super R, ? extends O> combine) {
        return join(name, StageOptions.DEFAULT_CAPACITY, left, right, leftKey, rightKey, combine);
    }

    /**
     * {@link #join(String, Flow, Flow, Function, Function, BiFunction)} with input channels of {@code capacity}
     * items each.
     *
     * @throws IllegalArgumentException if {@code capacity} is less than 1
     */
    public static <L, R, K, O> Flow<O> join(String name, int capacity, Flow<L> left, Flow<R> right,
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
        BatchingChannel<L> inL = b.consume(left.outlet, capacity, StageOptions.DEFAULT_HANDOFF_BATCH);
        BatchingChannel<R> inR = b.consume(right.outlet, capacity, StageOptions.DEFAULT_HANDOFF_BATCH);
        StageMetrics m = b.stage(name, 2, inL);
        m.addInput(inR);
        Outlet<O> out = b.outlet(name, 2);
        JoinState<K, L, R> state = new JoinState<>();
        WorkerStats wL = m.newWorker();
        WorkerStats wR = m.newWorker();
        Receiver<L> rL = inL.newReceiver();
        Receiver<R> rR = inR.newReceiver();
        rL.clock(wL);
        rR.clock(wR);
        b.task(name, 0, false, p -> joinSide(b, m, rL, wL, leftKey, state.left, state.right,
                (l, r) -> combine.apply(l, r), out, state));
        b.task(name, 1, false, p -> joinSide(b, m, rR, wR, rightKey, state.right, state.left,
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

    private static <K, A, B, O> void joinSide(PipelineBuilder b, StageMetrics m, Receiver<A> in, WorkerStats w,
                                              Function<? super A, ? extends K> key,
                                              Map<K, ArrayDeque<A>> mine, Map<K, ArrayDeque<B>> theirs,
                                              BiFunction<A, B, ? extends O> combine, Outlet<O> out,
                                              JoinState<K, ?, ?> state) {
        ReentrantLock lock = state.lock;
        w.start();
        try {
            Sender<O> s = out.newSender(w);
            BatchingChannel.BeforeWait flush = s::flush;
            A item;
            while ((item = in.receive(flush)) != null) {
                w.countIn();
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
                if (result != null) {
                    w.countOut();
                    s.send(result);
                }
            }
            s.flush();
            lock.lock();
            try {
                if (++state.sidesDone == 2) { // the last side flushes what never matched, both sides
                    for (var e : state.left.entrySet()) {
                        e.getValue().forEach(i -> b.deadLetter(m, i,
                                new NoSuchElementException("no right item with key " + e.getKey()), 0));
                    }
                    for (var e : state.right.entrySet()) {
                        e.getValue().forEach(i -> b.deadLetter(m, i,
                                new NoSuchElementException("no left item with key " + e.getKey()), 0));
                    }
                }
            } finally {
                lock.unlock();
            }
        } catch (InterruptedException | ChannelClosedException e) {
            // cancelled
        } finally {
            w.stop();
            out.producerDone();
        }
    }
}

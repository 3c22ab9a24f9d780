package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.BoundedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Assembles a pipeline: a source, then stages attached through {@link Flow}s, then {@link #start()}. Not
 * thread-safe: build from one thread. Each flow has exactly one consumer; fan out with {@link Flow#broadcast} or
 * {@link Flow#partition}.
 */
public final class PipelineBuilder {

    /** A worker to start: its thread name, kind, and body. */
    record Task(String threadName, boolean virtual, Worker body) {}

    /** The body of a worker thread. */
    @FunctionalInterface
    interface Worker {
        void run(Pipeline pipeline) throws Exception;
    }

    final List<Task> tasks = new ArrayList<>();
    final List<StageMetrics> metrics = new ArrayList<>();
    final List<BoundedChannel<?>> channels = new ArrayList<>();
    final List<Outlet<?>> outlets = new ArrayList<>();
    final ConcurrentLinkedQueue<DeadLetter> collected = new ConcurrentLinkedQueue<>();
    Consumer<DeadLetter> deadLetterSink = collected::add;
    private final List<String> names = new ArrayList<>();
    private boolean started;

    PipelineBuilder() {}

    /**
     * Sends dead letters to {@code sink} instead of collecting them in {@link Pipeline#deadLetters()}. The sink is
     * called from the worker threads, concurrently, and must be thread-safe and quick.
     */
    public PipelineBuilder deadLetters(Consumer<DeadLetter> sink) {
        this.deadLetterSink = Objects.requireNonNull(sink, "sink");
        return this;
    }

    /** A source stage running {@code source} on one platform thread. */
    public <T> Flow<T> source(String name, Source<T> source) {
        Objects.requireNonNull(source, "source");
        StageMetrics m = stage(name, 1, null);
        Outlet<T> out = outlet(name, 1);
        task(name, 0, false, p -> {
            try {
                source.produce(item -> {
                    Objects.requireNonNull(item, "item");
                    if (p.isDraining()) {
                        return false;
                    }
                    out.send(item);
                    m.out.increment();
                    return true;
                });
            } catch (InterruptedException | dev.conclab.toolkit.channel.ChannelClosedException e) {
                // cancelled
            } catch (Exception e) {
                deadLetter(m, null, e); // a failing source ends its stream; what it emitted still drains
            } finally {
                out.producerDone();
            }
        });
        return new Flow<>(this, out);
    }

    /** A source stage emitting the items of {@code items} in order. */
    public <T> Flow<T> source(String name, Iterable<? extends T> items) {
        Objects.requireNonNull(items, "items");
        return source(name, out -> {
            for (T item : items) {
                if (!out.emit(item)) {
                    return;
                }
            }
        });
    }

    /**
     * Starts every stage's workers.
     *
     * @throws IllegalStateException if a flow has no consumer, or if already started
     */
    public Pipeline start() {
        if (started) {
            throw new IllegalStateException("pipeline already started");
        }
        for (Outlet<?> o : outlets) {
            if (!o.attached()) {
                throw new IllegalStateException("the output of stage '" + o.producerName
                        + "' has no consumer; end it with sink(...)");
            }
        }
        started = true;
        return Pipeline.start(this);
    }

    // ---- used by Flow ----

    StageMetrics stage(String name, int parallelism, BoundedChannel<?> input) {
        Objects.requireNonNull(name, "name");
        if (started) {
            throw new IllegalStateException("pipeline already started");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("duplicate stage name: " + name);
        }
        names.add(name);
        StageMetrics m = new StageMetrics(name, parallelism, input);
        metrics.add(m);
        return m;
    }

    <T> Outlet<T> outlet(String producer, int producers) {
        Outlet<T> o = new Outlet<>(producer);
        o.addProducers(producers);
        outlets.add(o);
        return o;
    }

    <T> BoundedChannel<T> consume(Outlet<T> from, int capacity) {
        BoundedChannel<T> ch = new BoundedChannel<>(capacity);
        from.attach(ch);
        channels.add(ch);
        return ch;
    }

    void task(String stage, int index, boolean virtual, Worker body) {
        tasks.add(new Task("pipeline-" + stage + "-" + index, virtual, body));
    }

    void deadLetter(StageMetrics m, Object item, Throwable cause) {
        m.failed.increment();
        deadLetterSink.accept(new DeadLetter(m.name, item, cause));
    }
}

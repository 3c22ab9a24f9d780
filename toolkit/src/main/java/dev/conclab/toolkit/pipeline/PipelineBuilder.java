package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.ChannelClosedException;
import java.time.Duration;
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
    final List<BatchingChannel<?>> channels = new ArrayList<>();
    final List<Outlet<?>> outlets = new ArrayList<>();
    final ConcurrentLinkedQueue<DeadLetter> collected = new ConcurrentLinkedQueue<>();
    Consumer<DeadLetter> deadLetterSink = collected::add;
    ItemRunner.Sleeper sleeper = ItemRunner.Sleeper.REAL; // the backoff wait; tests replace it
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

    /**
     * A source stage running {@code source} on one platform thread. Its items are handed to the next stage in
     * batches (that stage's {@link StageOptions#handoffBatch()}); a partial batch leaves as soon as the next stage
     * waits for input, and when the source returns.
     */
    public <T> Flow<T> source(String name, Source<T> source) {
        Objects.requireNonNull(source, "source");
        StageMetrics m = stage(name, 1, null);
        Outlet<T> out = outlet(name, 1);
        WorkerStats w = m.newWorker();
        task(name, 0, false, p -> {
            w.start();
            try {
                BatchingChannel.Sender<T> s = out.newSender(w);
                boolean ended;
                try {
                    source.produce(item -> {
                        Objects.requireNonNull(item, "item");
                        if (p.isDraining()) {
                            return false;
                        }
                        // Counted before the hand-over: if cancel() interrupts it, the item stays in the
                        // sender's batch, where a receiver may already have taken it; it is in flight, not unsent.
                        w.countOut();
                        s.send(item);
                        return true;
                    });
                    ended = true;
                } catch (InterruptedException | ChannelClosedException e) {
                    ended = !p.isCancelled();
                    if (ended) {
                        deadLetter(m, null, e); // interrupted by something else: the stream ends, what it emitted drains
                    }
                } catch (Exception e) {
                    deadLetter(m, null, e); // a failing source ends its stream; what it emitted still drains
                    ended = true;
                }
                if (ended) {
                    s.flush();
                }
            } catch (InterruptedException | ChannelClosedException e) {
                // cancelled while flushing
            } finally {
                w.stop();
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

    StageMetrics stage(String name, int parallelism, BatchingChannel<?> input) {
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

    /** The input channel of a consumer of {@code from}; a batch never exceeds the channel's capacity. */
    <T> BatchingChannel<T> consume(Outlet<T> from, int capacity, int handoffBatch) {
        BatchingChannel<T> ch = new BatchingChannel<>(capacity, Math.min(handoffBatch, capacity));
        from.attach(ch);
        channels.add(ch);
        return ch;
    }

    void task(String stage, int index, boolean virtual, Worker body) {
        tasks.add(new Task("pipeline-" + stage + "-" + index, virtual, body));
    }

    /** The watchdog enforcing a stage's time limit, started as one more task of the stage, or null if none. */
    Watchdog watchdog(String stage, StageOptions options) {
        if (options.timeout() == null) {
            return null;
        }
        // a limit above a year is clamped to one: as good as none, and deadlines then never overflow
        long nanos = options.timeout().compareTo(Duration.ofDays(365)) > 0 ? Duration.ofDays(365).toNanos()
                : options.timeout().toNanos();
        Watchdog wd = new Watchdog(nanos);
        tasks.add(new Task("pipeline-" + stage + "-watchdog", false, p -> wd.run()));
        return wd;
    }

    void deadLetter(StageMetrics m, Object item, Throwable cause) {
        deadLetter(m, item, cause, 1);
    }

    void deadLetter(StageMetrics m, Object item, Throwable cause, int attempts) {
        m.failed.increment();
        deadLetterSink.accept(new DeadLetter(m.name, item, cause, attempts));
    }
}

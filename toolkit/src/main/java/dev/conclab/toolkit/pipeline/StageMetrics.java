package dev.conclab.toolkit.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/** Live counters of one stage: one {@link WorkerStats} per worker, summed when a snapshot is taken. */
final class StageMetrics {
    final String name;
    final int parallelism;
    private final List<BatchingChannel<?>> inputs = new CopyOnWriteArrayList<>(); // none for a source; 2+ for fan-in
    private final List<WorkerStats> workers = new CopyOnWriteArrayList<>();
    final LongAdder failed = new LongAdder(); // rare, and also written by other threads (a join's last side)
    final LongAdder retried = new LongAdder(); // rare: per failed call, not per item
    final LongAdder timedOut = new LongAdder();

    StageMetrics(String name, int parallelism, BatchingChannel<?> input) {
        this.name = name;
        this.parallelism = parallelism;
        if (input != null) {
            inputs.add(input);
        }
    }

    /** Adds an input channel (fan-in stages read several); called while building. */
    void addInput(BatchingChannel<?> input) {
        inputs.add(input);
    }

    /** The counters of a new worker; called while building. */
    WorkerStats newWorker() {
        WorkerStats w = new WorkerStats();
        workers.add(w);
        return w;
    }

    StageStats snapshot() {
        long in = 0;
        long out = 0;
        long busy = 0;
        long attempts = 0;
        for (WorkerStats w : workers) {
            attempts += w.attempts();
            in += w.in();
            out += w.out();
            busy += w.busyNanos();
        }
        return new StageStats(name, parallelism, in, out, failed.sum(),
                inputs.stream().mapToInt(BatchingChannel::waiting).sum(),
                inputs.stream().mapToInt(BatchingChannel::capacity).sum(),
                Duration.ofNanos(busy), attempts, retried.sum(), timedOut.sum());
    }
}

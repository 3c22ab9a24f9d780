package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.BoundedChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/** Live counters of one stage, updated by its workers without contention (LongAdder). */
final class StageMetrics {
    final String name;
    final int parallelism;
    private final List<BoundedChannel<?>> inputs = new CopyOnWriteArrayList<>(); // none for a source; 2+ for fan-in
    final LongAdder in = new LongAdder();
    final LongAdder out = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder busyNanos = new LongAdder();

    StageMetrics(String name, int parallelism, BoundedChannel<?> input) {
        this.name = name;
        this.parallelism = parallelism;
        if (input != null) {
            inputs.add(input);
        }
    }

    /** Adds an input channel (fan-in stages read several); called while building. */
    void addInput(BoundedChannel<?> input) {
        inputs.add(input);
    }

    StageStats snapshot() {
        return new StageStats(name, parallelism, in.sum(), out.sum(), failed.sum(),
                inputs.stream().mapToInt(BoundedChannel::size).sum(),
                inputs.stream().mapToInt(BoundedChannel::capacity).sum(),
                Duration.ofNanos(busyNanos.sum()));
    }
}

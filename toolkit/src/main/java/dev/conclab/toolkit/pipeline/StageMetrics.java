package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.BoundedChannel;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/** Live counters of one stage, updated by its workers without contention (LongAdder). */
final class StageMetrics {
    final String name;
    final int parallelism;
    final BoundedChannel<?> input; // null for a source
    final LongAdder in = new LongAdder();
    final LongAdder out = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder busyNanos = new LongAdder();

    StageMetrics(String name, int parallelism, BoundedChannel<?> input) {
        this.name = name;
        this.parallelism = parallelism;
        this.input = input;
    }

    StageStats snapshot() {
        return new StageStats(name, parallelism, in.sum(), out.sum(), failed.sum(),
                input == null ? 0 : input.size(), input == null ? 0 : input.capacity(),
                Duration.ofNanos(busyNanos.sum()));
    }
}

package dev.conclab.lab.experiments.pipelines;

import dev.conclab.toolkit.pipeline.Pipeline;
import dev.conclab.toolkit.pipeline.PipelineBuilder;
import dev.conclab.toolkit.pipeline.StageOptions;
import dev.conclab.toolkit.pipeline.StageStats;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Stopping a running pipeline early, graceful ({@code drain()}) vs immediate ({@code cancel()}), on the same
 * source (up to {@code total} items) → 2-worker stage → sink. The sink holds its {@code stopAfter}-th item at a
 * latch until the main thread has called {@code drain()} or {@code cancel()}, so the stop always lands mid-run,
 * whatever the machine's speed: at least that held item is in flight (how many more the source had handed over by
 * then depends on the schedule). Each method ends with no worker thread left.
 */
final class FaultTolerantStops {

    private static final int CAPACITY = 16;
    private static final long LATCH_SECONDS = 5;

    /**
     * What the engine's metrics said after the stop.
     *
     * @param total     items the source could have emitted
     * @param accepted  items the source handed over (the source stage's items out)
     * @param sunk      items the sink consumed
     * @param failed    items dead-lettered, all stages
     * @param ended     whether every worker had ended within the wait ({@code await} with a timeout)
     * @param stopMillis time from the stop call to the last worker's end
     */
    record Outcome(int total, long accepted, long sunk, long failed, boolean ended, double stopMillis) {
        /** Accepted items that reached neither the sink nor the dead letters. */
        long lost() {
            return accepted - sunk - failed;
        }
    }

    private FaultTolerantStops() {
    }

    static Outcome drain(int total, int stopAfter) throws InterruptedException {
        return stop(total, stopAfter, true);
    }

    static Outcome cancel(int total, int stopAfter) throws InterruptedException {
        return stop(total, stopAfter, false);
    }

    private static Outcome stop(int total, int stopAfter, boolean graceful) throws InterruptedException {
        CountDownLatch reached = new CountDownLatch(1);
        CountDownLatch stopCalled = new CountDownLatch(1);
        int[] consumed = new int[1]; // one sink worker
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("source", out -> {
                    for (int i = 0; i < total && out.emit(i); i++) {
                        // emit returns false once the pipeline drains: the source stops there
                    }
                })
                .map("transform", StageOptions.parallel(2).withCapacity(CAPACITY), i -> i * 2)
                .sink("load", StageOptions.serial().withCapacity(CAPACITY), i -> {
                    if (++consumed[0] == stopAfter) {
                        reached.countDown();
                        stopCalled.await(LATCH_SECONDS, TimeUnit.SECONDS); // cancel() interrupts this wait
                    }
                });
        Pipeline p = b.start();
        try {
            reached.await(LATCH_SECONDS, TimeUnit.SECONDS);
            long t0 = System.nanoTime();
            if (graceful) {
                p.drain();
                stopCalled.countDown();
            } else {
                p.cancel();
            }
            boolean ended = p.await(graceful ? LATCH_SECONDS : 1, TimeUnit.SECONDS);
            double stopMillis = (System.nanoTime() - t0) / 1e6;
            List<StageStats> stats = p.metrics();
            return new Outcome(total, stage(stats, "source").itemsOut(), stage(stats, "load").itemsOut(),
                    stats.stream().mapToLong(StageStats::failed).sum(), ended, stopMillis);
        } finally {
            stopCalled.countDown();
            p.close();
        }
    }

    /** The stage named {@code name} in a metrics snapshot. */
    static StageStats stage(List<StageStats> stats, String name) {
        return stats.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no stage named " + name + " in " + stats));
    }
}

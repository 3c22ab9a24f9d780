package dev.conclab.toolkit.pipeline;

import java.time.Duration;

/**
 * A snapshot of one stage's counters. The counters are read one by one, not atomically together, so a snapshot
 * taken while the pipeline runs may be off by the items in motion.
 *
 * @param name          the stage's name
 * @param parallelism   the stage's number of workers
 * @param itemsIn       items the stage has taken from its input
 * @param itemsOut      items the stage has passed on (or consumed, for a sink)
 * @param failed        items sent to the dead letters by this stage
 * @param queueDepth    items sent toward the stage and not yet taken up by its workers, counted one by one: in its
 *                      input channel, in the partial batches of the workers sending to it, and in the chunks its
 *                      workers have taken but not reached (summed over the inputs of a merge or join); it can
 *                      exceed {@code queueCapacity} by those batches and chunks
 * @param queueCapacity the capacity of the stage's input channel, in items (summed likewise)
 * @param busy          total time the workers spent working, summed over workers: their running time minus the
 *                      time they waited for input or for room downstream (time blocked inside the stage's own
 *                      function counts as busy)
 */
public record StageStats(String name, int parallelism, long itemsIn, long itemsOut, long failed, int queueDepth,
                         int queueCapacity, Duration busy) {

    /** Busy time per worker: the stage with the largest value is the bottleneck. */
    public Duration busyPerWorker() {
        return busy.dividedBy(Math.max(1, parallelism));
    }
}

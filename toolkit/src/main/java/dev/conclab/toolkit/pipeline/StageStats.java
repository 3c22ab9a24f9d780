package dev.conclab.toolkit.pipeline;

import java.time.Duration;

/**
 * A snapshot of one stage's counters. The counters are read one by one, not atomically together, so a snapshot
 * taken while the pipeline runs may be off by the items in motion.
 *
 * @param name          the stage's name
 * @param parallelism   the stage's number of workers
 * @param itemsIn       items the stage has taken from its input
 * @param itemsOut      items the stage has passed on (or consumed, for a sink); an item counts once it is in the
 *                      stage's outgoing batch, before the hand-over, so one whose hand-over {@code cancel()}
 *                      interrupts counts as passed on (and lost in flight), never as not sent
 * @param failed        items sent to the dead letters by this stage
 * @param queueDepth    items sent toward the stage and not yet taken up by its workers, counted one by one: in its
 *                      input channel, in the partial batches of the workers sending to it, and in the chunks its
 *                      workers have taken but not reached (summed over the inputs of a merge or join); it can
 *                      exceed {@code queueCapacity} by those batches and chunks
 * @param queueCapacity the capacity of the stage's input channel, in items (summed likewise)
 * @param busy          total time the workers spent working, summed over workers: their running time minus the
 *                      time they waited for input or for room downstream (time blocked inside the stage's own
 *                      function counts as busy, and so does a retry's backoff wait: the worker holds the item)
 * @param attempts      calls of the stage's function, first calls and retries (0 for a stage that runs no
 *                      function of the user's: a source, batch, fan-out, merge or join)
 * @param retries       calls that were retries of a failed call ({@link StageOptions#retry()})
 * @param timeouts      calls interrupted at the stage's time limit ({@link StageOptions#timeout()}), retried or not
 */
public record StageStats(String name, int parallelism, long itemsIn, long itemsOut, long failed, int queueDepth,
                         int queueCapacity, Duration busy, long attempts, long retries, long timeouts) {

    /** A snapshot of a stage with no attempts, retries or timeouts counted. */
    public StageStats(String name, int parallelism, long itemsIn, long itemsOut, long failed, int queueDepth,
                      int queueCapacity, Duration busy) {
        this(name, parallelism, itemsIn, itemsOut, failed, queueDepth, queueCapacity, busy, 0, 0, 0);
    }

    /** Busy time per worker: the stage with the largest value is the bottleneck. */
    public Duration busyPerWorker() {
        return busy.dividedBy(Math.max(1, parallelism));
    }
}

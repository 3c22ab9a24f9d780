package dev.conclab.lab.experiments.pipelines;

import dev.conclab.toolkit.pipeline.Pipeline;
import dev.conclab.toolkit.pipeline.PipelineBuilder;
import dev.conclab.toolkit.pipeline.StageOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Items in flight (handed over by the producer, not yet consumed) in a bounded and an unbounded fan-out to 4
 * workers. Each method runs to its end and stops every thread it started.
 *
 * <p>Bounded: the engine's source → a 4-worker stage (input channel of {@link #CAPACITY}) → a sink (input channel
 * of {@link #CAPACITY}); the stage waits a little per item so the source runs ahead until the channels are full.
 * The count goes up just before the source's {@code emit} and down in the sink, so an item counts from the moment
 * the source holds it: at most {@link #BOUND} = 1 (the source's) + {@value #CAPACITY} + 4 (one per worker) +
 * {@value #CAPACITY} + 1 (the sink's). Both stages hand items over one at a time ({@code withHandoffBatch(1)}), which
 * keeps the bound this simple; with the default batching each channel may also hold one partial batch per producing
 * and per consuming worker ({@link StageOptions}), a larger bound but still one that does not grow with the items.
 *
 * <p>Broken, unbounded: every item submitted to {@code Executors.newFixedThreadPool(4)}, whose queue has no bound.
 * The workers wait at a latch opened only after the submit loop returns, so the peak is every item on every run:
 * {@code submit} never waits, whatever the workers' speed, and the latch only makes that visible every time.
 */
final class FanInOutInFlight {

    static final int WORKERS = 4;
    static final int CAPACITY = 8;
    static final int BOUND = 1 + CAPACITY + WORKERS + CAPACITY + 1;

    /**
     * Measured peaks.
     *
     * @param engine     most items in flight at once through the engine
     * @param engineSunk items the engine's sink received
     * @param executor   most items in flight at once through the executor
     */
    record Peaks(int engine, int engineSunk, int executor) {}

    private FanInOutInFlight() {
    }

    static Peaks measure(int items) throws Exception {
        int[] engine = engine(items);
        return new Peaks(engine[0], engine[1], executor(items));
    }

    /** Returns {peak, sunk}. */
    private static int[] engine(int items) throws InterruptedException {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        int[] sunk = new int[1]; // one sink worker
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("items", out -> {
                    for (int i = 0; i < items; i++) {
                        peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        if (!out.emit(i)) {
                            inFlight.decrementAndGet();
                            return;
                        }
                    }
                })
                .map("call", StageOptions.parallel(WORKERS).withCapacity(CAPACITY).withHandoffBatch(1), i -> {
                    Thread.sleep(0, 100_000); // a short wait per item, so the source gets ahead and fills the channels
                    return i;
                })
                .sink("consume", StageOptions.serial().withCapacity(CAPACITY).withHandoffBatch(1), i -> {
                    sunk[0]++;
                    inFlight.decrementAndGet();
                });
        Pipeline p = b.start();
        p.await();
        return new int[] {peak.get(), sunk[0]};
    }

    private static int executor(int items) throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        CountDownLatch submitted = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        try {
            List<Future<?>> futures = new ArrayList<>(items);
            for (int i = 0; i < items; i++) {
                peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                futures.add(pool.submit(() -> {
                    submitted.await(5, TimeUnit.SECONDS);
                    inFlight.decrementAndGet();
                    return null;
                }));
            }
            submitted.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
            return peak.get();
        } finally {
            submitted.countDown();
            pool.shutdownNow();
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}

package dev.conclab.lab.experiments.pipelines;

import dev.conclab.toolkit.pipeline.Pipeline;
import dev.conclab.toolkit.pipeline.PipelineBuilder;
import dev.conclab.toolkit.pipeline.StageOptions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Head-of-line blocking on the pipeline engine, forced with latches: a 2-worker stage whose item 0 is slow, with
 * unordered and with ordered output. Each method runs one pipeline to its end and returns what the sink saw; no
 * thread is left behind.
 *
 * <p>Unordered: item 0 waits until the sink has received every other item, so "item 0 arrives last" holds on every
 * run by construction. Ordered: item 0 waits until the other worker has finished every other item; the sink's count
 * is read at that moment (it must be 0: the finished items are held back), then item 0 is released. The waits have
 * a 5 s timeout so that an engine that broke the rule would give a wrong order, not a hang.
 */
final class FanInOutOrdering {

    /** Items through the stage: the slow item 0 and six others (fits the ordered stage's reorder window of 8). */
    static final int ITEMS = 7;
    private static final long LATCH_SECONDS = 5;

    /**
     * What the sink saw.
     *
     * @param order              item ids in the order the sink received them
     * @param heldBack           later items that had finished when the sink's count was read (ordered only)
     * @param deliveredWhileHeld items the sink had received at that moment (ordered only)
     */
    record Outcome(List<Integer> order, int heldBack, int deliveredWhileHeld) {
        boolean slowItemLast() {
            return order.size() == ITEMS && order.getLast() == 0;
        }

        boolean heldBackAll() {
            return heldBack == ITEMS - 1 && deliveredWhileHeld == 0;
        }

        boolean inInputOrder() {
            return order.equals(IntStream.range(0, ITEMS).boxed().toList());
        }
    }

    private FanInOutOrdering() {
    }

    /** Unordered output: item 0 is released by the sink once it has every other item. */
    static Outcome unordered() throws InterruptedException {
        CountDownLatch othersSunk = new CountDownLatch(ITEMS - 1);
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        PipelineBuilder b = Pipeline.builder();
        b.source("items", IntStream.range(0, ITEMS).boxed().toList())
                .map("work", StageOptions.parallel(2), i -> {
                    if (i == 0) {
                        othersSunk.await(LATCH_SECONDS, TimeUnit.SECONDS);
                    }
                    return i;
                })
                .sink("collect", i -> {
                    order.add(i);
                    if (i != 0) {
                        othersSunk.countDown();
                    }
                });
        Pipeline p = b.start();
        p.await();
        return new Outcome(List.copyOf(order), 0, 0);
    }

    /** Ordered output: item 0 is released after the other items have finished and the sink's count is read. */
    static Outcome ordered() throws InterruptedException {
        CountDownLatch othersFinished = new CountDownLatch(ITEMS - 1);
        CountDownLatch releaseSlow = new CountDownLatch(1);
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        PipelineBuilder b = Pipeline.builder();
        b.source("items", IntStream.range(0, ITEMS).boxed().toList())
                .map("work", StageOptions.parallel(2).inOrder(ITEMS + 1), i -> {
                    if (i == 0) {
                        releaseSlow.await(LATCH_SECONDS, TimeUnit.SECONDS);
                    } else {
                        othersFinished.countDown();
                    }
                    return i;
                })
                .sink("collect", order::add);
        Pipeline p = b.start();
        try {
            othersFinished.await(LATCH_SECONDS, TimeUnit.SECONDS);
            int finished = (int) (ITEMS - 1 - othersFinished.getCount());
            int delivered = order.size();
            releaseSlow.countDown();
            p.await();
            return new Outcome(List.copyOf(order), finished, delivered);
        } finally {
            releaseSlow.countDown();
            p.close();
        }
    }
}

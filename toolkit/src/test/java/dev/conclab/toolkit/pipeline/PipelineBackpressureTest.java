package dev.conclab.toolkit.pipeline;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sink 10x slower than the stage before it: the items in flight (accepted by the source, not yet through the
 * sink) must stay within what the channels, the partial batches and the workers can hold, far below the items
 * sent, and the source must be held to the sink's pace.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipelineBackpressureTest {

    private static final int ITEMS = 2000;
    private static final int CAPACITY = 16;
    private static final long STAGE_NANOS = 50_000;
    private static final long SINK_NANOS = 10 * STAGE_NANOS;

    @Test
    void aSlowSinkSlowsTheSourceAndBoundsTheItemsInFlight() throws Exception {
        AtomicLong accepted = new AtomicLong();
        AtomicLong done = new AtomicLong();
        AtomicLong maxInFlight = new AtomicLong();
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("src", out -> {
            for (int i = 0; i < ITEMS; i++) {
                if (!out.emit(i)) {
                    return;
                }
                long inFlight = accepted.incrementAndGet() - done.get();
                maxInFlight.accumulateAndGet(inFlight, Math::max);
            }
        }).map("stage", StageOptions.parallel(2).withCapacity(CAPACITY), x -> {
            spin(STAGE_NANOS);
            return x;
        }).sink("sink", StageOptions.serial().withCapacity(CAPACITY), x -> {
            spin(SINK_NANOS);
            done.incrementAndGet();
        });
        long t0 = System.nanoTime();
        Pipeline p = b.start();
        p.await();
        long elapsed = System.nanoTime() - t0;

        // per channel: its capacity + one batch (at most the capacity) per sender and per receiver; stage: 1 sender
        // (the source) and 2 receivers; sink: 2 senders and 1 receiver; + one item in each worker's hands (2 + 1)
        // + the one the source has just handed over
        int batch = Math.min(StageOptions.DEFAULT_HANDOFF_BATCH, CAPACITY);
        long bound = (CAPACITY + 3L * batch) + (CAPACITY + 3L * batch) + 3 + 1;
        System.out.printf("backpressure: max in flight %d (bound %d), %d items in %.0f ms%n", maxInFlight.get(),
                bound, ITEMS, elapsed / 1e6);
        assertThat(done.get()).isEqualTo(ITEMS);
        assertThat(maxInFlight.get()).as("max items in flight").isLessThanOrEqualTo(bound);
        assertThat(maxInFlight.get()).as("the channels did fill").isGreaterThan(2 * CAPACITY);
        assertThat(bound).as("a bound far below the items sent").isLessThan(ITEMS / 10);
        // the source could emit everything in well under a millisecond; it took the sink's time instead
        assertThat(elapsed).isGreaterThanOrEqualTo((ITEMS - bound) * SINK_NANOS);
    }

    /** Waits without sleeping, so the delay is not rounded up to the timer's granularity. */
    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            LockSupport.parkNanos(Math.min(20_000, end - System.nanoTime()));
        }
    }
}

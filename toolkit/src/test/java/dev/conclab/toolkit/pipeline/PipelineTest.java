package dev.conclab.toolkit.pipeline;

import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Behaviour of the pipeline engine; orderings that matter are forced with latches, never with sleeps. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipelineTest {

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void refusesBadInputWithAClearMessage() {
        assertThatThrownBy(() -> StageOptions.parallel(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("parallelism must be at least 1, got 0");
        assertThatThrownBy(() -> StageOptions.serial().withCapacity(0)).hasMessageContaining("capacity");
        assertThatThrownBy(() -> StageOptions.parallel(2).inOrder(0)).hasMessageContaining("reorderWindow");
        assertThatThrownBy(() -> StageOptions.serial().withHandoffBatch(0))
                .hasMessageContaining("handoffBatch must be at least 1, got 0");
        assertThat(new StageOptions(1, false, 256, false, 1).handoffBatch())
                .isEqualTo(StageOptions.DEFAULT_HANDOFF_BATCH);
        PipelineBuilder b = Pipeline.builder();
        Flow<Integer> src = b.source("src", range(3));
        assertThatThrownBy(() -> b.source("src", range(3))).hasMessageContaining("duplicate stage name: src");
        src.sink("sink", x -> {});
        assertThatThrownBy(() -> src.sink("again", x -> {})).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already has a consumer");
        PipelineBuilder b2 = Pipeline.builder();
        b2.source("dangling", range(3));
        assertThatThrownBy(b2::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dangling' has no consumer");
        assertThatThrownBy(() -> Pipeline.builder().source("x", range(1)).batch("b", 0, 1, TimeUnit.SECONDS))
                .hasMessageContaining("batch size must be at least 1, got 0");
    }

    @Test
    void anInterruptedExceptionFromAStageThatWasNotCancelledIsThatItemsFailure() throws Exception {
        // A stage function interrupted by something other than cancel(): before the fix its worker ended silently,
        // the item was lost and the serial stage's full input stalled the source for ever.
        PipelineBuilder b = Pipeline.builder();
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        b.source("src", range(2_000))
                .map("call", StageOptions.serial().withCapacity(4), x -> {
                    if (x == 5) {
                        throw new InterruptedException("interrupted by a library, not by cancel()");
                    }
                    return x;
                })
                .sink("sink", StageOptions.serial().withCapacity(4), x -> {
                    if (x == 7) {
                        throw new InterruptedException("the sink's call was interrupted");
                    }
                    sunk.add(x);
                });
        Pipeline p = b.start();
        try {
            assertThat(p.await(10, TimeUnit.SECONDS)).as("the pipeline finishes").isTrue();
        } finally {
            p.cancel(); // a no-op once finished; stops the stalled workers if the assertion failed
        }
        assertThat(p.deadLetters()).extracting(DeadLetter::stage, DeadLetter::item)
                .containsExactlyInAnyOrder(Tuple.tuple("call", 5),
                        Tuple.tuple("sink", 7));
        assertThat(p.deadLetters()).allSatisfy(d -> assertThat(d.cause()).isInstanceOf(InterruptedException.class));
        assertThat(sunk).hasSize(1_998);
        assertThat(p.failure()).isEmpty();
    }

    @Test
    void failedItemsGoToTheDeadLettersAndThePipelineGoesOn() throws Exception {
        PipelineBuilder b = Pipeline.builder();
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        b.source("src", range(100))
                .map("check", StageOptions.parallel(3), x -> {
                    if (x % 7 == 0) {
                        throw new IllegalArgumentException("bad " + x);
                    }
                    return x;
                })
                .sink("sink", sunk::add);
        Pipeline p = b.start();
        p.await();
        List<DeadLetter> dead = p.deadLetters();
        assertThat(dead).extracting(DeadLetter::item).containsExactlyInAnyOrderElementsOf(
                range(100).stream().filter(x -> x % 7 == 0).toList());
        assertThat(dead).allSatisfy(d -> {
            assertThat(d.stage()).isEqualTo("check");
            assertThat(d.cause()).isInstanceOf(IllegalArgumentException.class).hasMessage("bad " + d.item());
        });
        assertThat(sunk).containsExactlyInAnyOrderElementsOf(range(100).stream().filter(x -> x % 7 != 0).toList());
        assertThat(p.failure()).isEmpty();
    }

    @Test
    void orderedStageKeepsInputOrderUnderRandomDelays() throws Exception {
        PipelineBuilder b = Pipeline.builder();
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        b.source("src", range(500))
                .map("work", StageOptions.parallel(4).inOrder(8), x -> {
                    LockSupport.parkNanos(ThreadLocalRandom.current().nextInt(200_000));
                    return x;
                })
                .sink("sink", sunk::add);
        Pipeline p = b.start();
        p.await();
        assertThat(sunk).containsExactlyElementsOf(range(500));
    }

    /**
     * Unordered: item 0 is held until the next stage has received three other items, so it cannot be among the
     * first three out. Ordered: item 0 is held until items 1..3 have been computed, and still leaves first.
     */
    @Test
    void orderedStageHoldsLaterResultsBehindASlowFirstItem() throws Exception {
        assertThat(runWithSlowFirstItem(StageOptions.parallel(4), true).subList(0, 3)).doesNotContain(0);
        assertThat(runWithSlowFirstItem(StageOptions.parallel(4).inOrder(4), false))
                .containsExactly(0, 1, 2, 3, 4, 5);
    }

    private static List<Integer> runWithSlowFirstItem(StageOptions options, boolean releaseDownstream)
            throws InterruptedException {
        CountDownLatch release = new CountDownLatch(3);
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        PipelineBuilder b = Pipeline.builder();
        b.source("src", range(6))
                .map("work", options, x -> {
                    if (x == 0) {
                        release.await();
                    } else if (x <= 3 && !releaseDownstream) {
                        release.countDown(); // computed; not necessarily emitted yet
                    }
                    return x;
                })
                .map("next", x -> { // one worker: passes items on in the order it receives them
                    if (releaseDownstream) {
                        release.countDown();
                    }
                    return x;
                })
                .sink("sink", sunk::add);
        Pipeline p = b.start();
        p.await();
        assertThat(sunk).containsExactlyInAnyOrderElementsOf(range(6));
        return sunk;
    }

    @Test
    void batchesFillUpAndAPartialBatchLeavesAfterMaxWait() throws Exception {
        PipelineBuilder b = Pipeline.builder();
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        b.source("src", range(10)).batch("batch", 4, 10, TimeUnit.SECONDS).sink("sink", batches::add);
        Pipeline p = b.start();
        p.await();
        assertThat(batches).containsExactly(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7), List.of(8, 9));

        CountDownLatch firstBatchSeen = new CountDownLatch(1);
        List<List<Integer>> lingered = new CopyOnWriteArrayList<>();
        PipelineBuilder b2 = Pipeline.builder();
        b2.<Integer>source("src", out -> {
            out.emit(1);
            firstBatchSeen.await(); // the stream stays open: only the linger time can release the batch
            out.emit(2);
        }).batch("batch", 100, 20, TimeUnit.MILLISECONDS).sink("sink", batch -> {
            lingered.add(batch);
            firstBatchSeen.countDown();
        });
        Pipeline p2 = b2.start();
        p2.await();
        assertThat(lingered).containsExactly(List.of(1), List.of(2));
    }

    @Test
    void broadcastGivesEveryBranchEveryItemAndMergeJoinsThem() throws Exception {
        PipelineBuilder b = Pipeline.builder();
        List<Flow<Integer>> branches = b.source("src", range(200)).broadcast("copy", 2);
        Flow<String> evens = branches.get(0).map("a", x -> "a" + x);
        Flow<String> odds = branches.get(1).map("b", StageOptions.parallel(2), x -> "b" + x);
        List<String> sunk = new CopyOnWriteArrayList<>();
        Flow.merge("merge", 16, evens, odds).sink("sink", sunk::add);
        Pipeline p = b.start();
        p.await();
        assertThat(stats(p, "merge").queueCapacity()).isEqualTo(32);
        assertThat(stats(p, "merge").itemsIn()).isEqualTo(400);
        List<String> expected = new ArrayList<>();
        range(200).forEach(x -> {
            expected.add("a" + x);
            expected.add("b" + x);
        });
        assertThat(sunk).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void partitionSendsEqualKeysToOneBranchInOrder() throws Exception {
        PipelineBuilder b = Pipeline.builder();
        List<Flow<Integer>> parts = b.source("src", range(300)).partition("byKey", 3, x -> x % 5);
        Map<Integer, List<Integer>> seenByBranch = new ConcurrentHashMap<>();
        for (int i = 0; i < 3; i++) {
            int branch = i;
            parts.get(i).sink("sink" + i, x -> seenByBranch.computeIfAbsent(branch,
                    k -> Collections.synchronizedList(new ArrayList<>())).add(x));
        }
        Pipeline p = b.start();
        p.await();
        assertThat(seenByBranch.values().stream().mapToInt(List::size).sum()).isEqualTo(300);
        for (var e : seenByBranch.entrySet()) {
            assertThat(e.getValue()).isSorted()
                    .allSatisfy(x -> assertThat(Math.floorMod(Integer.hashCode(x % 5), 3)).isEqualTo(e.getKey()));
        }
    }

    record Name(int id, String name) {}

    record Amount(int id, int cents) {}

    @Test
    void keyedJoinPairsEqualKeysAndDeadLettersTheUnmatched() throws Exception {
        List<Name> names = new ArrayList<>(range(100).stream().map(i -> new Name(i, "n" + i)).toList());
        List<Amount> amounts = new ArrayList<>(range(100).stream().map(i -> new Amount(i + 5, i)).toList());
        Collections.shuffle(names);
        Collections.shuffle(amounts);
        PipelineBuilder b = Pipeline.builder();
        Flow<Name> left = b.source("names", names);
        Flow<Amount> right = b.source("amounts", amounts);
        List<String> joined = new CopyOnWriteArrayList<>();
        Flow.join("join", 8, left, right, Name::id, Amount::id, (n, a) -> n.name() + "=" + a.cents())
                .sink("sink", joined::add);
        Pipeline p = b.start();
        p.await();
        assertThat(stats(p, "join").queueCapacity()).as("two inputs of 8").isEqualTo(16);
        assertThat(stats(p, "join").itemsIn()).isEqualTo(200);
        assertThat(joined).containsExactlyInAnyOrderElementsOf(
                IntStream.range(5, 100).mapToObj(i -> "n" + i + "=" + (i - 5)).toList());
        assertThat(p.deadLetters()).hasSize(10).allSatisfy(d -> assertThat(d.cause())
                .isInstanceOf(java.util.NoSuchElementException.class));
    }

    @Test
    void metricsCountItemsAndShowTheSlowStage() throws Exception {
        PipelineBuilder b = Pipeline.builder();
        b.source("src", range(200))
                .map("fast", x -> x + 1)
                .map("slow", x -> {
                    LockSupport.parkNanos(1_000_000);
                    return x;
                })
                .sink("sink", x -> {});
        Pipeline p = b.start();
        p.await();
        Map<String, StageStats> byName = new java.util.HashMap<>();
        p.metrics().forEach(s -> byName.put(s.name(), s));
        assertThat(byName.get("src").itemsOut()).isEqualTo(200);
        for (String stage : List.of("fast", "slow", "sink")) {
            assertThat(byName.get(stage).itemsIn()).as(stage).isEqualTo(200);
            assertThat(byName.get(stage).queueDepth()).as(stage).isZero();
        }
        assertThat(byName.get("slow").itemsOut()).isEqualTo(200);
        assertThat(byName.get("sink").itemsOut()).isEqualTo(200);
        assertThat(byName.get("slow").busy()).isGreaterThanOrEqualTo(java.time.Duration.ofMillis(200));
        assertThat(p.bottleneck()).get().extracting(StageStats::name).isEqualTo("slow");
    }

    /** The slow stage is held on a latch: items pile up in its input channel, not anywhere downstream. */
    @Test
    void queueDepthShowsWhereItemsPileUp() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        PipelineBuilder b = Pipeline.builder();
        b.source("src", range(1000))
                .map("fast", StageOptions.serial().withCapacity(10), x -> x)
                .map("stuck", StageOptions.serial().withCapacity(20), x -> {
                    release.await();
                    return x;
                })
                .sink("sink", StageOptions.serial().withCapacity(30), x -> {});
        Pipeline p = b.start();
        BatchingChannel<?> fastIn = p.channels().get(0);
        BatchingChannel<?> stuckIn = p.channels().get(1);
        while (stuckIn.size() < 20 || fastIn.size() < 10) {
            Thread.onSpinWait(); // both fill up for certain, and stay full: nothing leaves "stuck" until the latch
        }
        assertThat(stats(p, "stuck").queueCapacity()).isEqualTo(20);
        // depth counts items, wherever they wait for the stage: its channel, the partial batches sent toward it,
        // its worker's chunk; so at most the capacity plus one batch (of at most the capacity) per sender and
        // per receiver
        assertThat(stats(p, "stuck").queueDepth()).isBetween(20, 20 + 2 * 20);
        assertThat(stats(p, "fast").queueDepth()).isBetween(10, 10 + 2 * 10);
        assertThat(stats(p, "sink").queueDepth()).isZero();
        assertThat(stats(p, "src").itemsOut()).as("items accepted while the stage is stuck")
                .isLessThanOrEqualTo((10 + 2 * 10) + (20 + 2 * 20) + 1 + 1);
        release.countDown();
        p.await();
        assertThat(stats(p, "sink").itemsOut()).isEqualTo(1000);
    }

    private static StageStats stats(Pipeline p, String stage) {
        return p.metrics().stream().filter(s -> s.name().equals(stage)).findFirst().orElseThrow();
    }

    @Test
    void drainStopsTheSourceAndLosesNothingItAccepted() throws Exception {
        AtomicLong accepted = new AtomicLong();
        AtomicInteger sunk = new AtomicInteger();
        CountDownLatch enoughSunk = new CountDownLatch(500);
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("endless", out -> {
            for (int i = 0; ; i++) {
                if (!out.emit(i)) {
                    return;
                }
                accepted.incrementAndGet();
            }
        }).map("work", StageOptions.parallel(3).withCapacity(32), x -> {
            if (x % 10 == 0) {
                throw new IllegalStateException("ten");
            }
            return x;
        }).sink("sink", x -> {
            sunk.incrementAndGet();
            enoughSunk.countDown();
        });
        Pipeline p = b.start();
        enoughSunk.await();
        p.drain();
        assertThat(p.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(sunk.get() + p.deadLetters().size()).isEqualTo(accepted.get());
        assertThat(stats(p, "endless").itemsOut()).isEqualTo(accepted.get());
        assertThat(stats(p, "work").itemsIn()).as("the source's last partial batch was flushed")
                .isEqualTo(accepted.get());
        assertThat(p.deadLetters()).isNotEmpty();
    }

    @Test
    void cancelStopsEveryThreadEvenWhenStagesAreBlocked() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            CountDownLatch never = new CountDownLatch(1);
            CountDownLatch sinkBlocked = new CountDownLatch(1);
            long before = countPipelineThreads();
            PipelineBuilder b = Pipeline.builder();
            StageOptions opts = virtual ? StageOptions.parallel(4).withVirtualThreads() : StageOptions.parallel(4);
            b.<Integer>source("endless", out -> {
                for (int i = 0; out.emit(i); i++) {
                    // fills every channel, then blocks on the full first one
                }
            }).map("work", opts.withCapacity(8), x -> x).sink("sink", x -> {
                sinkBlocked.countDown();
                never.await(); // blocks forever unless interrupted
            });
            Pipeline p = b.start();
            sinkBlocked.await();
            assertThat(p.isDone()).isFalse();
            p.cancel();
            assertThat(p.await(10, TimeUnit.SECONDS)).as("virtual=" + virtual).isTrue();
            assertThat(p.threads()).noneMatch(Thread::isAlive);
            assertThat(countPipelineThreads()).isEqualTo(before);
            assertThat(p.failure()).isEmpty();
        }
    }

    /**
     * The accounting of a cancel: the source is blocked handing over a full batch (the sink holds its first item
     * for ever, so no room ever comes back) when cancel() interrupts it. The item of that interrupted emit is in
     * the source's batch, in flight, so it counts in the source's itemsOut: otherwise a cancelled run would report
     * one item fewer accepted than it lost. Forced: the source fills the channel only once the sink holds item 0,
     * and the test cancels only once the source waits for room.
     */
    @Test
    void anItemWhoseHandOverCancelInterruptsCountsAsPassedOn() throws Exception {
        CountDownLatch sinkHolds = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger offered = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Thread> filling = new java.util.concurrent.atomic.AtomicReference<>();
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("src", out -> {
            offered.incrementAndGet();
            out.emit(0);
            sinkHolds.await();
            filling.set(Thread.currentThread());
            for (int i = 1; ; i++) {
                offered.incrementAndGet(); // before the call: the item enters the batch before any wait for room
                if (!out.emit(i)) {
                    offered.decrementAndGet();
                    return;
                }
            }
        }).sink("sink", StageOptions.serial().withCapacity(4).withHandoffBatch(2), x -> {
            sinkHolds.countDown();
            never.await(); // until cancel() interrupts it
        });
        Pipeline p = b.start();
        while (filling.get() == null || filling.get().getState() != Thread.State.WAITING) {
            Thread.onSpinWait(); // once filling, the source can wait only for room, which never comes back
        }
        p.cancel();
        assertThat(p.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(offered.get()).as("the source filled the channel and its batch").isGreaterThan(4);
        assertThat(stats(p, "src").itemsOut()).as("items in flight when cancelled count as passed on")
                .isEqualTo(offered.get());
        assertThat(stats(p, "sink").itemsOut()).isZero();
        assertThat(p.threads()).noneMatch(Thread::isAlive);
    }

    /**
     * Latency with batching: the source emits one item and then waits, outside the engine, until the sink has it;
     * the map worker between them waits for input after each item. No timer, no more input: every hand-off must
     * let the lone item through. Round 0 emits while the first stage is known to be waiting for input (forced
     * through the channel's waiting-receiver check); later rounds race the two orders, which both must pass.
     */
    @Test
    void aLoneItemReachesTheSinkWithoutMoreInput() throws Exception {
        int rounds = 300;
        CountDownLatch[] seen = new CountDownLatch[rounds];
        for (int i = 0; i < rounds; i++) {
            seen[i] = new CountDownLatch(1);
        }
        java.util.concurrent.atomic.AtomicReference<Pipeline> self = new java.util.concurrent.atomic.AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("src", out -> {
            started.await();
            while (!self.get().channels().getFirst().hasWaitingReceivers()) {
                Thread.onSpinWait(); // the map worker parks for certain: nothing has been emitted
            }
            for (int i = 0; i < rounds; i++) {
                out.emit(i);
                if (!seen[i].await(10, TimeUnit.SECONDS)) {
                    throw new AssertionError("item " + i + " stuck in a partial batch");
                }
            }
        }).map("map", x -> x).sink("sink", x -> seen[x].countDown());
        Pipeline p = b.start();
        self.set(p);
        started.countDown();
        assertThat(p.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.deadLetters()).isEmpty();
        assertThat(stats(p, "sink").itemsOut()).isEqualTo(rounds);
    }

    /** Batching does not reorder: one-worker stages keep the source's order with every hand-off batch size. */
    @Test
    void handoffBatchesKeepTheOrderOfOneWorkerStages() throws Exception {
        for (int batch : new int[] {1, 7, 256}) {
            List<Integer> sunk = new CopyOnWriteArrayList<>();
            PipelineBuilder b = Pipeline.builder();
            b.source("src", range(5000))
                    .map("a", StageOptions.serial().withHandoffBatch(batch).withCapacity(64), x -> x)
                    .sink("sink", StageOptions.serial().withHandoffBatch(batch), sunk::add);
            Pipeline p = b.start();
            p.await();
            assertThat(sunk).as("batch " + batch).containsExactlyElementsOf(range(5000));
        }
    }

    /**
     * Cancel while a worker has a chunk of items in hand and partial batches are pending upstream: the worker
     * stops at the next item, not at the end of its chunk, and every thread ends.
     */
    @Test
    void cancelStopsAWorkerWithinItsChunkAndLosesThePartialBatches() throws Exception {
        CountDownLatch sinkHasFirst = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger sunk = new AtomicInteger();
        PipelineBuilder b = Pipeline.builder();
        b.<Integer>source("src", out -> {
            for (int i = 0; i < 100; i++) {
                out.emit(i);
            }
            sinkHasFirst.await();
            out.emit(100); // sits in the source's partial batch: the sink is busy, not waiting
            never.await(); // blocks until the cancel interrupts it
        }).sink("sink", StageOptions.serial().withHandoffBatch(256).withCapacity(256), x -> {
            if (sunk.incrementAndGet() == 1) {
                sinkHasFirst.countDown();
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.onSpinWait(); // returns normally once cancelled, the interrupt still set
                }
            }
        });
        Pipeline p = b.start();
        sinkHasFirst.await();
        while (stats(p, "sink").queueDepth() < 100) {
            Thread.onSpinWait(); // item 100 is in the source's batch for certain once the depth counts it
        }
        p.cancel();
        assertThat(p.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(sunk.get()).as("items the sink took after the cancel").isEqualTo(1);
        assertThat(p.threads()).noneMatch(Thread::isAlive);
        assertThat(p.failure()).isEmpty();
    }

    /**
     * Coarse items on a two-worker stage: item 0 cannot finish until items 1..5 have, so the worker holding it must
     * not hold any of them: with several workers, each takes one item at a time.
     */
    @Test
    void aWorkerStuckOnOneItemDoesNotHoldBackTheOthers() throws Exception {
        CountDownLatch othersDone = new CountDownLatch(5);
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        PipelineBuilder b = Pipeline.builder();
        b.source("src", range(6)).map("work", StageOptions.parallel(2), x -> {
            if (x == 0) {
                assertThat(othersDone.await(20, TimeUnit.SECONDS)).as("items 1..5 done by the other worker").isTrue();
            } else {
                othersDone.countDown();
            }
            return x;
        }).sink("sink", sunk::add);
        Pipeline p = b.start();
        p.await();
        assertThat(p.deadLetters()).isEmpty();
        assertThat(p.failure()).as("item 0 never timed out waiting").isEmpty();
        assertThat(sunk).containsExactlyInAnyOrderElementsOf(range(6));
    }

    private static long countPipelineThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("pipeline-")).count();
    }
}

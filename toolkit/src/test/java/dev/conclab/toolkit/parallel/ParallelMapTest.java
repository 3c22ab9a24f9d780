package dev.conclab.toolkit.parallel;

import dev.conclab.toolkit.parallel.Outcome.Cancelled;
import dev.conclab.toolkit.parallel.Outcome.Cause;
import dev.conclab.toolkit.parallel.Outcome.Failure;
import dev.conclab.toolkit.parallel.Outcome.Success;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ParallelMapTest {

    /** Every thread a task ran on; all must be gone after each test. */
    private final Queue<Thread> taskThreads = new ConcurrentLinkedQueue<>();
    /** Released after each test, so that no task blocked on it outlives the test. */
    private final CountDownLatch never = new CountDownLatch(1);

    @AfterEach
    void nothingIsLeftRunning() {
        never.countDown();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(taskThreads).noneMatch(Thread::isAlive));
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void resultsComeBackInInputOrderEvenWhenCompletionOrderIsReversed() throws Exception {
        int n = 6;
        // Item i may finish only after item i+1 has: the last item finishes first, the first item last.
        List<CountDownLatch> after = IntStream.range(0, n).mapToObj(i -> new CountDownLatch(1)).toList();
        Queue<Integer> completionOrder = new ConcurrentLinkedQueue<>();

        ParallelMap.Results<String> results = ParallelMap.withParallelism(n).map(range(n), i -> {
            taskThreads.add(Thread.currentThread());
            if (i < n - 1) {
                after.get(i).await();
            }
            completionOrder.add(i);
            if (i > 0) {
                after.get(i - 1).countDown();
            }
            return "item-" + i;
        });

        assertThat(completionOrder).containsExactly(5, 4, 3, 2, 1, 0);
        assertThat(results.valuesOrThrow()).containsExactly("item-0", "item-1", "item-2", "item-3", "item-4",
                "item-5");
        assertThat(results.outcomes()).extracting(Outcome::index).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(results.stoppedBy()).isEmpty();
    }

    @Test
    void aFailureIsCapturedForItsItemAndTheOthersStillSucceed() throws Exception {
        IllegalStateException boom = new IllegalStateException("item 2 is bad");

        ParallelMap.Results<Integer> results = ParallelMap.withParallelism(2).map(range(5), i -> {
            taskThreads.add(Thread.currentThread());
            if (i == 2) {
                throw boom;
            }
            return i * 10;
        });

        assertThat(results.succeeded()).isEqualTo(4);
        assertThat(results.failures()).containsExactly(new Failure<>(2, boom));
        assertThat(results.outcomes().get(4)).isEqualTo(new Success<>(4, 40));
        assertThatThrownBy(results::valuesOrThrow).isInstanceOf(ExecutionException.class).hasCause(boom);
    }

    @Test
    void failFastInterruptsRunningItemsAndNeverStartsTheRest() throws Exception {
        AtomicInteger started = new AtomicInteger();
        AtomicInteger interrupted = new AtomicInteger();

        // Item 0 waits forever (until interrupted); item 1 fails at once, while item 0 is certainly still running.
        ParallelMap.Results<Integer> results = ParallelMap.withParallelism(2).failFast(true).map(range(10), i -> {
            taskThreads.add(Thread.currentThread());
            started.incrementAndGet();
            if (i == 1) {
                throw new IllegalArgumentException("bad item 1");
            }
            try {
                never.await();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
            }
            return i;
        });

        assertThat(results.stoppedBy()).contains(Cause.FAIL_FAST);
        assertThat(results.outcomes().get(0)).isEqualTo(new Cancelled<>(0, Cause.FAIL_FAST, true));
        assertThat(results.outcomes().get(1)).isInstanceOf(Failure.class);
        assertThat(results.cancelled()).hasSize(9);
        assertThat(results.cancelled()).filteredOn(c -> !c.wasRunning()).extracting(Outcome::index)
                .containsExactly(2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(started).hasValue(2);
        assertThat(interrupted).hasValue(1);
    }

    @Test
    void theTimeoutInterruptsRunningItemsAndDropsTheRest() throws Exception {
        AtomicInteger interrupted = new AtomicInteger();
        long start = System.nanoTime();

        ParallelMap.Results<Integer> results = ParallelMap.withParallelism(2).timeout(Duration.ofMillis(150))
                .map(range(4), i -> {
                    taskThreads.add(Thread.currentThread());
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                    }
                    return i;
                });
        double elapsedMs = (System.nanoTime() - start) / 1e6;

        assertThat(elapsedMs).isBetween(150.0, 5_000.0);
        assertThat(results.stoppedBy()).contains(Cause.TIMEOUT);
        assertThat(results.outcomes()).allMatch(o -> o instanceof Cancelled<Integer> c && c.cause() == Cause.TIMEOUT);
        assertThat(results.cancelled()).filteredOn(c -> !c.wasRunning()).extracting(Outcome::index)
                .contains(2, 3);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(interrupted).hasValue(2));
    }

    @Test
    void parallelismIsNeverExceededAndIsReached() throws Exception {
        assertPeakParallelism(ParallelMap.withParallelism(3));
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            assertPeakParallelism(ParallelMap.withParallelism(3).executor(pool));
        }
    }

    private void assertPeakParallelism(ParallelMap map) throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        // The first three items meet at a barrier: it opens only if three run at once, so the bound is reached.
        CyclicBarrier firstThree = new CyclicBarrier(3);

        ParallelMap.Results<Integer> results = map.map(range(40), i -> {
            int now = running.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
            try {
                if (i < 3) {
                    firstThree.await(10, TimeUnit.SECONDS);
                }
                Thread.yield();
                return i;
            } finally {
                running.decrementAndGet();
            }
        });

        assertThat(results.succeeded()).isEqualTo(40);
        assertThat(peak).hasValue(3);
    }

    @Test
    void interruptingTheCallerInterruptsTheItemsAndThrows() throws Exception {
        CountDownLatch bothRunning = new CountDownLatch(2);
        AtomicInteger interrupted = new AtomicInteger();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = Thread.ofPlatform().name("parallel-map-caller").start(() -> {
            try {
                ParallelMap.withParallelism(2).map(range(5), i -> {
                    taskThreads.add(Thread.currentThread());
                    bothRunning.countDown();
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                    }
                    return i;
                });
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        taskThreads.add(caller);

        assertThat(bothRunning.await(10, TimeUnit.SECONDS)).isTrue();
        caller.interrupt();
        caller.join(10_000);

        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(interrupted).hasValue(2));
    }

    @Test
    void anEmptyListGivesNoOutcomes() throws Exception {
        assertThat(ParallelMap.withParallelism(1).map(List.of(), i -> i).outcomes()).isEmpty();
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        ParallelMap map = ParallelMap.withParallelism(1);
        assertThatThrownBy(() -> ParallelMap.withParallelism(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("parallelism");
        assertThatThrownBy(() -> map.timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> map.timeout(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map.timeout(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> map.executor(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("executor");
        assertThatThrownBy(() -> map.map(null, i -> i)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("inputs");
        assertThatThrownBy(() -> map.map(List.of(1), null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("task");
    }
}

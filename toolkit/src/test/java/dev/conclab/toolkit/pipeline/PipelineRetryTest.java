package dev.conclab.toolkit.pipeline;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The stage options' retry policy and per-item time limit. No test waits real backoff time: the builder's sleeper
 * is replaced by one that records the waits. The time limits are real, but only a stuck call (a latch nobody opens)
 * reaches them; every other call returns in microseconds, far inside the limit.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipelineRetryTest {

    private static final Duration LIMIT = Duration.ofMillis(500);

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static StageStats stats(Pipeline p, String stage) {
        return p.metrics().stream().filter(s -> s.name().equals(stage)).findFirst().orElseThrow();
    }

    /** A builder whose backoff waits are recorded, not slept. */
    private static PipelineBuilder recording(List<Long> waits) {
        PipelineBuilder b = Pipeline.builder();
        b.sleeper = waits::add;
        return b;
    }

    @Test
    void refusesBadPoliciesAndLimitsWithAClearMessage() {
        assertThatThrownBy(() -> RetryPolicy.exponential(0, Duration.ZERO, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxAttempts must be at least 1 (the first call counts), got 0");
        assertThatThrownBy(() -> RetryPolicy.exponential(3, Duration.ofMillis(-1), Duration.ZERO))
                .hasMessage("base backoff must not be negative, got PT-0.001S");
        assertThatThrownBy(() -> RetryPolicy.exponential(3, Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessage("backoff cap must be at least the base PT2S, got PT1S");
        assertThatThrownBy(() -> RetryPolicy.none().retryOn()).hasMessage("retryOn needs at least one exception type");
        assertThatThrownBy(() -> RetryPolicy.none().maxDelay(0)).hasMessage("retry number must be at least 1, got 0");
        assertThatThrownBy(() -> StageOptions.serial().withTimeout(Duration.ZERO))
                .hasMessage("timeout must be positive, got PT0S");
        assertThatThrownBy(() -> StageOptions.serial().withRetry(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("RetryPolicy.none()");
        StageOptions defaults = StageOptions.parallel(2);
        assertThat(defaults.retry()).isEqualTo(RetryPolicy.none());
        assertThat(defaults.timeout()).isNull();
        assertThat(defaults.withTimeout(LIMIT).withoutTimeout().timeout()).isNull();
        StageOptions all = StageOptions.serial().withRetry(RetryPolicy.none()).withTimeout(LIMIT).withCapacity(3)
                .inOrder(2).withParallelism(2).withVirtualThreads().withHandoffBatch(2);
        assertThat(all.timeout()).as("every copy method keeps the limit").isEqualTo(LIMIT);
        assertThat(all.retry()).isSameAs(RetryPolicy.none());
    }

    @Test
    void backoffDoublesUpToTheCapWithinItsJitterBounds() {
        RetryPolicy p = RetryPolicy.exponential(10, Duration.ofMillis(10), Duration.ofMillis(80));
        long[] ceilings = {10, 20, 40, 80, 80, 80};
        for (int n = 1; n <= ceilings.length; n++) {
            long c = Duration.ofMillis(ceilings[n - 1]).toNanos();
            assertThat(p.maxDelay(n).toNanos()).isEqualTo(c);
            // the lowest and the highest draws of a random generator: nextDouble() from nextLong() 0 and -1
            assertThat(p.delayNanos(n, () -> 0L)).isZero();
            assertThat(p.delayNanos(n, () -> -1L)).isEqualTo(c);
            RetryPolicy equal = p.withJitter(RetryPolicy.Jitter.EQUAL);
            assertThat(equal.minDelay(n).toNanos()).isEqualTo(c / 2);
            assertThat(equal.delayNanos(n, () -> 0L)).isEqualTo(c / 2);
            assertThat(equal.delayNanos(n, () -> -1L)).isEqualTo(c);
            RetryPolicy none = p.withJitter(RetryPolicy.Jitter.NONE);
            assertThat(none.delayNanos(n, () -> 0L)).isEqualTo(c);
            assertThat(none.delayNanos(n, () -> -1L)).isEqualTo(c);
        }
        assertThat(p.maxDelay(1_000).toMillis()).as("no overflow far out").isEqualTo(80);
        RetryPolicy huge = RetryPolicy.exponential(3, Duration.ofDays(1), Duration.ofSeconds(Long.MAX_VALUE));
        assertThat(huge.maxDelay(70).toNanos()).as("saturates").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void retriesUpToTheLimitThenDeadLettersWithTheLastCause() throws Exception {
        int items = 200;
        int maxAttempts = 4;
        ConcurrentHashMap<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();
        List<Long> waits = new CopyOnWriteArrayList<>();
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        RetryPolicy policy = RetryPolicy.exponential(maxAttempts, Duration.ofMillis(100), Duration.ofMillis(250))
                .withJitter(RetryPolicy.Jitter.EQUAL);
        PipelineBuilder b = recording(waits);
        b.source("src", range(items))
                .map("call", StageOptions.parallel(4).inOrder().withRetry(policy), i -> {
                    int attempt = calls.computeIfAbsent(i, k -> new AtomicInteger()).incrementAndGet();
                    if (i == 7 || (i % 10 == 0 && attempt <= 2)) {
                        throw new IOException("item " + i + " attempt " + attempt);
                    }
                    return i;
                })
                .sink("sink", sunk::add);
        Pipeline p = b.start();
        assertThat(p.await(30, TimeUnit.SECONDS)).isTrue();

        List<DeadLetter> dead = p.deadLetters();
        assertThat(dead).singleElement().satisfies(d -> {
            assertThat(d.item()).isEqualTo(7);
            assertThat(d.attempts()).isEqualTo(maxAttempts);
            assertThat(d.cause()).isInstanceOf(IOException.class).hasMessage("item 7 attempt 4");
        });
        List<Integer> expected = new ArrayList<>(range(items));
        expected.remove(Integer.valueOf(7));
        assertThat(sunk).as("ordered stage: retries keep the order").containsExactlyElementsOf(expected);
        StageStats call = stats(p, "call");
        int retries = 20 * 2 + (maxAttempts - 1); // 20 flaky items fail twice; item 7 is retried 3 times
        assertThat(call.attempts()).isEqualTo(items + retries);
        assertThat(call.retries()).isEqualTo(retries);
        assertThat(call.timeouts()).isZero();
        assertThat(call.failed()).isEqualTo(1);
        long accepted = stats(p, "src").itemsOut();
        assertThat(sunk.size() + dead.size()).as("sunk + dead-lettered == accepted").isEqualTo(accepted);
        assertThat(waits).hasSize(retries).allSatisfy(w ->
                assertThat(w).isBetween(Duration.ofMillis(50).toNanos(), Duration.ofMillis(250).toNanos()));
    }

    @Test
    void eachWaitIsWithinTheBoundsOfItsRetryNumber() throws Exception {
        for (RetryPolicy.Jitter jitter : RetryPolicy.Jitter.values()) {
            List<Long> waits = new CopyOnWriteArrayList<>();
            RetryPolicy policy = RetryPolicy.exponential(7, Duration.ofMillis(1), Duration.ofMillis(8))
                    .withJitter(jitter);
            PipelineBuilder b = recording(waits);
            b.source("src", List.of(1))
                    .map("call", StageOptions.serial().withRetry(policy), i -> {
                        throw new IOException("always");
                    })
                    .sink("sink", i -> {});
            Pipeline p = b.start();
            assertThat(p.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(waits).as(jitter.name()).hasSize(6);
            for (int n = 1; n <= 6; n++) {
                assertThat(waits.get(n - 1)).as(jitter + " retry " + n)
                        .isBetween(policy.minDelay(n).toNanos(), policy.maxDelay(n).toNanos());
            }
            assertThat(policy.maxDelay(6)).isEqualTo(Duration.ofMillis(8));
            assertThat(p.deadLetters()).singleElement().extracting(DeadLetter::attempts).isEqualTo(7);
        }
    }

    @Test
    void aFailureThePolicyDoesNotRetryAndAnInterruptAreTriedOnce() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Long> waits = new CopyOnWriteArrayList<>();
        AtomicInteger sunk = new AtomicInteger();
        RetryPolicy onlyIo = RetryPolicy.exponential(5, Duration.ofMillis(1), Duration.ofMillis(1))
                .retryOn(IOException.class);
        PipelineBuilder b = recording(waits);
        b.source("src", range(3))
                .map("call", StageOptions.serial().withRetry(onlyIo), i -> {
                    calls.incrementAndGet();
                    return switch (i) {
                        case 0 -> throw new IllegalStateException("not transient");
                        case 1 -> throw new InterruptedException("interrupted by a library, not by cancel()");
                        default -> i;
                    };
                })
                .sink("sink", StageOptions.serial().withRetry(RetryPolicy.exponential(5, Duration.ZERO,
                        Duration.ZERO)), i -> {
                    throw new InterruptedException("the sink's call was interrupted"); // retries anything but this
                });
        Pipeline p = b.start();
        assertThat(p.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(calls).hasValue(3);
        assertThat(waits).isEmpty();
        assertThat(p.deadLetters()).extracting(DeadLetter::stage, DeadLetter::item, DeadLetter::attempts)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("call", 0, 1),
                        org.assertj.core.groups.Tuple.tuple("call", 1, 1),
                        org.assertj.core.groups.Tuple.tuple("sink", 2, 1));
        assertThat(stats(p, "call").retries()).isZero();
        assertThat(stats(p, "sink").retries()).isZero();
        assertThat(sunk).hasValue(0);
    }

    @Test
    void aSinkRetriesToo() throws Exception {
        List<Long> waits = new CopyOnWriteArrayList<>();
        ConcurrentHashMap<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        PipelineBuilder b = recording(waits);
        b.source("src", range(50))
                .sink("load", StageOptions.parallel(3).withRetry(RetryPolicy.exponential(3, Duration.ofMillis(1),
                        Duration.ofMillis(2))), i -> {
                    if (i % 5 == 0 && calls.computeIfAbsent(i, k -> new AtomicInteger()).incrementAndGet() == 1) {
                        throw new IOException("503");
                    }
                    sunk.add(i);
                });
        Pipeline p = b.start();
        assertThat(p.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(sunk).containsExactlyInAnyOrderElementsOf(range(50));
        StageStats load = stats(p, "load");
        assertThat(load.retries()).isEqualTo(10);
        assertThat(load.attempts()).isEqualTo(60);
        assertThat(load.itemsOut()).isEqualTo(50);
        assertThat(p.deadLetters()).isEmpty();
    }

    @Test
    void aTimeoutInterruptsAStuckItemAndDeadLettersItWhileTheOthersPass() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            int n = 40;
            CountDownLatch never = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            AtomicInteger sunk = new AtomicInteger();
            StageOptions opts = StageOptions.parallel(2).withTimeout(LIMIT);
            PipelineBuilder b = Pipeline.builder();
            b.source("src", range(n))
                    .map("call", virtual ? opts.withVirtualThreads() : opts, i -> {
                        if (i == 3) {
                            try {
                                never.await(); // nobody opens it: only the time limit's interrupt ends this
                            } catch (InterruptedException e) {
                                interrupted.countDown();
                                throw e;
                            }
                        }
                        return i;
                    })
                    .sink("sink", i -> sunk.incrementAndGet());
            Pipeline p = b.start();
            try {
                assertThat(p.await(30, TimeUnit.SECONDS)).as("virtual=" + virtual).isTrue();
            } finally {
                p.cancel(); // a no-op once finished; stops the stuck worker if the assertion failed
            }
            assertThat(interrupted.getCount()).as("the stuck call was interrupted").isZero();
            assertThat(p.deadLetters()).singleElement().satisfies(d -> {
                assertThat(d.item()).isEqualTo(3);
                assertThat(d.attempts()).isEqualTo(1);
                assertThat(d.cause()).isInstanceOf(TimeoutException.class)
                        .hasMessageContaining("stage 'call'").hasMessageContaining("item 3")
                        .hasCauseInstanceOf(InterruptedException.class);
            });
            // a stray interrupt left on a worker would have ended it and lost items downstream
            assertThat(sunk).hasValue(n - 1);
            StageStats call = stats(p, "call");
            assertThat(call.timeouts()).isEqualTo(1);
            assertThat(call.failed()).isEqualTo(1);
            assertThat(call.attempts()).isEqualTo(n);
            assertThat(sunk.get() + p.deadLetters().size()).isEqualTo(stats(p, "src").itemsOut());
            assertThat(p.threads()).as("the watchdog ended with the workers").noneMatch(Thread::isAlive)
                    .anyMatch(t -> t.getName().equals("pipeline-call-watchdog"));
        }
    }

    @Test
    void aLimitTooLargeForNanosIsClampedNotOverflowed() throws Exception {
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        PipelineBuilder b = Pipeline.builder();
        b.source("src", range(100))
                .map("call", StageOptions.parallel(2).withTimeout(Duration.ofSeconds(Long.MAX_VALUE)), i -> i)
                .sink("sink", sunk::add);
        Pipeline p = b.start();
        assertThat(p.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(sunk).hasSize(100);
        assertThat(stats(p, "call").timeouts()).isZero();
    }

    @Test
    void aCallThatSwallowsTheInterruptStillTimesOut() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        List<Integer> sunk = new CopyOnWriteArrayList<>();
        PipelineBuilder b = Pipeline.builder();
        b.source("src", range(5))
                .map("call", StageOptions.serial().withTimeout(LIMIT), i -> {
                    if (i == 2) {
                        try {
                            never.await();
                        } catch (InterruptedException e) {
                            return -1; // ignores the interrupt and returns a late result
                        }
                    }
                    return i;
                })
                .sink("sink", sunk::add);
        Pipeline p = b.start();
        assertThat(p.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(sunk).containsExactly(0, 1, 3, 4);
        assertThat(p.deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.item()).isEqualTo(2);
            assertThat(d.cause()).isInstanceOf(TimeoutException.class).hasNoCause();
        });
    }

    @Test
    void aTimedOutAttemptIsRetriedIfThePolicySaysSo() throws Exception {
        for (boolean retryTimeouts : new boolean[] {true, false}) {
            CountDownLatch never = new CountDownLatch(1);
            AtomicInteger firstCalls = new AtomicInteger();
            List<Long> waits = new CopyOnWriteArrayList<>();
            List<Integer> sunk = new CopyOnWriteArrayList<>();
            RetryPolicy policy = RetryPolicy.exponential(3, Duration.ofMillis(1), Duration.ofMillis(1));
            PipelineBuilder b = recording(waits);
            b.source("src", range(4))
                    .map("call", StageOptions.serial().withTimeout(LIMIT)
                            .withRetry(retryTimeouts ? policy : policy.retryOn(IOException.class)), i -> {
                        if (i == 1 && firstCalls.getAndIncrement() == 0) {
                            never.await(); // the first attempt hangs; the retry returns at once
                        }
                        return i;
                    })
                    .sink("sink", sunk::add);
            Pipeline p = b.start();
            assertThat(p.await(30, TimeUnit.SECONDS)).isTrue();
            StageStats call = stats(p, "call");
            assertThat(call.timeouts()).isEqualTo(1);
            if (retryTimeouts) {
                assertThat(sunk).containsExactly(0, 1, 2, 3);
                assertThat(call.retries()).isEqualTo(1);
                assertThat(call.attempts()).isEqualTo(5);
                assertThat(p.deadLetters()).isEmpty();
            } else {
                assertThat(sunk).containsExactly(0, 2, 3);
                assertThat(call.retries()).isZero();
                assertThat(p.deadLetters()).singleElement().extracting(DeadLetter::cause)
                        .isInstanceOf(TimeoutException.class);
            }
        }
    }

    @Test
    void cancelDuringABackoffWaitReturnsPromptly() throws Exception {
        CountDownLatch backingOff = new CountDownLatch(1);
        PipelineBuilder b = Pipeline.builder();
        b.sleeper = nanos -> {
            backingOff.countDown();
            ItemRunner.Sleeper.REAL.sleep(nanos); // an hour, unless interrupted
        };
        RetryPolicy hourly = RetryPolicy.exponential(3, Duration.ofHours(1), Duration.ofHours(1))
                .withJitter(RetryPolicy.Jitter.NONE);
        b.source("src", range(10))
                .map("call", StageOptions.serial().withRetry(hourly).withTimeout(LIMIT), i -> {
                    throw new IOException("down");
                })
                .sink("sink", i -> {});
        Pipeline p = b.start();
        assertThat(backingOff.await(10, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        p.cancel();
        assertThat(p.await(5, TimeUnit.SECONDS)).as("cancel() ends the backoff wait").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(p.threads()).noneMatch(Thread::isAlive);
        assertThat(p.failure()).isEmpty();
        assertThat(p.deadLetters()).as("a cancelled item is lost, not dead-lettered").isEmpty();
    }
}

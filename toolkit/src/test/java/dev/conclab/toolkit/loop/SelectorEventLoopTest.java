package dev.conclab.toolkit.loop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Scheduling, ordering, errors and the end of life of the loop. Each test runs the loop on the test's own thread
 * until a future it waits for is done, so nothing here waits on a sleep.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SelectorEventLoopTest {

    @Test
    void callSoonCallbacksRunInFifoOrder() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<Integer> ran = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                int n = i;
                loop.callSoon(() -> ran.add(n));
            }
            LoopFuture<Void> done = loop.createFuture();
            loop.callSoon(() -> done.setResult(null));
            loop.runUntilComplete(done);
            assertThat(ran).hasSize(1_000).isSorted();
        }
    }

    @Test
    void callbacksScheduledByACallbackRunInTheNextIteration() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> ran = new ArrayList<>();
            LoopFuture<Void> done = loop.createFuture();
            loop.callSoon(() -> {
                ran.add("a");
                loop.callSoon(() -> {
                    ran.add("c, scheduled by a");
                    done.setResult(null);
                });
            });
            loop.callSoon(() -> ran.add("b"));
            loop.runUntilComplete(done);
            assertThat(ran).containsExactly("a", "b", "c, scheduled by a");
        }
    }

    @Test
    void timersRunInDeadlineOrderAndFifoAmongEqualDeadlines() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> ran = new ArrayList<>();
            long base = loop.time() + TimeUnit.MILLISECONDS.toNanos(20);
            loop.callAt(base + 2_000_000, () -> ran.add("t+2ms"));
            loop.callAt(base, () -> ran.add("t first"));
            loop.callAt(base + 1_000_000, () -> ran.add("t+1ms"));
            loop.callAt(base, () -> ran.add("t second"));
            loop.callAt(base, () -> ran.add("t third"));
            long[] firedAt = new long[1];
            LoopFuture<Void> done = loop.createFuture();
            loop.callAt(base + 3_000_000, () -> {
                firedAt[0] = loop.time();
                done.setResult(null);
            });
            loop.runUntilComplete(done);
            assertThat(ran).containsExactly("t first", "t second", "t third", "t+1ms", "t+2ms");
            assertThat(firedAt[0]).as("a timer never runs before its deadline").isGreaterThanOrEqualTo(base
                    + 3_000_000);
        }
    }

    @Test
    void aTimerWaitsForItsDeadlineEvenWhenNothingElseIsReady() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            long start = loop.time();
            loop.runUntilComplete(loop.sleep(Duration.ofMillis(30)));
            assertThat(loop.time() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(30));
        }
    }

    @Test
    void cancelledHandlesDoNotRun() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> ran = new ArrayList<>();
            Handle soon = loop.callSoon("soon", () -> ran.add("soon"));
            Handle later = loop.callLater(Duration.ofMillis(5), "later", () -> ran.add("later"));
            loop.callSoon(() -> ran.add("kept"));
            soon.cancel();
            later.cancel();
            assertThat(soon.isCancelled()).isTrue();
            assertThat(later.isTimer()).isTrue();
            assertThat(soon.isTimer()).isFalse();
            loop.runUntilComplete(loop.sleep(Duration.ofMillis(10)));
            assertThat(ran).containsExactly("kept");
            assertThat(later.toString()).contains("later", "cancelled");
        }
    }

    @Test
    void anExceptionInACallbackGoesToTheHandlerAndTheLoopGoesOn() {
        List<CallbackError> errors = new ArrayList<>();
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("errors").exceptionHandler(errors::add)
                .build()) {
            List<String> ran = new ArrayList<>();
            loop.callSoon("boom", () -> {
                throw new IllegalStateException("boom");
            });
            loop.callSoon(() -> ran.add("after boom"));
            loop.callLater(Duration.ofMillis(1), "timer boom", () -> {
                throw new ArithmeticException("timer boom");
            });
            loop.runUntilComplete(loop.sleep(Duration.ofMillis(5)));
            assertThat(ran).containsExactly("after boom");
            assertThat(errors).hasSize(2);
            assertThat(errors.get(0).callbackName()).isEqualTo("boom");
            assertThat(errors.get(0).message()).isEqualTo("Exception in callback boom");
            assertThat(errors.get(0).exception()).hasMessage("boom");
            assertThat(errors.get(1).exception()).isInstanceOf(ArithmeticException.class);
            assertThat(errors.get(1).loopName()).isEqualTo("errors");
        }
    }

    @Test
    void runForeverReturnsAfterStopAndTheLoopCanRunAgain() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> ran = new ArrayList<>();
            loop.callSoon(() -> {
                ran.add("first run");
                loop.stop();
            });
            loop.callSoon(() -> ran.add("same iteration, still runs"));
            loop.runForever();
            assertThat(loop.isRunning()).isFalse();
            loop.callSoon(() -> {
                ran.add("second run");
                loop.stop();
            });
            loop.runForever();
            assertThat(ran).containsExactly("first run", "same iteration, still runs", "second run");
        }
    }

    @Test
    void runningReturnsTheLoopOfTheCallingThreadOnly() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            assertThatThrownBy(SelectorEventLoop::running).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no running event loop");
            LoopFuture<SelectorEventLoop> seen = loop.createFuture();
            loop.callSoon(() -> seen.setResult(SelectorEventLoop.running()));
            assertThat(loop.runUntilComplete(seen)).isSameAs(loop);
        }
    }

    @Test
    void callsFromAnotherThreadWhileTheLoopRunsAreRefused() throws Exception {
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("confined").build()) {
            LoopFuture<Void> future = loop.createFuture();
            AtomicReference<Throwable> fromOtherThread = new AtomicReference<>();
            AtomicReference<Throwable> futureFromOtherThread = new AtomicReference<>();
            LoopFuture<Void> done = loop.createFuture();
            loop.callSoon(() -> {
                // The loop thread waits for the other thread here: it is part of the test, not a race.
                Thread other = Thread.ofPlatform().name("foreign").start(() -> {
                    try {
                        loop.callSoon(() -> { });
                    } catch (Throwable e) {
                        fromOtherThread.set(e);
                    }
                    try {
                        future.setResult(null);
                    } catch (Throwable e) {
                        futureFromOtherThread.set(e);
                    }
                });
                try {
                    other.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                done.setResult(null);
            });
            loop.runUntilComplete(done);
            assertThat(fromOtherThread.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("callSoon called from thread foreign while event loop confined runs")
                    .hasMessageContaining("only callSoonThreadsafe");
            assertThat(futureFromOtherThread.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("LoopFuture.setResult");
        }
    }

    @Test
    void runInExecutorCompletesItsFutureOnTheLoopThread() throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("worker").factory());
        try (executor; SelectorEventLoop loop = SelectorEventLoop.create()) {
            LoopFuture<String> result = loop.runInExecutor(executor, () -> Thread.currentThread().getName());
            AtomicReference<String> callbackThread = new AtomicReference<>();
            result.addDoneCallback(f -> callbackThread.set(Thread.currentThread().getName()));
            LoopFuture<Object> failed = loop.runInExecutor(executor, () -> {
                throw new java.io.IOException("disk");
            });
            assertThat(loop.runUntilComplete(result)).isEqualTo("worker");
            assertThatThrownBy(() -> loop.runUntilComplete(failed)).hasRootCauseMessage("disk");
            assertThat(callbackThread.get()).isEqualTo(Thread.currentThread().getName());
        }
    }

    @Test
    void closeClosesTheSelectorAndRefusesNewWork() {
        SelectorEventLoop loop = SelectorEventLoop.builder().name("closing").build();
        loop.callSoon(() -> { });
        loop.callLater(Duration.ofHours(1), () -> { });
        assertThat(loop.isSelectorOpen()).isTrue();
        loop.close();
        loop.close(); // idempotent
        assertThat(loop.isClosed()).isTrue();
        assertThat(loop.isSelectorOpen()).isFalse();
        assertThatThrownBy(() -> loop.callSoon(() -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("event loop closing is closed");
        assertThatThrownBy(() -> loop.callSoonThreadsafe(() -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> loop.callLater(Duration.ZERO, () -> { }))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(loop::runForever).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aRunningLoopCannotBeClosedOrRunTwice() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            AtomicReference<Throwable> closing = new AtomicReference<>();
            AtomicReference<Throwable> nested = new AtomicReference<>();
            LoopFuture<Void> done = loop.createFuture();
            loop.callSoon(() -> {
                try {
                    loop.close();
                } catch (IllegalStateException e) {
                    closing.set(e);
                }
                try {
                    loop.runForever();
                } catch (IllegalStateException e) {
                    nested.set(e);
                }
                done.setResult(null);
            });
            loop.runUntilComplete(done);
            assertThat(closing.get()).hasMessageContaining("while it is running");
            assertThat(nested.get()).hasMessageContaining("already running");
            assertThat(loop.isClosed()).isFalse();
        }
    }

    @Test
    void badInputIsRefusedWithAClearMessage() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            assertThatThrownBy(() -> loop.callSoon(null)).isInstanceOf(NullPointerException.class)
                    .hasMessage("callback");
            assertThatThrownBy(() -> loop.callLater(null, () -> { })).isInstanceOf(NullPointerException.class)
                    .hasMessage("delay");
            assertThatThrownBy(() -> loop.createTask(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> SelectorEventLoop.builder().watchdog(Duration.ZERO, s -> { }))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
            assertThatThrownBy(() -> SelectorEventLoop.builder().slowCallbackDuration(Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be negative");
            try (SelectorEventLoop other = SelectorEventLoop.create()) {
                LoopFuture<Object> foreign = other.createFuture();
                assertThatThrownBy(() -> loop.runUntilComplete(foreign)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("belongs to loop");
            }
        }
    }

    @Test
    void runUntilCompleteThrowsWhenStoppedBeforeTheFutureIsDone() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            LoopFuture<Void> never = loop.createFuture("never");
            loop.callSoon(loop::stop);
            assertThatThrownBy(() -> loop.runUntilComplete(never)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("stopped before");
        }
    }

    @Test
    void defaultSlowCallbackDurationIsAsyncios() {
        assertThat(SelectorEventLoop.DEFAULT_SLOW_CALLBACK_DURATION).isEqualTo(Duration.ofMillis(100));
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            assertThat(loop.isDebug()).isFalse();
            assertThat(loop.slowCallbackDuration()).isEqualTo(Duration.ofMillis(100));
        }
    }
}

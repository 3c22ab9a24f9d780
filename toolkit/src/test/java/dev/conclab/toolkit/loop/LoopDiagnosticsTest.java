package dev.conclab.toolkit.loop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Debug mode's slow-callback reports and the stall watchdog; the stall is forced with a latch, not a sleep. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoopDiagnosticsTest {

    @Test
    void debugModeReportsACallbackSlowerThanTheThresholdWithItsNameAndDuration() {
        List<SlowCallback> slow = new ArrayList<>();
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("dbg").debug(true)
                .slowCallbackDuration(Duration.ofMillis(200)).slowCallbackListener(slow::add).build()) {
            loop.callSoon("quick", () -> { });
            // generous margins: a no-op callback descheduled for 200 ms on a loaded machine would be a false report
            loop.callSoon("busy 250 ms", () -> spinFor(Duration.ofMillis(250)));
            loop.runUntilComplete(loop.sleep(Duration.ZERO));
        }
        assertThat(slow).hasSize(1);
        assertThat(slow.getFirst().callbackName()).isEqualTo("busy 250 ms");
        assertThat(slow.getFirst().loopName()).isEqualTo("dbg");
        assertThat(slow.getFirst().took()).isGreaterThanOrEqualTo(Duration.ofMillis(250));
        assertThat(slow.getFirst().message()).matches("Executing busy 250 ms took 0\\.\\d{3} seconds");
    }

    @Test
    void withoutDebugModeNothingIsReported() {
        List<SlowCallback> slow = new ArrayList<>();
        try (SelectorEventLoop loop = SelectorEventLoop.builder().slowCallbackDuration(Duration.ZERO)
                .slowCallbackListener(slow::add).build()) {
            loop.callSoon("busy", () -> spinFor(Duration.ofMillis(5)));
            loop.runUntilComplete(loop.sleep(Duration.ZERO));
        }
        assertThat(slow).isEmpty();
    }

    @Test
    void theWatchdogNamesTheFrameThatBlocksTheLoop() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<LoopStall> report = new CompletableFuture<>();
        SelectorEventLoop loop = SelectorEventLoop.builder().name("watched")
                .watchdog(Duration.ofMillis(50), stall -> {
                    report.complete(stall);
                    release.countDown(); // only now may the blocked callback go on
                }).build();
        try (loop) {
            assertThat(loop.isWatchdogRunning()).as("started only when the loop runs").isFalse();
            loop.callSoon("blocks on a latch", () -> waitForTheWatchdog(release));
            loop.runUntilComplete(loop.sleep(Duration.ZERO));
            assertThat(loop.isWatchdogRunning()).isTrue();
        }
        assertThat(loop.isWatchdogRunning()).as("stopped by close").isFalse();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("watched"));

        LoopStall stall = report.getNow(null);
        assertThat(stall).isNotNull();
        assertThat(stall.callbackName()).isEqualTo("blocks on a latch");
        assertThat(stall.stalledFor()).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        assertThat(stall.blockingFrame()).hasValueSatisfying(frame -> {
            assertThat(frame.getClassName()).isEqualTo(LoopDiagnosticsTest.class.getName());
            assertThat(frame.getMethodName()).isEqualTo("waitForTheWatchdog");
        });
        assertThat(stall.stack()).anyMatch(f -> f.getClassName().equals(CountDownLatch.class.getName()));
        assertThat(stall.message()).contains("watched", "blocks on a latch", "waitForTheWatchdog");
    }

    private static void waitForTheWatchdog(CountDownLatch release) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Keeps the loop thread busy (a CPU-bound callback), without sleeping. */
    private static void spinFor(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }
}

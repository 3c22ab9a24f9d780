package dev.conclab.lab.gil;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Invalid arguments fail at once with a message naming the problem; a cancelled run leaves no thread behind. */
class GilModelBadInputTest {

    @Test
    void invalidArgumentsThrowWithAMessage() {
        assertThatThrownBy(() -> new GilConfig(0, true, GilConfig.Wakeups.AS_SCHEDULED))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("switch interval")
                .hasMessageContaining("got 0");
        assertThatThrownBy(() -> GilConfig.cpython().withInterval(GilConfig.MAX_INTERVAL_MICROS + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("switch interval");
        assertThatThrownBy(() -> new GilConfig(5_000, true, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("wakeups");
        assertThatThrownBy(() -> new Step.Spin(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Spin must be at least 1, got 0");
        assertThatThrownBy(() -> new Step.Count(-5)).hasMessage("Count must be at least 1, got -5");
        assertThatThrownBy(() -> new Step.Block(0)).hasMessage("Block must be at least 1, got 0");
        assertThatThrownBy(() -> new Step.ComputeUntil(null, 10, 10)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("condition");
        assertThatThrownBy(() -> Script.of(" ", new Step.Spin(1))).hasMessage("a script needs a name");
        assertThatThrownBy(() -> Script.of("empty")).hasMessage("script empty has no steps");
        assertThatThrownBy(() -> Script.repeat("r", 0, new Step.Spin(1)))
                .hasMessage("script r must repeat at least once, got 0");
        assertThatThrownBy(() -> new ModelInterpreter(null)).isInstanceOf(NullPointerException.class);
        ModelInterpreter interpreter = new ModelInterpreter(GilConfig.cpython());
        assertThatThrownBy(() -> interpreter.run(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a run needs at least one script");
        assertThatThrownBy(() -> interpreter.run(List.of(Script.of("t", new Step.Spin(1)),
                Script.of("t", new Step.Spin(1))))).hasMessageContaining("two scripts are named t");
    }

    @Test
    void droppingAGilOneDoesNotHoldIsAnError() {
        ModelGil gil = new ModelGil(GilConfig.cpython(), new GilRecorder());
        ModelThread stranger = new ModelThread(Script.of("stranger", new Step.Spin(1)), gil);
        assertThatThrownBy(() -> gil.drop(stranger, GilEvent.DropReason.BLOCKING))
                .isInstanceOf(IllegalStateException.class).hasMessage("stranger dropped a GIL it does not hold");
    }

    @Test
    void aFailingConditionFailsTheRunWithItsCause() {
        ModelInterpreter interpreter = new ModelInterpreter(GilConfig.cpython());
        Script failing = Script.of("bad", new Step.ComputeUntil(() -> {
            throw new IllegalStateException("boom");
        }, 10, 1_000));
        assertThatThrownBy(() -> interpreter.run(List.of(failing))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("model thread bad failed").hasRootCauseMessage("boom");
    }

    @Test
    void interruptingARunStopsEveryModelThread() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        GilRecorder recorder = new GilRecorder();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread caller = Thread.ofPlatform().name("gil-test-caller").start(() -> {
            try {
                new ModelInterpreter(GilConfig.cpython()).run(List.of(
                        Script.of("forever", new Step.ComputeUntil(() -> false, 100, 60_000_000)),
                        Script.repeat("io", 1_000, new Step.Block(1_000))), recorder);
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        // Wait until both model threads have taken the GIL at least once, then cancel.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (recorder.takes("io") < 2 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        caller.interrupt();
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        caller.join();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(t) && t.getName().startsWith("gil-model-")) {
                t.join(2_000);
                assertThat(t.isAlive()).as(t.getName() + " left running").isFalse();
            }
        }
    }
}

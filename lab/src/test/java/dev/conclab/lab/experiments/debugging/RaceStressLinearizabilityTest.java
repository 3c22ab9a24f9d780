package dev.conclab.lab.experiments.debugging;

import dev.conclab.lab.experiments.LincheckScenarios;
import dev.conclab.lab.experiments.debugging.RaceStressHarness.AtomicCounter;
import dev.conclab.lab.experiments.debugging.RaceStressHarness.VolatileCounter;
import org.jetbrains.lincheck.LincheckAssertionError;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The counters of {@code race-stress}, checked by lincheck's model checker: where the stress harness runs the
 * broken counter many times and counts lost updates, lincheck searches the thread interleavings itself and must
 * report one that no sequential order explains (two increments returning the same count) for {@code count++} on a
 * {@code volatile} field, and none for {@code AtomicLong.incrementAndGet}.
 *
 * <p>Runs in lab's separate {@code lincheck} Surefire fork (files named {@code *LinearizabilityTest}): lincheck
 * retransforms classes, which slows every other test sharing its JVM.
 */
class RaceStressLinearizabilityTest {

    /** The heading of the schedule it found, printed step by step (reads, writes, switches) with source lines. */
    private static final String INTERLEAVING = "The following interleaving leads to the error";

    private static ModelCheckingOptions options() {
        return LincheckScenarios.twoThreadsOfTwo(0);
    }

    @Test
    void volatileCounterLosesAnUpdate() {
        assertThatThrownBy(() -> options().check(VolatileCounterSpec.class))
                .isInstanceOf(LincheckAssertionError.class)
                .hasMessageContaining(LincheckScenarios.NOT_LINEARIZABLE)
                .hasMessageContaining(INTERLEAVING)
                .hasMessageContaining("count = 1 at RaceStressHarness.VolatileCounter.increment");
    }

    @Test
    void atomicCounterIsLinearizable() {
        assertThatCode(() -> options().check(AtomicCounterSpec.class)).doesNotThrowAnyException();
    }

    // ---- the operations lincheck calls; a fresh instance per scenario --------------------------------------

    public static class VolatileCounterSpec {
        private final VolatileCounter counter = new VolatileCounter();

        @Operation
        public long increment() {
            return counter.increment();
        }
    }

    public static class AtomicCounterSpec {
        private final AtomicCounter counter = new AtomicCounter();

        @Operation
        public long increment() {
            return counter.increment();
        }
    }
}

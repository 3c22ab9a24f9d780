package dev.conclab.lab.experiments.threading;

import dev.conclab.lab.experiments.LincheckScenarios;
import dev.conclab.lab.experiments.threading.RaceStructures.CheckThenActRegister;
import dev.conclab.lab.experiments.threading.RaceStructures.Gap;
import dev.conclab.lab.experiments.threading.RaceStructures.GetPutMapCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.MergeMapCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.PlainCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.PutIfAbsentRegister;
import dev.conclab.lab.experiments.threading.RaceStructures.SynchronizedCounter;
import org.jetbrains.lincheck.LincheckAssertionError;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The structures of {@code race-conditions}, checked for linearizability by lincheck's model checker: every
 * concurrent history of a linearizable structure matches some sequential order of its operations. The experiment
 * forces one bad interleaving with a barrier; here lincheck searches the interleavings itself, with no barrier
 * ({@link Gap#NONE}), and must find one for each broken structure and none for its cure.
 *
 * <p>Runs in its own Surefire fork (execution {@code lincheck} in {@code lab/pom.xml}): lincheck retransforms
 * classes, which slows every other test sharing its JVM.
 */
class RaceLinearizabilityTest {

    private static ModelCheckingOptions options() {
        return LincheckScenarios.twoThreadsOfTwo(1);
    }

    @Test
    void plainCounterIsNotLinearizable() {
        assertThatThrownBy(() -> options().check(PlainCounterSpec.class))
                .isInstanceOf(LincheckAssertionError.class).hasMessageContaining(LincheckScenarios.NOT_LINEARIZABLE);
    }

    @Test
    void synchronizedCounterIsLinearizable() {
        assertThatCode(() -> options().check(SynchronizedCounterSpec.class)).doesNotThrowAnyException();
    }

    @Test
    void checkThenActRegisterIsNotLinearizable() {
        assertThatThrownBy(() -> options().check(CheckThenActSpec.class))
                .isInstanceOf(LincheckAssertionError.class).hasMessageContaining(LincheckScenarios.NOT_LINEARIZABLE);
    }

    @Test
    void putIfAbsentRegisterIsLinearizable() {
        assertThatCode(() -> options().check(PutIfAbsentSpec.class)).doesNotThrowAnyException();
    }

    @Test
    void getThenPutOnConcurrentHashMapIsNotLinearizable() {
        assertThatThrownBy(() -> options().check(GetPutMapSpec.class))
                .isInstanceOf(LincheckAssertionError.class).hasMessageContaining(LincheckScenarios.NOT_LINEARIZABLE);
    }

    @Test
    void mergeOnConcurrentHashMapIsLinearizable() {
        assertThatCode(() -> options().check(MergeMapSpec.class)).doesNotThrowAnyException();
    }

    // ---- the operations lincheck calls; a fresh instance per scenario --------------------------------------

    public static class PlainCounterSpec {
        private final PlainCounter counter = new PlainCounter();

        @Operation
        public long increment() throws InterruptedException {
            return counter.increment(Gap.NONE);
        }
    }

    public static class SynchronizedCounterSpec {
        private final SynchronizedCounter counter = new SynchronizedCounter();

        @Operation
        public long increment() {
            return counter.increment();
        }

        @Operation
        public long get() {
            return counter.get();
        }
    }

    public static class CheckThenActSpec {
        private final CheckThenActRegister register = new CheckThenActRegister();

        @Operation
        public boolean claim() throws InterruptedException {
            return register.claim(1, 0, Gap.NONE);
        }
    }

    @Param(name = "key", gen = IntGen.class, conf = "1:2")
    public static class PutIfAbsentSpec {
        private final PutIfAbsentRegister register = new PutIfAbsentRegister();

        @Operation
        public boolean claim(@Param(name = "key") int key) {
            return register.claim(key, 0);
        }
    }

    public static class GetPutMapSpec {
        private final GetPutMapCounter counter = new GetPutMapCounter();

        @Operation
        public long increment() throws InterruptedException {
            return counter.increment("hits", Gap.NONE);
        }
    }

    public static class MergeMapSpec {
        private final MergeMapCounter counter = new MergeMapCounter();

        @Operation
        public long increment() {
            return counter.increment("hits");
        }

        @Operation
        public long get() {
            return counter.get("hits");
        }
    }
}

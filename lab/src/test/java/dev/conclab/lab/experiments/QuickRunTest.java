package dev.conclab.lab.experiments;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.RunStatus;
import dev.conclab.lab.engine.Runner;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every experiment, in quick mode: it completes, judges every claim, and no claim FAILS. A SKIPPED claim must
 * say why. This is the build's check that the lab's answers still hold on this machine.
 */
class QuickRunTest {

    @TestFactory
    Stream<DynamicTest> everyExperimentHoldsInQuickMode() {
        Runner runner = new Runner(Optional.empty());
        return Experiments.all().stream().map(e -> DynamicTest.dynamicTest(e.id(), () -> check(runner, e)));
    }

    private static void check(Runner runner, Experiment experiment) throws InterruptedException {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        RunRecord record = runner.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), true), true,
                ProgressListener.NONE);

        String report = record.result().claims().stream()
                .map(c -> c.verdict().label() + " " + c.id() + ": " + c.verdict().detail())
                .collect(Collectors.joining("\n  "));
        System.out.printf("%s (%.1f s, %s)%n  %s%n", experiment.id(), record.seconds(), record.status(), report);
        record.result().notes().stream().filter(n -> n.startsWith("attempt ")).forEach(n -> System.out.println("  " + n));
        assertThat(record.status()).as(experiment.id() + ": " + record.error()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().claims()).as(report).noneMatch(c -> c.verdict() instanceof Verdict.Fails);
        assertThat(record.result().claims()).allMatch(c -> !c.verdict().detail().isBlank());
        assertThat(record.result().tables()).isNotEmpty();
        assertNoThreadLeftBehind(before, experiment.id());
    }

    /** Non-daemon threads an experiment started must be gone once it returns. */
    private static void assertNoThreadLeftBehind(Set<Thread> before, String id) throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(t) && !t.isDaemon() && t.isAlive()) {
                t.join(2_000);
                assertThat(t.isAlive()).as(id + " left thread " + t.getName() + " running").isFalse();
            }
        }
    }
}

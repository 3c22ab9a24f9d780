package dev.conclab.lab.experiments;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.RunStatus;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every experiment, in quick mode: it completes, judges every claim, and no claim FAILS. A SKIPPED claim must
 * say why. This is the build's check that the lab's answers still hold on this machine.
 */
class QuickRunTest {

    @TestFactory
    Stream<DynamicTest> everyExperimentHoldsInQuickMode() {
        return Experiments.all().stream().map(e -> DynamicTest.dynamicTest(e.id(), () -> check(e)));
    }

    private static void check(Experiment experiment) throws InterruptedException {
        Set<Thread> before = ExperimentRuns.liveThreads();
        RunRecord record = ExperimentRuns.quickRun(experiment, Map.of());

        String report = ExperimentRuns.report(record);
        System.out.printf("%s (%.1f s, %s)%n  %s%n", experiment.id(), record.seconds(), record.status(), report);
        record.result().notes().stream().filter(n -> n.startsWith("attempt ")).forEach(n -> System.out.println("  " + n));
        assertThat(record.status()).as(experiment.id() + ": " + record.error()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().claims()).as(report).noneMatch(c -> c.verdict() instanceof Verdict.Fails);
        assertThat(record.result().claims()).allMatch(c -> !c.verdict().detail().isBlank());
        assertThat(record.result().tables()).isNotEmpty();
        ExperimentRuns.assertNoThreadLeftBehind(before, experiment.id());
    }
}

package dev.conclab.lab.experiments.threading;

import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.RunStatus;
import dev.conclab.lab.engine.Runner;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.RepeatedTest;

import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forced outcomes of {@code barrier-phases} — skew phases − 1 without a barrier, 0 with one, the action once per
 * phase, a timed-out await breaking the barrier for every party, in Java and in CPython — hold on every one of 20
 * quick runs, at the first attempt (a retried attempt would hide a flaky schedule).
 */
class BarrierPhasesRepeatTest {

    private static final Runner RUNNER = new Runner(Optional.empty());

    @RepeatedTest(20)
    void holdsEveryRunAtTheFirstAttempt() throws InterruptedException {
        BarrierPhases experiment = new BarrierPhases();
        RunRecord record = RUNNER.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), true), true,
                ProgressListener.NONE);
        String report = record.result().claims().stream()
                .map(c -> c.verdict().label() + " " + c.id() + ": " + c.verdict().detail())
                .collect(Collectors.joining("\n  "));
        assertThat(record.status()).as(record.error()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().notes()).as("retried attempts").noneMatch(n -> n.startsWith("attempt "));
        assertThat(record.result().claims()).as(report)
                .allMatch(c -> c.verdict() instanceof Verdict.Holds || c.verdict() instanceof Verdict.Skipped);
    }
}

package dev.conclab.lab.experiments.threading;

import dev.conclab.lab.engine.Experiment;
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
 * The forced deadlock and the forced lock/condition failures are deterministic: 20 quick runs in a row, every
 * claim HOLDS on the first attempt (the runner's second attempt would hide a flaky schedule, so any retried
 * attempt fails this test), and no thread is left behind.
 */
class ForcedLockOutcomesTest {

    private static final Runner RUNNER = new Runner(Optional.empty());

    @RepeatedTest(20)
    void deadlockHoldsEveryRun() throws InterruptedException {
        holdsAtFirstAttempt(new Deadlock());
    }

    @RepeatedTest(20)
    void locksAndConditionsHoldEveryRun() throws InterruptedException {
        holdsAtFirstAttempt(new LocksAndConditions());
    }

    private static void holdsAtFirstAttempt(Experiment experiment) throws InterruptedException {
        RunRecord record = RUNNER.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), true), true,
                ProgressListener.NONE);
        String report = record.result().claims().stream()
                .map(c -> c.verdict().label() + " " + c.id() + ": " + c.verdict().detail())
                .collect(Collectors.joining("\n  "));
        assertThat(record.status()).as(experiment.id() + ": " + record.error()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().notes()).as("retried attempts").noneMatch(n -> n.startsWith("attempt "));
        assertThat(record.result().claims()).as(report)
                .allMatch(c -> c.verdict() instanceof Verdict.Holds || c.verdict() instanceof Verdict.Skipped);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String name = t.getName();
            if (name.startsWith("deadlock-") || name.startsWith("crowd-") || name.startsWith("consumer-")
                    || name.startsWith("producer-") || name.startsWith("stress-")) {
                t.join(2_000);
                assertThat(t.isAlive()).as("left behind: " + name).isFalse();
            }
        }
    }
}

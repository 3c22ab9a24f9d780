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
 * The forced outcomes of {@code producer-consumer} — the bound is never exceeded, every item arrives once, and a
 * lone poison pill strands the other consumers — hold on every one of 20 quick runs, at the first attempt (a
 * retried attempt would hide a flaky schedule), with no producer or consumer thread left behind. Smaller than the
 * quick defaults (200 items) so that 20 runs stay within a few seconds each.
 */
class ProducerConsumerRepeatTest {

    private static final Runner RUNNER = new Runner(Optional.empty());

    @RepeatedTest(20)
    void holdsEveryRunAtTheFirstAttempt() throws InterruptedException {
        ProducerConsumer experiment = new ProducerConsumer();
        RunRecord record = RUNNER.run(experiment, ParamValues.resolve(experiment.params(),
                Map.of("items", "200", "consume-us", "200"), true), true, ProgressListener.NONE);
        String report = record.result().claims().stream()
                .map(c -> c.verdict().label() + " " + c.id() + ": " + c.verdict().detail())
                .collect(Collectors.joining("\n  "));
        assertThat(record.status()).as(record.error()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().notes()).as("retried attempts").noneMatch(n -> n.startsWith("attempt "));
        assertThat(record.result().claims()).as(report)
                .allMatch(c -> c.verdict() instanceof Verdict.Holds || c.verdict() instanceof Verdict.Skipped);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("consumer-") || t.getName().startsWith("producer-")) {
                t.join(2_000);
                assertThat(t.isAlive()).as("left behind: " + t.getName()).isFalse();
            }
        }
    }
}

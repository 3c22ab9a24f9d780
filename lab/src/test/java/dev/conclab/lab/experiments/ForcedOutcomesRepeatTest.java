package dev.conclab.lab.experiments;

import dev.conclab.lab.engine.ClaimResult;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.RunStatus;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The experiments that force a race, a deadlock or a broken coordination with latches and barriers are forced, not
 * likely: 20 quick runs in a row each, and in every run each broken version goes wrong and each cure holds, on the
 * first attempt (the runner's second attempt would hide a schedule that only sometimes works), with no thread left
 * behind. A claim may be SKIPPED only when it is a CPython claim ({@code py-…}) and no CPython is installed.
 */
class ForcedOutcomesRepeatTest {

    private static final int RUNS = 20;

    /** An experiment whose outcomes are forced, with parameter values that keep 20 runs short. */
    private record Forced(String id, Map<String, String> overrides) {
    }

    private static final List<Forced> FORCED = List.of(
            new Forced("race-conditions", Map.of()),
            new Forced("locks-and-conditions", Map.of()),
            new Forced("deadlock", Map.of()),
            new Forced("barrier-phases", Map.of()),
            new Forced("producer-consumer", Map.of("items", "200", "consume-us", "200")),
            new Forced("loop-anatomy", Map.of()),
            new Forced("backpressure", Map.of("items", "500", "stream-kib", "2048")),
            new Forced("threads-and-loop", Map.of("rounds", "2")),
            new Forced("gather-vs-wait", Map.of()),
            new Forced("async-exceptions", Map.of()),
            new Forced("async-cancellation", Map.of()),
            new Forced("debug-multiprocessing", Map.of()),
            new Forced("manual-worker-pool", Map.of()),
            new Forced("cross-process-queue", Map.of("items", "100")),
            new Forced("process-pool", Map.of()),
            new Forced("gil-atomicity", Map.of()),
            new Forced("rate-limiter", Map.of()),
            new Forced("fanout-races", Map.of("hold-ms", "20")),
            new Forced("asyncio-connections", Map.of("connections", "100")),
            new Forced("fan-in-out", Map.of("items", "200")),
            new Forced("fault-tolerant-pipeline", Map.of("items", "200", "py-items", "50")),
            new Forced("etl-crash-resume", Map.of()),
            new Forced("lost-exceptions", Map.of()),
            new Forced("stuck-loop", Map.of()),
            new Forced("async-leak", Map.of()),
            new Forced("timing-traps", Map.of()),
            new Forced("doctor-deadlock", Map.of()));

    @TestFactory
    Stream<DynamicContainer> everyForcedOutcomeHappensOnEveryRun() {
        return FORCED.stream().map(forced -> DynamicContainer.dynamicContainer(forced.id(),
                IntStream.rangeClosed(1, RUNS).mapToObj(run ->
                        DynamicTest.dynamicTest("run " + run, () -> holdsAtFirstAttempt(forced)))));
    }

    private static void holdsAtFirstAttempt(Forced forced) throws InterruptedException {
        var experiment = Experiments.byId(forced.id()).orElseThrow();
        Set<Thread> before = ExperimentRuns.liveThreads();
        RunRecord record = ExperimentRuns.quickRun(experiment, forced.overrides());

        assertThat(record.status()).as(forced.id() + ": " + record.error()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().notes()).as("retried attempts").noneMatch(n -> n.startsWith("attempt "));
        assertThat(record.result().claims()).hasSize(experiment.claims().size());
        for (ClaimResult claim : record.result().claims()) {
            var verdict = assertThat(claim.verdict()).as(ExperimentRuns.report(record));
            if (claim.id().startsWith("py-")) {
                verdict.isNotInstanceOf(Verdict.Fails.class);
            } else {
                verdict.isInstanceOf(Verdict.Holds.class);
            }
        }
        ExperimentRuns.assertNoThreadLeftBehind(before, forced.id());
    }
}

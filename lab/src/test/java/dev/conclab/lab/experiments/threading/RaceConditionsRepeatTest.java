package dev.conclab.lab.experiments.threading;

import dev.conclab.lab.engine.ClaimResult;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.RunStatus;
import dev.conclab.lab.engine.Runner;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The races of {@code race-conditions} are forced, not likely: twenty quick runs in a row, and every broken version
 * goes wrong and every cure holds in each of them, on the first attempt (a retried attempt would hide a race that
 * only sometimes shows).
 */
class RaceConditionsRepeatTest {

    private static final int RUNS = 20;

    @Test
    void everyClaimHoldsOnEveryRun() throws InterruptedException {
        RaceConditions experiment = new RaceConditions();
        Runner runner = new Runner(Optional.empty());
        for (int run = 1; run <= RUNS; run++) {
            RunRecord record = runner.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), true), true,
                    ProgressListener.NONE);
            assertThat(record.status()).as("run " + run + ": " + record.error()).isEqualTo(RunStatus.COMPLETED);
            List<ClaimResult> claims = record.result().claims();
            assertThat(claims).as("run " + run).hasSize(experiment.claims().size());
            for (ClaimResult claim : claims) {
                // SKIPPED is allowed only where no CPython is installed, and then for the CPython claims alone.
                assertThat(claim.verdict()).as("run " + run + ", " + claim.id() + ": " + claim.verdict().detail())
                        .isNotInstanceOf(Verdict.Fails.class);
                if (!claim.id().startsWith("py-")) {
                    assertThat(claim.verdict()).as("run " + run + ", " + claim.id())
                            .isInstanceOf(Verdict.Holds.class);
                }
            }
            assertThat(record.result().notes()).as("run " + run + " needed a second attempt")
                    .noneMatch(note -> note.startsWith("attempt "));
        }
    }
}

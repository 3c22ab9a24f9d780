package dev.conclab.lab.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RunnerTest {

    private final Runner runner = new Runner(Optional.empty());

    private RunRecord run(TestExperiment experiment) throws InterruptedException {
        return runner.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), true), true,
                ProgressListener.NONE);
    }

    @Test
    void aCompletedRunCarriesEveryVerdictAndAnUnjudgedClaimFails() throws Exception {
        RunRecord record = run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            ctx.table(Table.builder("t", "a").row(ctx.intParam("n")).build());
            ctx.claim(TestExperiment.FIRST, Verdict.atLeast("x", 2.0, 1.5));
        }));

        assertThat(record.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.params()).containsEntry("n", 2);
        assertThat(record.result().claims()).extracting(c -> c.verdict().label()).containsExactly("HOLDS", "FAILS");
        assertThat(record.result().claims().get(1).verdict().detail())
                .isEqualTo("the experiment finished without judging this claim");
        assertThat(record.allHold()).isFalse();
    }

    @Test
    void aFailingRunIsMeasuredOnceMoreAndTheFailedAttemptStaysInTheNotes() throws Exception {
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        RunRecord record = run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            boolean slowSpell = attempts.incrementAndGet() == 1;
            ctx.claim(TestExperiment.FIRST, Verdict.atLeast("speed-up", slowSpell ? 1.2 : 1.9, 1.5));
            ctx.claim(TestExperiment.SECOND, Verdict.check(true, "e"));
        }));

        assertThat(attempts.get()).isEqualTo(2);
        assertThat(record.allHold()).isTrue();
        assertThat(record.result().claims().getFirst().verdict().detail()).isEqualTo("speed-up: 1.90× (needs ≥ 1.50×)");
        assertThat(record.result().notes()).containsExactly("attempt 1 of 2 measured again after: first FAILS"
                + " (speed-up: 1.20× (needs ≥ 1.50×))");
    }

    @Test
    void aClaimThatFailsOnEveryAttemptFails() throws Exception {
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        RunRecord record = run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            attempts.incrementAndGet();
            ctx.claim(TestExperiment.FIRST, Verdict.atLeast("speed-up", 1.0, 1.5));
            ctx.claim(TestExperiment.SECOND, Verdict.check(true, "e"));
        }));

        assertThat(attempts.get()).isEqualTo(Runner.ATTEMPTS);
        assertThat(record.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(record.result().claims().getFirst().verdict()).isInstanceOf(Verdict.Fails.class);
        assertThat(record.allHold()).isFalse();
    }

    @Test
    void aClaimThatWasNotDeclaredOrIsJudgedTwiceIsRefused() throws Exception {
        AtomicReference<Throwable> undeclared = new AtomicReference<>();
        AtomicReference<Throwable> twice = new AtomicReference<>();
        run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            try {
                ctx.claim(new ClaimSpec("other", "Not declared."), Verdict.check(true, "e"));
            } catch (IllegalArgumentException e) {
                undeclared.set(e);
            }
            ctx.claim(TestExperiment.FIRST, Verdict.check(true, "e"));
            try {
                ctx.claim(TestExperiment.FIRST, Verdict.check(false, "e"));
            } catch (IllegalStateException e) {
                twice.set(e);
            }
        }));

        assertThat(undeclared.get()).hasMessageContaining("undeclared claim: other");
        assertThat(twice.get()).hasMessageContaining("judged claim first twice");
    }

    @Test
    void anExperimentThatThrowsFailsItsClaimsWithTheError() throws Exception {
        RunRecord record = run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            ctx.claim(TestExperiment.FIRST, Verdict.check(true, "e"));
            throw new IllegalStateException("broken");
        }));

        assertThat(record.status()).isEqualTo(RunStatus.FAILED);
        assertThat(record.error()).isEqualTo("IllegalStateException: broken");
        assertThat(record.result().claims().get(0).verdict()).isInstanceOf(Verdict.Holds.class);
        assertThat(record.result().claims().get(1).verdict().detail())
                .isEqualTo("the experiment failed: IllegalStateException: broken");
    }

    @Test
    void aRunPastItsTimeoutIsStoppedAndItsClaimsFail() throws Exception {
        long start = System.nanoTime();
        RunRecord record = run(new TestExperiment(Duration.ofMillis(300), ctx -> Thread.sleep(60_000)));

        assertThat(record.status()).isEqualTo(RunStatus.TIMED_OUT);
        assertThat(record.result().claims()).allMatch(c -> c.verdict() instanceof Verdict.Fails);
        assertThat(record.result().claims().get(0).verdict().detail()).contains("timed out");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void cancellingStopsTheRunItsThreadsAndItsChildProcesses() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        AtomicReference<Process> child = new AtomicReference<>();
        AtomicReference<Thread> worker = new AtomicReference<>();
        TestExperiment experiment = new TestExperiment(Duration.ofMinutes(5), ctx -> {
            child.set(ctx.children().start(new ProcessBuilder("sleep", "600")));
            try (ExecutorService pool = Executors.newFixedThreadPool(1)) {
                pool.submit(() -> {
                    worker.set(Thread.currentThread());
                    running.countDown();
                    Thread.sleep(600_000);
                    return null;
                });
                Thread.sleep(600_000);
            }
        });
        Runner.RunHandle handle = runner.start(experiment, ParamValues.resolve(experiment.params(), Map.of(), true),
                true, ProgressListener.NONE);
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

        handle.cancel();
        RunRecord record = handle.awaitStopped();

        assertThat(record.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(record.result().claims()).allMatch(c -> c.verdict() instanceof Verdict.Skipped);
        assertThat(child.get().isAlive()).isFalse();
        worker.get().join(5_000);
        assertThat(worker.get().isAlive()).isFalse();
        assertThat(handle.isDone()).isTrue();
    }

    @Test
    void aClaimNeedingMoreCoresThanTheMachineHasIsSkipped() throws Exception {
        int tooMany = Runtime.getRuntime().availableProcessors() + 1;
        RunRecord record = run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            assertThat(ctx.requireCores(TestExperiment.FIRST, tooMany)).isFalse();
            assertThat(ctx.requireCores(TestExperiment.SECOND, 1)).isTrue();
            ctx.claim(TestExperiment.SECOND, Verdict.check(true, "e"));
        }));

        assertThat(record.result().claims().get(0).verdict())
                .isEqualTo(new Verdict.Skipped("needs " + tooMany + " cores; this machine has " + (tooMany - 1)));
    }

    @Test
    void aParallelClaimThatFailsWhileAnotherProcessBurnsACoreIsSkippedWithTheLoad() throws Exception {
        RunRecord record = run(new TestExperiment(Duration.ofSeconds(10), ctx -> {
            Process burner = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
            try {
                assertThat(ctx.requireCores(TestExperiment.FIRST, 1)).isTrue();
                Thread.sleep(600); // the window must see the burner use a core for a while
                ctx.claim(TestExperiment.FIRST, Verdict.atLeast("speed-up", 1.0, 1.5));
                // A claim not gated by requireCores fails as measured, busy machine or not.
                ctx.claim(TestExperiment.SECOND, Verdict.atLeast("speed-up", 1.0, 1.5));
            } finally {
                burner.destroyForcibly().waitFor();
            }
        }));

        Verdict gated = record.result().claims().get(0).verdict();
        assertThat(gated).isInstanceOf(Verdict.Skipped.class);
        assertThat(gated.detail()).contains("needs 1 idle cores, but other processes used")
                .contains("measured anyway: speed-up: 1.00× (needs ≥ 1.50×)");
        assertThat(record.result().claims().get(1).verdict()).isInstanceOf(Verdict.Fails.class);
    }

    @Test
    void aStoredRecordReadsBackWithItsVerdicts(@TempDir Path home) throws Exception {
        ResultStore store = new ResultStore(home);
        Runner storing = new Runner(Optional.of(store));
        TestExperiment experiment = new TestExperiment(Duration.ofSeconds(10), ctx -> {
            ctx.trace().span("lane", "work", System.nanoTime(), System.nanoTime() + 1_000);
            ctx.series(new Series("c", "s", "x", "y", List.of(new Series.Point(1, 2))));
            ctx.claim(TestExperiment.FIRST, Verdict.check(true, "measured 2"));
            ctx.claim(TestExperiment.SECOND, Verdict.skipped("needs CPython"));
        });
        RunRecord record = storing.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), false), false,
                ProgressListener.NONE);

        RunRecord read = store.latest("test-experiment").orElseThrow();

        assertThat(read).isEqualTo(record);
        assertThat(read.machine().cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(read.result().trace()).hasSize(2);
        assertThat(store.latest("never-run")).isEmpty();
    }

    @Test
    void aCancelledRunDoesNotReplaceTheStoredEvidence(@TempDir Path home) throws Exception {
        ResultStore store = new ResultStore(home);
        Runner storing = new Runner(Optional.of(store));
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean block = new AtomicBoolean(false);
        TestExperiment experiment = new TestExperiment(Duration.ofMinutes(5), ctx -> {
            if (block.get()) {
                started.countDown();
                Thread.sleep(600_000);
            }
            ctx.claim(TestExperiment.FIRST, Verdict.check(true, "measured"));
            ctx.claim(TestExperiment.SECOND, Verdict.check(true, "measured"));
        });
        RunRecord completed = storing.run(experiment, ParamValues.resolve(experiment.params(), Map.of(), true), true,
                ProgressListener.NONE);

        block.set(true);
        Runner.RunHandle handle = storing.start(experiment, ParamValues.resolve(experiment.params(), Map.of(), true),
                true, ProgressListener.NONE);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        handle.cancel();

        assertThat(handle.awaitStopped().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(store.latest("test-experiment")).contains(completed);
    }

    @Test
    void aNegativeOrNanMeasurementCannotMakeAThresholdHold() {
        assertThat(Verdict.atLeast("x", Double.NaN, 1)).isInstanceOf(Verdict.Fails.class);
        assertThat(Verdict.atMost("x", Double.NaN, 1)).isInstanceOf(Verdict.Fails.class);
        assertThatThrownBy(() -> new Measure.Timing(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}

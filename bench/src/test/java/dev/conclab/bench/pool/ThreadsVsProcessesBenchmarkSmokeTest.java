package dev.conclab.bench.pool;

import dev.conclab.bench.BenchMain;
import dev.conclab.bench.pool.ThreadsVsProcessesBenchmark.Score;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@link ThreadsVsProcessesBenchmark} with tiny settings: both runners compute the same results for each job, JMH
 * scores every job on every runner, the report prints the ratio, and no worker JVM outlives a trial. It checks that
 * the benchmark works, not how fast anything is.
 */
class ThreadsVsProcessesBenchmarkSmokeTest {

    @AfterEach
    void noWorkerLeftBehind() {
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
    }

    @Test
    void threadsAndWorkerJvmsComputeTheSameJob() throws Exception {
        List<Object> burnOnThreads = runOnce("burn", "threads");
        assertThat(burnOnThreads).hasSize(ThreadsVsProcessesBenchmark.TASKS)
                .containsOnly(PoolTasks.burn(ThreadsVsProcessesBenchmark.BURN_ROUNDS));
        assertThat(runOnce("burn", "processes")).isEqualTo(burnOnThreads);

        // Monte Carlo: each task's hits estimate π/4 of its points, whichever JVM drew them.
        double quarterCircle = ThreadsVsProcessesBenchmark.POINTS * Math.PI / 4;
        for (String runner : List.of("threads", "processes")) {
            assertThat(runOnce("math-random", runner)).hasSize(ThreadsVsProcessesBenchmark.TASKS)
                    .allSatisfy(hits -> assertThat(((Number) hits).doubleValue())
                            .isCloseTo(quarterCircle, within(quarterCircle * 0.01)));
        }
    }

    @Test
    void everyJobIsScoredOnBothRunnersAndTheReportPrintsTheRatio() throws Exception {
        var options = new OptionsBuilder().include(ThreadsVsProcessesBenchmark.class.getName())
                .param("job", "math-random").forks(0).warmupIterations(0).measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100)).verbosity(VerboseMode.SILENT);
        Map<String, Map<String, Score>> scores = ThreadsVsProcessesBenchmark.scores(
                new Runner(options.build()).run());
        assertThat(scores).containsOnlyKeys("math-random");
        assertThat(scores.get("math-random")).containsOnlyKeys("threads", "processes");
        assertThat(scores.get("math-random").values()).allSatisfy(s -> assertThat(s.millis()).isPositive());

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        ThreadsVsProcessesBenchmark.print(Map.of("burn", Map.of("threads", new Score(200, 1),
                "processes", new Score(100, 1))), BenchMain.machine(), new PrintStream(printed, true,
                StandardCharsets.UTF_8));
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("machine: ").contains("2.00×");
    }

    private static List<Object> runOnce(String job, String runner) throws Exception {
        var benchmark = new ThreadsVsProcessesBenchmark();
        benchmark.job = job;
        benchmark.runner = runner;
        benchmark.start();
        try {
            return List.copyOf(benchmark.runAll());
        } finally {
            benchmark.stop();
        }
    }
}

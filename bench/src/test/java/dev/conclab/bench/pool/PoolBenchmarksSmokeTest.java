package dev.conclab.bench.pool;

import dev.conclab.bench.BenchMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pool benchmarks run in this JVM with tiny settings, every runner returns the right results, the reports
 * print ratios, and no worker process outlives them. It checks that the benchmarks work, not how fast anything is.
 */
class PoolBenchmarksSmokeTest {

    @AfterEach
    void noWorkerLeftBehind() {
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
    }

    @Test
    void tinyTasksRunOnEveryRunnerAndTheReportPrintsRatiosToTheThreadPool() throws Exception {
        var tiny = new TinyTasksBenchmark();
        for (String runner : List.of("fork-join", "process-pool/1000")) {
            tiny.runner = runner;
            tiny.setUp();
            try {
                List<Object> results = List.copyOf(tiny.map());
                assertThat(results).hasSize(TinyTasksBenchmark.TASKS).startsWith(1L, 2L, 3L)
                        .endsWith((long) TinyTasksBenchmark.TASKS);
            } finally {
                tiny.tearDown();
            }
        }

        Map<String, PoolReport.Score> scores = PoolReport.tinyTasks(new Runner(tinyOptions(TinyTasksBenchmark.class)
                .build()).run());
        assertThat(scores).containsOnlyKeys("fork-join", "process-pool/1000", "process-pool/12500");
        assertThat(scores.values()).allSatisfy(s -> assertThat(s.mean()).isPositive());
        assertThat(print(out -> PoolReport.printTinyTasks(scores, BenchMain.machine(), out)))
                .contains("machine: ").contains("1.0×").contains("process-pool/12500");
    }

    @Test
    void cpuScalingRunsOnOneAndTwoWorkersOfEachRunner() throws Exception {
        var options = tinyOptions(CpuScalingBenchmark.class);
        Map<String, Map<Integer, PoolReport.Score>> scores = PoolReport.cpuScaling(new Runner(options.build()).run());
        assertThat(scores).containsOnlyKeys("fork-join", "process-pool");
        assertThat(scores.values()).allSatisfy(byWorkers -> assertThat(byWorkers).containsOnlyKeys(1, 2));
        assertThat(print(out -> PoolReport.printCpuScaling(scores, BenchMain.machine(), out)))
                .contains("speed-up").contains("process-pool");
    }

    @Test
    void workerStartupIsMeasuredForAnOptionSet() throws Exception {
        List<Duration> times = WorkerStartup.measure(WorkerStartup.OPTION_SETS.get("pool default"), 1);
        assertThat(times).hasSize(1);
        assertThat(times.getFirst()).isPositive();
        assertThat(print(out -> PoolReport.printStartup(Map.of("pool default", times), BenchMain.machine(), out)))
                .contains("1.00×").contains("-XX:+UseSerialGC");
    }

    @Test
    void cpuTasksComputeTheSameResultInAThreadAndInAWorker() {
        assertThat(PoolTasks.burn(1000)).isEqualTo(PoolTasks.burn(1000)).isNotEqualTo(PoolTasks.burn(1001));
    }

    private static org.openjdk.jmh.runner.options.ChainedOptionsBuilder tinyOptions(Class<?> benchmark) {
        return new OptionsBuilder().include(benchmark.getName()).forks(0).warmupIterations(0)
                .measurementIterations(1).measurementTime(TimeValue.milliseconds(100))
                .verbosity(VerboseMode.SILENT);
    }

    private static String print(java.util.function.Consumer<PrintStream> report) {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        report.accept(new PrintStream(printed, true, StandardCharsets.UTF_8));
        return printed.toString(StandardCharsets.UTF_8);
    }
}

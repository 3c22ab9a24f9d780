package dev.conclab.bench.loop;

import dev.conclab.bench.BenchMain;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The loop benchmark runs, in this JVM, with tiny settings: every loop runs every shape, and the report turns the
 * results into ratios. It checks that the benchmark was generated and works, not how fast anything is.
 */
class LoopThroughputBenchmarkSmokeTest {

    @Test
    void everyLoopRunsChainsBatchesAndTimersAndTheReportPrintsRatios() throws Exception {
        var options = new OptionsBuilder()
                .include(LoopThroughputBenchmark.class.getName())
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .verbosity(VerboseMode.SILENT)
                .build();
        Map<String, Map<String, LoopReport.Score>> rates = LoopReport.loopRates(new Runner(options).run());

        assertThat(rates).containsOnlyKeys("chain", "batch", "timers");
        assertThat(rates.values()).allSatisfy(byLoop -> {
            assertThat(byLoop).containsOnlyKeys("netty-nio", "netty-default", "toolkit", "toolkit-named");
            assertThat(byLoop.values()).allSatisfy(score -> assertThat(score.mean()).isPositive());
        });

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        LoopReport.printLoopRates(rates, BenchMain.machine(), new PrintStream(printed, true, StandardCharsets.UTF_8));
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("machine: ").contains("1.000×")
                .contains("toolkit").contains("timers");
    }

    @Test
    void anUnknownLoopIsRefusedByName() {
        assertThatThrownBy(() -> LoopThroughputBenchmark.BenchLoop.of("libuv"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("libuv");
    }
}

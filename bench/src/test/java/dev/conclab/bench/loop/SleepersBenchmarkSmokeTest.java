package dev.conclab.bench.loop;

import dev.conclab.bench.BenchMain;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The sleepers benchmark and the footprint measurement run, in this JVM, with tiny settings (100 sleepers of 1 ms),
 * and the report prints ratios to the sleep. It checks that they work, not how fast or how small anything is.
 */
class SleepersBenchmarkSmokeTest {

    @Test
    void everyRuntimeFinishesItsSleepersAndTheReportPrintsRatios() throws Exception {
        var options = new OptionsBuilder()
                .include(SleepersBenchmark.class.getName())
                .param("tasks", "100")
                .param("sleepMillis", "1")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(2)
                .verbosity(VerboseMode.SILENT)
                .build();
        LoopReport.Sleepers sleepers = LoopReport.sleepers(new Runner(options).run());

        assertThat(sleepers.tasks()).isEqualTo(100);
        assertThat(sleepers.millis()).containsOnlyKeys(SleepersBenchmark.RUNTIMES);
        // A round cannot end before its sleep: 1 ms at least.
        assertThat(sleepers.millis().values()).allSatisfy(score -> assertThat(score.mean()).isGreaterThanOrEqualTo(1));

        Map<String, Double> bytes = new LinkedHashMap<>();
        for (String runtime : SleepersBenchmark.RUNTIMES) {
            bytes.put(runtime, SleeperFootprint.bytesPerSleeper(runtime, 100, 1));
        }
        assertThat(bytes.values()).allSatisfy(value -> assertThat(value).isFinite());

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        LoopReport.printSleepers(sleepers, bytes, 1, BenchMain.machine(),
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("machine: ").contains("virtual-threads")
                .contains("ratio to ideal").contains(" B");
    }

    @Test
    void anUnknownRuntimeIsRefusedByName() {
        assertThatThrownBy(() -> SleeperFootprint.once("greenlets", 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("greenlets");
    }
}

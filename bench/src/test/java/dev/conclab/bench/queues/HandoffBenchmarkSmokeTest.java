package dev.conclab.bench.queues;

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

/**
 * The benchmark runs, in this JVM, with tiny settings: every queue hands items over, and the runner can turn the
 * results into ratios. It checks that the benchmark was generated and works, not how fast anything is.
 */
class HandoffBenchmarkSmokeTest {

    @Test
    void everyQueueHandsItemsOverAndTheRunnerPrintsRatios() throws Exception {
        var options = new OptionsBuilder()
                .include(HandoffBenchmark.class.getName())
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .verbosity(VerboseMode.SILENT)
                .build();
        Map<String, BenchMain.Rate> rates = BenchMain.handoffRates(new Runner(options).run());

        assertThat(rates).containsOnlyKeys("ArrayBlockingQueue", "LinkedBlockingQueue", "LinkedTransferQueue",
                "SynchronousQueue", "BoundedChannel");
        assertThat(rates.values()).allSatisfy(rate -> assertThat(rate.perSecond()).isPositive());

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        BenchMain.print(rates, new PrintStream(printed, true, StandardCharsets.UTF_8));
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("machine: ").contains("1.000×")
                .contains("BoundedChannel");
    }
}

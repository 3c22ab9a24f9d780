package dev.conclab.bench;

import dev.conclab.bench.queues.HandoffBenchmark;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Runs {@link HandoffBenchmark} and prints each queue's hand-offs per second as a ratio to
 * {@value HandoffBenchmark#BASELINE}, with the machine it ran on.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar dev.conclab.bench.BenchMain [--quick] [--quiet]}.
 * {@code --quick} runs 1 fork, 1 warm-up and 3 measured iterations of 0.5 s each (about 15 s in all: rough, for a
 * smoke run); without it the benchmark's own settings apply (2 forks × 3 warm-up + 5 measured iterations of 1 s,
 * about 80 s). {@code --quiet} hides JMH's progress output.
 */
public final class BenchMain {

    private BenchMain() {
    }

    /** One queue's hand-off rate: mean and JMH's 99.9% error, in operations per second. */
    public record Rate(double perSecond, double error) {
    }

    public static void main(String[] args) throws RunnerException {
        boolean quick = false;
        boolean quiet = false;
        for (String arg : args) {
            switch (arg) {
                case "--quick" -> quick = true;
                case "--quiet" -> quiet = true;
                default -> {
                    System.err.println("unknown argument: " + arg + " (accepted: --quick, --quiet)");
                    System.exit(2);
                }
            }
        }
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(HandoffBenchmark.class.getName())
                .verbosity(quiet ? VerboseMode.SILENT : VerboseMode.NORMAL);
        if (quick) {
            options.forks(1).warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
        }
        Map<String, Rate> rates = handoffRates(new Runner(options.build()).run());
        print(rates, System.out);
    }

    /** The {@code take} side's throughput of every queue in {@code results}, in the order JMH ran them. */
    public static Map<String, Rate> handoffRates(Collection<RunResult> results) {
        Map<String, Rate> rates = new LinkedHashMap<>();
        for (RunResult run : results) {
            String queue = run.getParams().getParam("queue");
            Result<?> take = run.getSecondaryResults().get("take");
            if (take == null) {
                throw new IllegalStateException("no 'take' result for " + queue + ": " + run.getSecondaryResults()
                        .keySet());
            }
            rates.put(queue, new Rate(take.getScore(), take.getScoreError()));
        }
        return rates;
    }

    /** Prints the rates as ratios to the baseline, under a line naming the machine. */
    public static void print(Map<String, Rate> rates, PrintStream out) {
        out.println();
        out.println("Producer → consumer hand-off, 1 producer + 1 consumer thread (HandoffBenchmark.take)");
        out.println("machine: " + machine());
        Rate baseline = rates.get(HandoffBenchmark.BASELINE);
        out.printf("%-22s %16s %12s %10s%n", "queue", "hand-offs/s", "± (99.9%)", "ratio");
        rates.forEach((queue, rate) -> out.printf("%-22s %,16.0f %,12.0f %9.3f×%n", queue, rate.perSecond(),
                rate.error(), baseline == null ? Double.NaN : rate.perSecond() / baseline.perSecond()));
    }

    /** Cores, CPU model, JDK and OS, on one line. */
    public static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores · " + cpuModel().orElse(
                System.getProperty("os.arch")) + " · JDK " + Runtime.version() + " (" + System.getProperty("java.vm.name")
                + ") · " + System.getProperty("os.name") + " " + System.getProperty("os.version");
    }

    private static Optional<String> cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).strip())
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}

package dev.conclab.bench.loop;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

import java.io.PrintStream;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns the results of {@link LoopThroughputBenchmark} and {@link SleepersBenchmark} into tables of ratios: callbacks
 * per second to Netty's NIO loop, and time to completion to the sleep itself, with bytes per pending sleeper.
 * Stateless; its methods are thread-safe as long as the maps passed in are not modified meanwhile.
 */
public final class LoopReport {

    private LoopReport() {
    }

    /** A JMH score: mean and 99.9% error, in the benchmark's unit. */
    public record Score(double mean, double error) {
        static Score of(Result<?> result) {
            return new Score(result.getScore(), result.getScoreError());
        }
    }

    /** What one sleepers run measured: its settings and each runtime's time to completion, in milliseconds. */
    public record Sleepers(int tasks, int sleepMillis, Map<String, Score> millis) {
    }

    /**
     * Callbacks per second by shape ({@code chain}, {@code batch}, {@code timers}) and then by loop, in the order
     * JMH ran them.
     */
    public static Map<String, Map<String, Score>> loopRates(Collection<RunResult> results) {
        Map<String, Map<String, Score>> rates = new LinkedHashMap<>();
        for (RunResult run : results) {
            String benchmark = run.getParams().getBenchmark();
            String shape = benchmark.substring(benchmark.lastIndexOf('.') + 1);
            rates.computeIfAbsent(shape, s -> new LinkedHashMap<>())
                    .put(run.getParams().getParam("loop"), Score.of(run.getPrimaryResult()));
        }
        return rates;
    }

    /** Each runtime's time to completion, with the settings of the run. */
    public static Sleepers sleepers(Collection<RunResult> results) {
        Map<String, Score> millis = new LinkedHashMap<>();
        int tasks = 0;
        int sleepMillis = 0;
        for (RunResult run : results) {
            tasks = Integer.parseInt(run.getParams().getParam("tasks"));
            sleepMillis = Integer.parseInt(run.getParams().getParam("sleepMillis"));
            millis.put(run.getParams().getParam("runtime"), Score.of(run.getPrimaryResult()));
        }
        return new Sleepers(tasks, sleepMillis, millis);
    }

    /** Prints callbacks per second and the ratio to {@value LoopThroughputBenchmark#BASELINE}, per shape. */
    public static void printLoopRates(Map<String, Map<String, Score>> rates, String machine, PrintStream out) {
        out.println();
        out.println("Event-loop throughput, callbacks (or timers) per second, one loop thread"
                + " (LoopThroughputBenchmark)");
        out.println("machine: " + machine);
        out.printf("%-8s %-14s %16s %12s %10s%n", "shape", "loop", "callbacks/s", "± (99.9%)", "ratio");
        rates.forEach((shape, byLoop) -> {
            Score baseline = byLoop.get(LoopThroughputBenchmark.BASELINE);
            byLoop.forEach((loop, score) -> out.printf("%-8s %-14s %,16.0f %,12.0f %9.3f×%n", shape, loop,
                    score.mean(), score.error(), baseline == null ? Double.NaN : score.mean() / baseline.mean()));
        });
    }

    /**
     * Prints each runtime's time to completion as a ratio to the sleep itself, and its bytes per pending sleeper
     * (from {@link SleeperFootprint}; a runtime missing from {@code bytesPerSleeper} shows "n/a").
     */
    public static void printSleepers(Sleepers sleepers, Map<String, Double> bytesPerSleeper, int footprintRounds,
                                     String machine, PrintStream out) {
        out.println();
        out.printf("%,d concurrent sleepers of %d ms each, time to completion vs the sleep itself"
                + " (SleepersBenchmark)%n", sleepers.tasks(), sleepers.sleepMillis());
        out.println("machine: " + machine);
        out.printf("%-20s %10s %12s %14s %14s%n", "runtime", "ms", "± (99.9%)", "ratio to ideal", "heap/sleeper");
        sleepers.millis().forEach((runtime, score) -> {
            Double bytes = bytesPerSleeper.get(runtime);
            out.printf("%-20s %10.2f %12.2f %13.2f× %14s%n", runtime, score.mean(), score.error(),
                    score.mean() / sleepers.sleepMillis(), bytes == null ? "n/a" : String.format("%,.0f B", bytes));
        });
        out.println("heap/sleeper: heap used with the sleepers parked minus before, after System.gc(), ÷ sleepers;"
                + " median of " + footprintRounds + " round(s) after " + SleeperFootprint.WARMUP_ROUNDS
                + " warm-up rounds (SleeperFootprint)");
    }
}

package dev.conclab.bench.pool;

import org.openjdk.jmh.results.RunResult;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns the pool benchmarks' results into ratios and prints them. Stateless. */
public final class PoolReport {

    private PoolReport() {
    }

    /** One score: JMH's mean and 99.9% error, in the benchmark's unit. */
    public record Score(double mean, double error) {
    }

    /** Nanoseconds per tiny task by runner, in the order JMH ran them. */
    public static Map<String, Score> tinyTasks(Collection<RunResult> results) {
        Map<String, Score> scores = new LinkedHashMap<>();
        for (RunResult run : results) {
            scores.put(run.getParams().getParam("runner"), score(run));
        }
        return scores;
    }

    /** Milliseconds for all CPU tasks, by runner then by worker count. */
    public static Map<String, Map<Integer, Score>> cpuScaling(Collection<RunResult> results) {
        Map<String, Map<Integer, Score>> scores = new LinkedHashMap<>();
        for (RunResult run : results) {
            scores.computeIfAbsent(run.getParams().getParam("runner"), r -> new LinkedHashMap<>())
                    .put(Integer.parseInt(run.getParams().getParam("workers")), score(run));
        }
        return scores;
    }

    private static Score score(RunResult run) {
        return new Score(run.getPrimaryResult().getScore(), run.getPrimaryResult().getScoreError());
    }

    /** Per-task cost of each runner, and its ratio to {@link TinyTasksBenchmark#BASELINE}. */
    public static void printTinyTasks(Map<String, Score> scores, String machine, PrintStream out) {
        out.println();
        out.printf("Per-task cost: %,d tasks that add 1, on %d workers (TinyTasksBenchmark.map)%n",
                TinyTasksBenchmark.TASKS, TinyTasksBenchmark.WORKERS);
        out.println("machine: " + machine);
        Score baseline = scores.get(TinyTasksBenchmark.BASELINE);
        out.printf("%-22s %14s %12s %12s%n", "runner", "ns per task", "± (99.9%)", "× baseline");
        scores.forEach((runner, s) -> out.printf("%-22s %,14.1f %,12.1f %11.1f×%n", runner, s.mean(), s.error(),
                baseline == null ? Double.NaN : s.mean() / baseline.mean()));
    }

    /** Time for the CPU tasks on 1 and 2 workers, and each runner's speed-up from 1 to 2. */
    public static void printCpuScaling(Map<String, Map<Integer, Score>> scores, String machine, PrintStream out) {
        out.println();
        out.printf("CPU-bound scaling: %d tasks of %,d xorshift rounds (CpuScalingBenchmark.burnAll)%n",
                CpuScalingBenchmark.TASKS, CpuScalingBenchmark.ROUNDS);
        out.println("machine: " + machine);
        out.printf("%-14s %14s %14s %12s%n", "runner", "1 worker, ms", "2 workers, ms", "speed-up");
        scores.forEach((runner, byWorkers) -> {
            Score one = byWorkers.get(1);
            Score two = byWorkers.get(2);
            out.printf("%-14s %14s %14s %11s%n", runner, format(one), format(two),
                    one == null || two == null ? "—" : String.format("%.2f×", one.mean() / two.mean()));
        });
    }

    private static String format(Score s) {
        return s == null ? "—" : String.format("%,.1f ± %,.1f", s.mean(), s.error());
    }

    /** Median worker start-up of each option set, and its ratio to the first (the pool's default). */
    public static void printStartup(Map<String, List<Duration>> times, String machine, PrintStream out) {
        out.println();
        out.println("Worker start-up: launch to READY frame, one worker at a time (WorkerStartup)");
        out.println("machine: " + machine);
        out.printf("%-26s %8s %10s %10s %10s  %s%n", "options", "rounds", "min, ms", "median, ms", "× default",
                "JVM options");
        Duration baseline = times.isEmpty() ? null : WorkerStartup.median(times.values().iterator().next());
        times.forEach((name, list) -> {
            Duration median = WorkerStartup.median(list);
            double min = list.stream().mapToLong(Duration::toNanos).min().orElseThrow() / 1e6;
            out.printf("%-26s %8d %10.1f %10.1f %9.2f×  %s%n", name, list.size(), min, median.toNanos() / 1e6,
                    baseline == null ? Double.NaN : (double) median.toNanos() / baseline.toNanos(),
                    String.join(" ", WorkerStartup.OPTION_SETS.getOrDefault(name, List.of())));
        });
    }
}

package dev.conclab.bench.pool;

import dev.conclab.bench.ratelimit.SlowestCall;
import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Threads vs processes the right way, for the card "How do you benchmark multithreaded vs multiprocessing code?":
 * the same CPU job ({@value #TASKS} tasks) on an {@link ExecutorService} of one platform thread per core vs a
 * {@link ProcessPool} of one warm worker JVM per core. Both are started once per trial ({@code @Setup(Level.Trial)})
 * and stopped after it, so their start-up stays out of the score; JMH warms up the JIT in every JVM before it
 * measures, forks fresh JVMs and reports a mean with its 99.9% error.
 *
 * <p><b>BASELINE: {@code threads}</b>. Variant: {@code processes} ({@code map} with chunks of one task). Two jobs:
 * <ul>
 *   <li>{@code burn}: {@link PoolTasks#burn} (xorshift rounds, nothing shared): threads and worker JVMs both use
 *       every core; the workers also pay a round trip per task, so threads should be as fast or a little faster.</li>
 *   <li>{@code math-random}: Monte Carlo points drawn from {@link Math#random()}, one generator per JVM: threads
 *       contend on its seed, each worker JVM has its own, so the worker JVMs should win (lab experiment
 *       {@code naive-timing} shows a single cold timing ranking the two the other way).</li>
 * </ul>
 * The report divides each job's threads time by its processes time (above 1: the worker JVMs are faster).
 * Not thread-safe as a report; JMH drives the benchmark itself.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ThreadsVsProcessesBenchmark {

    static final int TASKS = 8;
    static final long BURN_ROUNDS = 20_000_000;
    static final long POINTS = 1_000_000;
    static final String BASELINE = "threads";

    private static final TaskRef BURN = TaskRef.of(PoolTasks.class, "burn");
    private static final TaskRef SHARED_RANDOM = TaskRef.of(ThreadsVsProcessesBenchmark.class, "hitsSharedRandom");

    @Param({"burn", "math-random"})
    public String job;

    @Param({"threads", "processes"})
    public String runner;

    private final int workers = Runtime.getRuntime().availableProcessors();
    private List<Long> sizes;
    private ExecutorService threads;
    private ProcessPool pool;

    @Setup(Level.Trial)
    public void start() {
        sizes = switch (job) {
            case "burn" -> Collections.nCopies(TASKS, BURN_ROUNDS);
            case "math-random" -> Collections.nCopies(TASKS, POINTS);
            default -> throw new IllegalArgumentException("unknown job: " + job + " (known: burn, math-random)");
        };
        switch (runner) {
            case "threads" -> threads = Executors.newFixedThreadPool(workers);
            case "processes" -> pool = ProcessPool.of(workers);
            default -> throw new IllegalArgumentException("unknown runner: " + runner
                    + " (known: threads, processes)");
        }
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (threads != null) {
            threads.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    @Benchmark
    public List<?> runAll() throws InterruptedException, ExecutionException {
        TaskRef task = job.equals("burn") ? BURN : SHARED_RANDOM;
        if (pool != null) {
            return pool.map(task, sizes, 1);
        }
        List<Callable<Long>> calls = new ArrayList<>(sizes.size());
        for (long size : sizes) {
            calls.add(job.equals("burn") ? () -> PoolTasks.burn(size) : () -> hitsSharedRandom(size));
        }
        List<Long> results = new ArrayList<>(calls.size());
        for (Future<Long> f : threads.invokeAll(calls)) {
            results.add(f.get());
        }
        return results;
    }

    /** Points of {@code points} drawn from {@link Math#random()} that fall in the unit quarter circle. */
    public static long hitsSharedRandom(long points) {
        long hits = 0;
        for (long i = 0; i < points; i++) {
            double x = Math.random();
            double y = Math.random();
            if (x * x + y * y <= 1) {
                hits++;
            }
        }
        return hits;
    }

    /** One score: the mean time per run of all tasks and JMH's 99.9% error, in milliseconds. */
    public record Score(double millis, double error) {
    }

    /** Scores by job, then by runner, in the order JMH ran them. */
    public static Map<String, Map<String, Score>> scores(Collection<RunResult> results) {
        Map<String, Map<String, Score>> scores = new LinkedHashMap<>();
        for (RunResult run : results) {
            Result<?> primary = run.getPrimaryResult();
            scores.computeIfAbsent(run.getParams().getParam("job"), j -> new LinkedHashMap<>())
                    .put(run.getParams().getParam("runner"), new Score(primary.getScore(), primary.getScoreError()));
        }
        return scores;
    }

    /**
     * Runs the benchmark (with {@code quick}: 1 fork, 1 warm-up and 3 measured iterations of 1 s) and prints each
     * job's threads and processes times and their ratio, under a line naming {@code machine}.
     */
    public static void runAndPrint(boolean quick, VerboseMode verbosity, String machine, PrintStream out)
            throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder().include(ThreadsVsProcessesBenchmark.class.getName())
                .verbosity(verbosity);
        if (quick) {
            options.forks(1).warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(3).measurementTime(TimeValue.seconds(1));
        }
        print(scores(new Runner(options.build()).run()), machine, out);
    }

    /** Prints each job's threads and processes times and their ratio, under a line naming {@code machine}. */
    static void print(Map<String, Map<String, Score>> scores, String machine, PrintStream out) {
        out.println();
        out.printf("Threads vs worker JVMs, %d tasks on one thread or worker JVM per core"
                + " (ThreadsVsProcessesBenchmark.runAll)%n", TASKS);
        out.println("machine: " + machine + " · load average " + SlowestCall.loadAverage());
        out.printf("%-12s %18s %18s %22s%n", "job", "threads, ms", "worker JVMs, ms", "threads / worker JVMs");
        scores.forEach((job, byRunner) -> {
            Score base = byRunner.get(BASELINE);
            Score processes = byRunner.get("processes");
            out.printf("%-12s %18s %18s %21s%n", job, format(base), format(processes),
                    base == null || processes == null ? "—"
                            : String.format("%.2f×", base.millis() / processes.millis()));
        });
    }

    private static String format(Score s) {
        return s == null ? "—" : String.format("%,.1f ± %,.1f", s.millis(), s.error());
    }
}

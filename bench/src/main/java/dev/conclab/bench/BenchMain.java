package dev.conclab.bench;

import dev.conclab.bench.loop.LoopReport;
import dev.conclab.bench.loop.LoopThroughputBenchmark;
import dev.conclab.bench.loop.SleeperFootprint;
import dev.conclab.bench.loop.SleepersBenchmark;
import dev.conclab.bench.pool.CpuScalingBenchmark;
import dev.conclab.bench.pool.PoolReport;
import dev.conclab.bench.pool.TinyTasksBenchmark;
import dev.conclab.bench.pool.WorkerStartup;
import dev.conclab.bench.queues.HandoffBenchmark;
import dev.conclab.bench.ratelimit.AdmissionAccuracy;
import dev.conclab.bench.ratelimit.RateLimitBenchmark;
import dev.conclab.bench.ratelimit.RateLimitReport;
import dev.conclab.bench.ratelimit.SlowestCall;
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
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/**
 * Runs the benchmarks and prints each one's results as ratios to its baseline, with the machine it ran on:
 * <ul>
 *   <li>{@code handoff}: {@link HandoffBenchmark}, hand-offs per second as a ratio to
 *       {@value HandoffBenchmark#BASELINE};</li>
 *   <li>{@code loop}: {@link LoopThroughputBenchmark}, callbacks and timers per second as a ratio to Netty's NIO
 *       event loop;</li>
 *   <li>{@code sleepers}: {@link SleepersBenchmark}, time to complete 10,000 concurrent sleeps as a ratio to the
 *       sleep itself, and heap per pending sleeper ({@link SleeperFootprint}, measured in this JVM after the JMH
 *       runs);</li>
 *   <li>{@code pool}: the toolkit's process pool beside a {@code ForkJoinPool} of threads: the per-task cost of
 *       {@link TinyTasksBenchmark 100,000 tiny tasks} with chunking as a ratio to the thread pool, the
 *       {@link CpuScalingBenchmark speed-up of CPU-bound work} from 1 to 2 workers next to the threads' own, and
 *       {@link WorkerStartup worker start-up} with the pool's JVM options and others;</li>
 *   <li>{@code ratelimit}: {@link RateLimitBenchmark}, {@code tryAcquire} throughput of one shared limiter on the
 *       admitted and rejected paths, 1 and 2 threads, as a ratio to the fastest of Bucket4j, Guava and
 *       Resilience4j; then {@link SlowestCall}, the tail of single calls under 2-thread contention beside Bucket4j;
 *       then {@link AdmissionAccuracy} over a real-time run of {@code --accuracy-seconds} (30 by
 *       default, 3 with {@code --quick}).</li>
 *   <li>{@code crawl}: {@link dev.conclab.bench.crawl.CrawlBench}, the crawler against its local test site: the site
 *       alone under wrk, a 10,000-page crawl at 50 ms latency against the ideal with the crawler's CPU per page, and
 *       zero-latency pages per second for the three fetch models, each with the load average.</li>
 *   <li>{@code chat}: {@link dev.conclab.bench.chat.ChatBench}, each chat model in a child JVM holding 10,000
 *       WebSocket connections from this one: heap and RSS per idle connection, then the highest broadcast rate in
 *       rooms of 100 with p99 delivery ≤ 50 ms, each with the load average.</li>
 *   <li>{@code jobs}: {@link dev.conclab.bench.jobs.JobsBench}, the task queue: no-op tasks through 2 workers on
 *       SQLite and on a private redis-server (no persistence, then {@code appendfsync everysec}) as a ratio to the
 *       broker alone, submit→start latency percentiles saturated and at half that rate, and a 1,000-task DAG's
 *       wall time as a ratio to its critical path, each with the load average.</li>
 *   <li>{@code pipeline}: {@link dev.conclab.bench.pipeline.ChannelHandoffBenchmark}, the pipeline engine's
 *       batching channel against {@code ArrayBlockingQueue}, 1 producer and 1 consumer, as a ratio; then
 *       {@link dev.conclab.bench.pipeline.EngineThroughput}, items/s of the engine's source → map → sink against the
 *       same three threads on two {@code ArrayBlockingQueue}s, at the default capacity and at a larger one, best of
 *       7 runs (3 with {@code --quick}), as a ratio, with the load average.</li>
 *   <li>{@code etl}: {@link dev.conclab.bench.etl.EtlBench}, the ETL job over a 1 GB CSV set in the page cache
 *       (256 MB with {@code --quick}) with 1 and 2 threads beside a newline count of the same files, MB/s, records/s
 *       and the ratio to that ceiling, against the 1 GB/s (about 30 s, plus about 10 s to generate the set
 *       once).</li>
 *   <li>{@code threads-vs-processes}: {@link dev.conclab.bench.pool.ThreadsVsProcessesBenchmark}, the right way to
 *       compare threads with processes: 8 CPU-bound tasks on a pool of one platform thread per core and on a
 *       {@code ProcessPool} of one warm worker JVM per core, started outside the measurement, with JMH's warm-up,
 *       iterations and forks; once with a per-thread generator (threads ≈ worker JVMs) and once with
 *       {@code Math.random} (one shared seed: threads contend, worker JVMs do not), as a ratio.</li>
 * </ul>
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar dev.conclab.bench.BenchMain [handoff] [loop] [sleepers]
 * [pool] [ratelimit] [crawl] [chat] [jobs] [pipeline] [etl] [threads-vs-processes] [--quick] [--quiet]
 * [--accuracy-seconds=N]}; no suite named runs them
 * all, in that order (jobs: about 3 minutes, 70 s with {@code --quick}; the rest as follows)
 * (about 14 minutes with the benchmarks' own settings: handoff 80 s, loop 3 shapes × 4 loops × 2 forks × 8 s ≈
 * 200 s, sleepers about 30 s, pool about 3 minutes, ratelimit about 5 minutes on a busy machine). {@code --quick}
 * runs 1 fork and a few short iterations of each (a few minutes in all: rough, for a smoke run). {@code --quiet}
 * hides JMH's progress output.
 */
public final class BenchMain {

    /** The suites, in the order they run when none is named. */
    static final List<String> SUITES = List.of("handoff", "loop", "sleepers", "pool", "ratelimit", "crawl", "chat",
            "jobs", "pipeline", "etl", "threads-vs-processes");

    private static final int FOOTPRINT_SLEEPERS = 10_000;
    private static final double ACCURACY_RATE = 10_000;
    private static final int ACCURACY_BURST = 10_000; // one second of the rate: see AdmissionAccuracy
    /** {@code --accuracy-seconds=N}: the length of the rate limiter's real-time accuracy run (0: the default). */
    private static int accuracySeconds;

    private BenchMain() {
    }

    /** One queue's hand-off rate: mean and JMH's 99.9% error, in operations per second. */
    public record Rate(double perSecond, double error) {
    }

    public static void main(String[] args) throws RunnerException, InterruptedException, ExecutionException {
        boolean quick = false;
        boolean quiet = false;
        Set<String> suites = new LinkedHashSet<>();
        for (String arg : args) {
            switch (arg) {
                case "--quick" -> quick = true;
                case "--quiet" -> quiet = true;
                case String a when a.startsWith("--accuracy-seconds=") ->
                        accuracySeconds = Integer.parseInt(a.substring("--accuracy-seconds=".length()));
                case String suite when SUITES.contains(suite) -> suites.add(suite);
                default -> {
                    System.err.println("unknown argument: " + arg + " (accepted: " + String.join(", ", SUITES)
                            + ", --quick, --quiet, --accuracy-seconds=N)");
                    System.exit(2);
                }
            }
        }
        if (suites.isEmpty()) {
            suites.addAll(SUITES);
        }
        VerboseMode verbosity = quiet ? VerboseMode.SILENT : VerboseMode.NORMAL;
        for (String suite : SUITES) {
            if (suites.contains(suite)) {
                run(suite, quick, verbosity, System.out);
            }
        }
    }

    private static void run(String suite, boolean quick, VerboseMode verbosity, PrintStream out)
            throws RunnerException, InterruptedException, ExecutionException {
        switch (suite) {
            case "handoff" -> {
                ChainedOptionsBuilder options = options(HandoffBenchmark.class, verbosity);
                if (quick) {
                    quickThroughput(options);
                }
                print(handoffRates(new Runner(options.build()).run()), out);
            }
            case "loop" -> {
                ChainedOptionsBuilder options = options(LoopThroughputBenchmark.class, verbosity);
                if (quick) {
                    quickThroughput(options);
                }
                LoopReport.printLoopRates(LoopReport.loopRates(new Runner(options.build()).run()), machine(), out);
            }
            case "sleepers" -> {
                ChainedOptionsBuilder options = options(SleepersBenchmark.class, verbosity);
                if (quick) {
                    options.forks(1).warmupIterations(3).measurementIterations(5);
                }
                LoopReport.Sleepers sleepers = LoopReport.sleepers(new Runner(options.build()).run());
                int rounds = quick ? 1 : 5;
                Map<String, Double> bytes = new LinkedHashMap<>();
                for (String runtime : SleepersBenchmark.RUNTIMES) {
                    bytes.put(runtime, SleeperFootprint.bytesPerSleeper(runtime, FOOTPRINT_SLEEPERS, rounds));
                }
                LoopReport.printSleepers(sleepers, bytes, rounds, machine(), out);
            }
            case "pool" -> {
                ChainedOptionsBuilder tiny = options(TinyTasksBenchmark.class, verbosity);
                ChainedOptionsBuilder cpu = options(CpuScalingBenchmark.class, verbosity);
                if (quick) {
                    quickThroughput(tiny);
                    cpu.warmupIterations(1).measurementIterations(3);
                }
                PoolReport.printTinyTasks(PoolReport.tinyTasks(new Runner(tiny.build()).run()), machine(), out);
                PoolReport.printCpuScaling(PoolReport.cpuScaling(new Runner(cpu.build()).run()), machine(), out);
                int rounds = quick ? 2 : 7;
                Map<String, List<Duration>> startup = new LinkedHashMap<>();
                for (var set : WorkerStartup.OPTION_SETS.entrySet()) {
                    startup.put(set.getKey(), WorkerStartup.measure(set.getValue(), rounds));
                }
                PoolReport.printStartup(startup, machine(), out);
            }
            case "ratelimit" -> {
                ChainedOptionsBuilder options = options(RateLimitBenchmark.class, verbosity);
                if (quick) {
                    quickThroughput(options);
                }
                RateLimitReport.print(RateLimitReport.rates(new Runner(options.build()).run()), machine(), out);
                out.println("load average after the JMH runs: " + SlowestCall.loadAverage());
                int calls = quick ? 200_000 : 2_000_000;
                int rounds = quick ? 2 : 7;
                SlowestCall.print(SlowestCall.measure(calls, rounds), calls, rounds, machine(), out);
                int seconds = accuracySeconds > 0 ? accuracySeconds : quick ? 3 : 30;
                var outcome = AdmissionAccuracy.measure(ACCURACY_RATE, ACCURACY_BURST, Duration.ofSeconds(seconds), 2);
                AdmissionAccuracy.print(outcome, ACCURACY_RATE, ACCURACY_BURST, 2, machine(), out);
                out.println("load average after the accuracy run: " + SlowestCall.loadAverage());
            }
            case "crawl" -> dev.conclab.bench.crawl.CrawlBench.runAndPrint(quick, machine(), out);
            case "chat" -> dev.conclab.bench.chat.ChatBench.runAndPrint(quick, machine(), out);
            case "jobs" -> dev.conclab.bench.jobs.JobsBench.runAndPrint(quick, machine(), out);
            case "pipeline" -> {
                ChainedOptionsBuilder options = options(
                        dev.conclab.bench.pipeline.ChannelHandoffBenchmark.class, verbosity);
                if (quick) {
                    quickThroughput(options);
                }
                Map<String, Rate> rates = handoffRates(new Runner(options.build()).run());
                out.println();
                out.println("Pipeline channel item hand-off, 1 producer + 1 consumer (ChannelHandoffBenchmark.take),"
                        + " the issue asks for >= 3x ArrayBlockingQueue");
                out.println("machine: " + machine() + " · load average " + SlowestCall.loadAverage());
                Rate base = rates.get(dev.conclab.bench.pipeline.ChannelHandoffBenchmark.BASELINE);
                out.printf("%-22s %16s %12s %10s%n", "channel", "items/s", "± (99.9%)", "ratio");
                rates.forEach((q, r) -> out.printf("%-22s %,16.0f %,12.0f %9.3f×%n", q, r.perSecond(), r.error(),
                        base == null ? Double.NaN : r.perSecond() / base.perSecond()));
                printEngine(quick, out);
            }
            case "etl" -> dev.conclab.bench.etl.EtlBench.runAndPrint(quick, machine(), out);
            case "threads-vs-processes" -> dev.conclab.bench.pool.ThreadsVsProcessesBenchmark.runAndPrint(quick,
                    verbosity, machine(), out);
            default -> throw new IllegalArgumentException("unknown suite: " + suite + " (known: " + SUITES + ")");
        }
    }

    /** The engine itself: source → map → sink against the same chain on two ArrayBlockingQueues. */
    private static void printEngine(boolean quick, PrintStream out) throws InterruptedException {
        int items = quick ? 1_000_000 : 4_000_000;
        int rounds = quick ? 3 : 7;
        out.println();
        out.println("Pipeline engine, source -> map(identity) -> sink, three one-worker stages, against the same"
                + " three threads on two ArrayBlockingQueues (EngineThroughput); best of " + rounds + " runs of "
                + String.format("%,d", items) + " items, the issue asks for >= 3x");
        out.println("machine: " + machine() + " · load average " + SlowestCall.loadAverage());
        out.printf("%-36s %-24s %16s %10s   %s%n", "shape", "chain", "items/s (best)", "ratio", "all runs (M/s)");
        for (var shape : dev.conclab.bench.pipeline.EngineThroughput.SHAPES) {
            var rates = dev.conclab.bench.pipeline.EngineThroughput.measure(shape, items, rounds);
            double base = rates.get(dev.conclab.bench.pipeline.EngineThroughput.BASELINE).best();
            rates.forEach((chain, r) -> out.printf("%-36s %-24s %,16.0f %9.2f×   %s%n", shape, chain, r.best(),
                    r.best() / base, r.runs().stream().map(x -> String.format("%.1f", x / 1e6)).toList()));
        }
        out.println("load average after: " + SlowestCall.loadAverage());
    }

    private static ChainedOptionsBuilder options(Class<?> benchmark, VerboseMode verbosity) {
        return new OptionsBuilder().include(benchmark.getName()).verbosity(verbosity);
    }

    /** 1 fork, 1 warm-up and 3 measured iterations of 0.5 s each. */
    private static void quickThroughput(ChainedOptionsBuilder options) {
        options.forks(1).warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
                .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
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

package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.DoubleAccumulator;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Two timing traps that make threads look faster than they are, forced so that they catch the measurement on every
 * run, each beside the measurement that tells the truth; in Java and in CPython.
 *
 * <ol>
 *   <li><b>Broken: timing only the submit.</b> {@code executor.submit} returns as soon as the task is queued. The
 *       tasks here wait on a latch that opens only after the submit loop's clock has stopped, so that timing
 *       cannot contain any of the work, on every run. <b>Correct:</b> stop the clock after every {@code get()}.</li>
 *   <li><b>Broken: a warm cache.</b> The sequential version runs first and fills a memo cache; the threaded version,
 *       timed second on the same cache, only looks results up (the table counts its computations: none), and
 *       "beats" the sequential one by more than the cores could ever give. <b>Correct:</b> a fresh cache for every
 *       run, variants timed in turns, and the CPU time of the computations beside the wall time: it shows the
 *       threads redid all the work. (The wall-time speed-up is in the table without a claim: on a busy machine the
 *       scheduler can give a variant with more threads a larger share of the cores.)</li>
 * </ol>
 * The CPython probe {@code appears_faster.py} does the same with {@code ThreadPoolExecutor.submit} and a
 * {@code threading.Event}, and with {@code functools.lru_cache} (cleared with {@code cache_clear()}).
 *
 * <p>Wall time against CPU time, the third trap, needs two cores and is in {@code appears-faster}.
 *
 * <p>Run: {@code ./conclab run timing-traps}. Every claim holds on any machine, one core included.
 */
public final class AppearsFasterTraps implements Experiment {

    static final ClaimSpec SUBMIT_ONLY = new ClaimSpec("submit-only",
            "Timing only the submit loop reports less than 10% of the time until every get() returns.");
    static final ClaimSpec WARM_CACHE_LIES = new ClaimSpec("warm-cache-lies",
            "Timed after the sequential run on the same warm cache, threads look faster than the core count"
                    + " allows.");
    static final ClaimSpec FRESH_CACHE_HONEST = new ClaimSpec("fresh-cache-honest",
            "With a fresh cache for every run, the threads compute every key and spend at least 0.5× the CPU time"
                    + " of the sequential run.");
    static final ClaimSpec PY_SUBMIT_ONLY = new ClaimSpec("py-submit-only",
            "In CPython, timing only the executor.submit loop reports less than 10% of the time until every"
                    + " result() returns.");
    static final ClaimSpec PY_WARM_CACHE_LIES = new ClaimSpec("py-warm-cache-lies",
            "In CPython, threads timed second on an lru_cache the sequential run warmed look faster than the core"
                    + " count allows.");
    static final ClaimSpec PY_FRESH_CACHE_HONEST = new ClaimSpec("py-fresh-cache-honest",
            "In CPython, with the lru_cache cleared before every run, the threads compute every key and spend at"
                    + " least 0.5× the process CPU time of one thread.");

    /**
     * The least CPU time, as a share of the sequential run's, that shows the threads redid the work. On a warm cache
     * they spend next to none; on an honest run about 1×, give or take what a busy machine adds to either run (a
     * quick run under a load of 12 on 2 cores measured 0.75×), so the bar sits halfway.
     */
    static final double HONEST_CPU_SHARE = 0.5;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Override
    public String id() {
        return "timing-traps";
    }

    @Override
    public String title() {
        return "Timing traps, forced: submit-only timing and a warm cache";
    }

    @Override
    public String description() {
        return "Times only the submit loop, and times threads on a cache the sequential run warmed, in Java and in"
                + " CPython, each beside the correct measurement (until every result; a fresh cache per run, with the"
                + " CPU time of the work).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "tasks submitted and keys computed", 8, 10_000, 200, 100),
                new Param.IntParam("cpu-ms", "CPU work of all tasks together, in ms of one thread", 20, 60_000,
                        600, 150),
                new Param.IntParam("py-work", "CPython burn iterations per part, in thousands", 50, 100_000, 3_000,
                        600));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SUBMIT_ONLY, WARM_CACHE_LIES, FRESH_CACHE_HONEST, PY_SUBMIT_ONLY, PY_WARM_CACHE_LIES,
                PY_FRESH_CACHE_HONEST);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int tasks = ctx.intParam("tasks");
        int cores = ctx.cores();
        long rounds = Math.max(1, CpuWork.roundsFor(ctx.intParam("cpu-ms")) / tasks);

        ctx.progress(0.1, "submit-only vs until get()");
        submitOnly(ctx, tasks, cores, rounds);
        ctx.progress(0.4, "a warm cache vs a fresh one");
        warmCache(ctx, tasks, cores, rounds);
        ctx.progress(0.7, "CPython: the same traps");
        runProbe(ctx, tasks, cores);
        ctx.progress(1, "done");
    }

    private static void submitOnly(RunContext ctx, int tasks, int cores, long rounds) throws Exception {
        double bestSubmit = Double.MAX_VALUE;
        double bestUntilGet = Double.MAX_VALUE;
        Table.Builder table = Table.builder("Timing the submit loop vs timing until every get() (" + tasks
                + " tasks on " + cores + " threads)", "run", "submit only ms", "until get() ms", "share");
        try (ThreadPoolExecutor pool = (ThreadPoolExecutor) Executors.newFixedThreadPool(cores)) {
            pool.prestartAllCoreThreads(); // so that submit only queues: thread start-up is not what this times
            submitThenGet(pool, tasks, rounds); // untimed warm-up: class loading and the JIT are not what this times
            for (int run = 1; run <= ctx.repeats(); run++) {
                SubmitTiming t = submitThenGet(pool, tasks, rounds);
                table.row(run, t.submitOnlySeconds() * 1e3, t.untilGetSeconds() * 1e3, t.share());
                bestSubmit = Math.min(bestSubmit, t.submitOnlySeconds());
                bestUntilGet = Math.min(bestUntilGet, t.untilGetSeconds());
            }
        }
        ctx.table(table.build());
        double share = bestSubmit / bestUntilGet; // best of each: a descheduled submit loop is the machine, not the trap
        ctx.claim(SUBMIT_ONLY, Verdict.check(share < 0.1, String.format(
                "the best submit-only timing was %.2f%% of the best time until every get() (needs < 10%%)",
                share * 100)));
    }

    private record SubmitTiming(double submitOnlySeconds, double untilGetSeconds) {
        double share() {
            return submitOnlySeconds / untilGetSeconds;
        }
    }

    /**
     * Submits tasks that cannot start their work before the submit loop's clock has stopped (they wait on a latch
     * opened just after), then waits for every result.
     */
    private static SubmitTiming submitThenGet(ExecutorService pool, int tasks, long rounds) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Long>> futures = new ArrayList<>(tasks);
        long start = System.nanoTime();
        for (int i = 0; i < tasks; i++) {
            futures.add(pool.submit(() -> {
                go.await();
                return CpuWork.burn(rounds);
            }));
        }
        long submitted = System.nanoTime();
        go.countDown();
        for (Future<Long> future : futures) {
            future.get();
        }
        long done = System.nanoTime();
        return new SubmitTiming((submitted - start) / 1e9, (done - start) / 1e9);
    }

    private static void warmCache(RunContext ctx, int tasks, int cores, long rounds) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(cores)) {
            // broken: the threads run second, on the cache the sequential run has just warmed; repeated so that one
            // slow spell of the machine does not decide the ratio (best of each; the most keys and CPU of any run)
            double naiveSequential = Double.MAX_VALUE;
            double naiveThreaded = Double.MAX_VALUE;
            long naiveMisses = 0;
            double naiveThreadsCpu = 0;
            for (int run = 0; run < ctx.repeats(); run++) {
                MemoCache shared = new MemoCache(rounds);
                long start = System.nanoTime();
                shared.computeSequentially(tasks);
                naiveSequential = Math.min(naiveSequential, (System.nanoTime() - start) / 1e9);
                long missesBefore = shared.computations();
                long cpuBefore = shared.cpuNanos();
                start = System.nanoTime();
                shared.computeOnPool(pool, tasks);
                naiveThreaded = Math.min(naiveThreaded, (System.nanoTime() - start) / 1e9);
                naiveMisses = Math.max(naiveMisses, shared.computations() - missesBefore);
                naiveThreadsCpu = Math.max(naiveThreadsCpu, (shared.cpuNanos() - cpuBefore) / 1e9);
            }

            // CPU time, unlike wall time, does not depend on how much of the machine the scheduler gave each variant
            DoubleAccumulator sequentialCpu = new DoubleAccumulator(Math::min, Double.MAX_VALUE);
            DoubleAccumulator threadsCpu = new DoubleAccumulator(Math::min, Double.MAX_VALUE);
            LongAccumulator threadsMisses = new LongAccumulator(Math::min, Long.MAX_VALUE);
            List<Timing> fresh = Measure.bestOfEach(ctx.repeats(), ctx, List.of(
                    () -> {
                        MemoCache cache = new MemoCache(rounds);
                        cache.computeSequentially(tasks);
                        sequentialCpu.accumulate(cache.cpuNanos() / 1e9);
                    },
                    () -> {
                        MemoCache cache = new MemoCache(rounds);
                        cache.computeOnPool(pool, tasks);
                        threadsCpu.accumulate(cache.cpuNanos() / 1e9);
                        threadsMisses.accumulate(cache.computations());
                    }));
            double naiveSpeedup = naiveSequential / naiveThreaded;
            double cpuShare = threadsCpu.get() / sequentialCpu.get();
            ctx.table(Table.builder("Sequential vs " + cores + " threads on a memo cache of " + tasks + " keys",
                            "measurement", "sequential ms", "threads ms", "keys computed by threads",
                            "threads' CPU ms", "speed-up")
                    .row("threads second on the warm cache, best of " + ctx.repeats() + " (broken)",
                            naiveSequential * 1e3,
                            naiveThreaded * 1e3, naiveMisses, naiveThreadsCpu * 1e3, naiveSpeedup)
                    .row("fresh cache per run, in turns, best of " + ctx.repeats(), fresh.get(0).bestMillis(),
                            fresh.get(1).bestMillis(), threadsMisses.get(), threadsCpu.get() * 1e3,
                            Measure.speedup(fresh.get(0), fresh.get(1)))
                    .build());
            ctx.claim(WARM_CACHE_LIES, Verdict.check(naiveSpeedup > cores, String.format(
                    "threads looked %.1f× faster on %d cores, computing %d of %d keys (needs > %d×)", naiveSpeedup,
                    cores, naiveMisses, tasks, cores)));
            ctx.claim(FRESH_CACHE_HONEST, Verdict.check(threadsMisses.get() == tasks && cpuShare >= HONEST_CPU_SHARE,
                    String.format("the threads computed %d of %d keys in every run and spent %.2f× the CPU time of"
                            + " the sequential run (needs all keys and ≥ 0.5×)", threadsMisses.get(), tasks,
                            cpuShare)));
        }
    }

    /**
     * A memo cache of CPU work per key that counts its computations and their CPU time. Thread-safe (a
     * ConcurrentHashMap; each key is computed at most once).
     */
    private static final class MemoCache {
        private final ConcurrentHashMap<Integer, Long> values = new ConcurrentHashMap<>();
        private final LongAdder computations = new LongAdder();
        private final LongAdder cpuNanos = new LongAdder();
        private final long rounds;

        MemoCache(long rounds) {
            this.rounds = rounds;
        }

        long get(int key) {
            return values.computeIfAbsent(key, k -> {
                computations.increment();
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                long value = CpuWork.burn(rounds + k);
                cpuNanos.add(THREADS.getCurrentThreadCpuTime() - cpuStart);
                return value;
            });
        }

        long computations() {
            return computations.sum();
        }

        /** CPU time spent computing values, summed over the threads that computed them. */
        long cpuNanos() {
            return cpuNanos.sum();
        }

        void computeSequentially(int keys) {
            for (int key = 0; key < keys; key++) {
                get(key);
            }
        }

        void computeOnPool(ExecutorService pool, int keys) throws Exception {
            List<Future<Long>> futures = new ArrayList<>(keys);
            for (int key = 0; key < keys; key++) {
                int k = key;
                futures.add(pool.submit(() -> get(k)));
            }
            for (Future<Long> future : futures) {
                future.get();
            }
        }
    }

    private static void runProbe(RunContext ctx, int tasks, int cores) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("appears_faster.py", List.of(), Duration.ofSeconds(120),
                "--part", "submit", "--part", "cache", "--tasks", Integer.toString(tasks),
                "--workers", Integer.toString(cores), "--work", Integer.toString(ctx.intParam("py-work") * 1000),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_SUBMIT_ONLY, PY_WARM_CACHE_LIES, PY_FRESH_CACHE_HONEST);
            case ProbeOutcome.Ran ran -> {
                String version = ran.interpreter().version();
                JsonNode submit = ran.json().path("submit");
                Table.Builder submitTable = Table.builder(String.format("CPython %s: timing the executor.submit"
                                + " loop vs until every result() (%d tasks on %d threads)", version, tasks, cores),
                        "run", "submit only ms", "until result() ms", "share");
                for (int run = 0; run < submit.path("submit_ms").size(); run++) {
                    double submitMs = submit.path("submit_ms").get(run).asDouble();
                    double untilMs = submit.path("until_result_ms").get(run).asDouble();
                    submitTable.row(run + 1, submitMs, untilMs, submitMs / untilMs);
                }
                ctx.table(submitTable.build());
                double share = submit.path("best_share").asDouble();
                ctx.claim(PY_SUBMIT_ONLY, Verdict.check(share < 0.1, String.format(
                        "the best submit-only timing was %.2f%% of the best time until every result() (needs < 10%%)",
                        share * 100)));

                JsonNode cache = ran.json().path("cache");
                JsonNode naive = cache.path("naive");
                JsonNode fresh = cache.path("fresh");
                double naiveSpeedup = naive.path("sequential_s").asDouble() / naive.path("threaded_s").asDouble();
                double freshSpeedup = fresh.path("sequential_s").asDouble() / fresh.path("threaded_s").asDouble();
                ctx.table(Table.builder(String.format("CPython %s: sequential vs %d threads on an lru_cache of %d"
                                        + " keys", version, cores, tasks), "measurement", "sequential ms",
                                "threads ms", "keys computed by threads", "threads' process CPU ms", "speed-up")
                        .row("threads second on the warm cache, best of " + PythonProbes.repeats(ctx) + " (broken)",
                                naive.path("sequential_s").asDouble() * 1e3, naive.path("threaded_s").asDouble() * 1e3,
                                naive.path("threaded_misses").asLong(), naive.path("threaded_cpu_s").asDouble() * 1e3,
                                naiveSpeedup)
                        .row("cache_clear() before every run, in turns, best of " + PythonProbes.repeats(ctx),
                                fresh.path("sequential_s").asDouble() * 1e3, fresh.path("threaded_s").asDouble() * 1e3,
                                fresh.path("threaded_misses").asLong(), fresh.path("threaded_cpu_s").asDouble() * 1e3,
                                freshSpeedup)
                        .build());
                ctx.claim(PY_WARM_CACHE_LIES, Verdict.check(naiveSpeedup > cores, String.format(
                        "threads looked %.1f× faster on %d cores, computing %d of %d keys (needs > %d×)",
                        naiveSpeedup, cores, naive.path("threaded_misses").asLong(), tasks, cores)));
                long freshMisses = fresh.path("threaded_misses").asLong();
                double cpuShare = fresh.path("threaded_cpu_s").asDouble() / fresh.path("sequential_cpu_s").asDouble();
                ctx.claim(PY_FRESH_CACHE_HONEST, Verdict.check(freshMisses == tasks && cpuShare >= HONEST_CPU_SHARE,
                        String.format("the threads computed %d of %d keys in every run and spent %.2f× the process"
                                + " CPU time of one thread (needs all keys and ≥ 0.5×)", freshMisses, tasks,
                                cpuShare)));
            }
        }
    }
}

package dev.conclab.lab.experiments.debugging;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Three ways threads appear faster than they are, each beside the measurement that tells the truth.
 *
 * <ol>
 *   <li><b>Broken: timing only the submit.</b> {@code executor.submit} returns as soon as the task is queued. The
 *       tasks here wait on a latch that opens only after the submit loop's clock has stopped, so that timing
 *       cannot contain any of the work, on every run. <b>Correct:</b> stop the clock after every {@code get()}.</li>
 *   <li><b>Broken: wall time only.</b> Two threads incrementing one shared {@code AtomicLong} make its cache line
 *       travel between cores at every update: the CPU time spent (read per thread with
 *       {@link ThreadMXBean#getCurrentThreadCpuTime()}) grows although the work is the same. <b>Correct:</b> report
 *       CPU time beside wall time; the baseline is one thread doing every increment.</li>
 *   <li><b>Broken: a warm cache.</b> The sequential version runs first and fills a memo cache; the threaded version,
 *       timed second on the same cache, only looks results up, and "beats" the sequential one by more than the
 *       cores could ever give. <b>Correct:</b> a fresh cache for every run, variants timed in turns.</li>
 * </ol>
 *
 * <p>Run: {@code ./conclab run appears-faster}. The first and third are forced (they hold on any machine); the
 * second needs two cores.
 */
public final class AppearsFaster implements Experiment {

    static final ClaimSpec SUBMIT_ONLY = new ClaimSpec("submit-only",
            "Timing only the submit loop reports less than 10% of the time until every get() returns.");
    static final ClaimSpec CPU_NOT_WALL = new ClaimSpec("cpu-not-wall",
            "Two threads incrementing one shared AtomicLong spend at least 1.5× the CPU time of one thread doing"
                    + " every increment (needs 2 cores).");
    static final ClaimSpec WARM_CACHE_LIES = new ClaimSpec("warm-cache-lies",
            "Timed after the sequential run on the same warm cache, threads look faster than the core count"
                    + " allows.");
    static final ClaimSpec FRESH_CACHE_HONEST = new ClaimSpec("fresh-cache-honest",
            "With a fresh cache for every run, threads are no faster than the core count allows (at most cores ×"
                    + " 1.5).");

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Override
    public String id() {
        return "appears-faster";
    }

    @Override
    public String title() {
        return "Threads that appear faster: submit-only timing, wall vs CPU, a warm cache";
    }

    @Override
    public String description() {
        return "Shows three measurements that make threads look faster than they are (timing only submit, wall"
                + " time without CPU time, a cache warmed by the previous variant) beside the correct measurement.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "tasks submitted and keys computed", 8, 10_000, 200, 100),
                new Param.IntParam("cpu-ms", "CPU work of all tasks together, in ms of one thread", 20, 60_000,
                        600, 150),
                new Param.IntParam("increments", "increments of the shared counter", 100_000, 1_000_000_000,
                        20_000_000, 4_000_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SUBMIT_ONLY, CPU_NOT_WALL, WARM_CACHE_LIES, FRESH_CACHE_HONEST);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int tasks = ctx.intParam("tasks");
        int cores = ctx.cores();
        long rounds = Math.max(1, CpuWork.roundsFor(ctx.intParam("cpu-ms")) / tasks);

        ctx.progress(0.1, "submit-only vs until get()");
        double worstSubmitShare = 0;
        Table.Builder submit = Table.builder("Timing the submit loop vs timing until every get() (" + tasks
                + " tasks on " + cores + " threads)", "run", "submit only ms", "until get() ms", "share");
        try (ThreadPoolExecutor pool = (ThreadPoolExecutor) Executors.newFixedThreadPool(cores)) {
            pool.prestartAllCoreThreads(); // so that submit only queues: thread start-up is not what this times
            for (int run = 1; run <= ctx.repeats(); run++) {
                SubmitTiming t = submitThenGet(pool, tasks, rounds);
                submit.row(run, t.submitOnlySeconds() * 1e3, t.untilGetSeconds() * 1e3, t.share());
                worstSubmitShare = Math.max(worstSubmitShare, t.share());
            }
        }
        ctx.table(submit.build());
        ctx.claim(SUBMIT_ONLY, Verdict.check(worstSubmitShare < 0.1, String.format(
                "the submit loop took at most %.2f%% of the time until every get() (needs < 10%%)",
                worstSubmitShare * 100)));

        ctx.progress(0.4, "wall vs CPU time on a shared counter");
        long increments = ctx.intParam("increments");
        List<WallAndCpu> counters = new ArrayList<>();
        counters.add(countOn(1, increments));
        counters.add(countOn(2, increments));
        for (int run = 1; run < ctx.repeats(); run++) {
            counters.set(0, WallAndCpu.better(counters.get(0), countOn(1, increments)));
            counters.set(1, WallAndCpu.better(counters.get(1), countOn(2, increments)));
        }
        WallAndCpu one = counters.get(0);
        WallAndCpu two = counters.get(1);
        ctx.table(Table.builder(increments + " increments of one AtomicLong (best of " + ctx.repeats() + ")",
                        "threads", "wall ms", "CPU ms (all threads)")
                .row(1, one.wallSeconds() * 1e3, one.cpuSeconds() * 1e3)
                .row(2, two.wallSeconds() * 1e3, two.cpuSeconds() * 1e3)
                .build());
        if (ctx.requireCores(CPU_NOT_WALL, 2)) {
            ctx.claim(CPU_NOT_WALL, Verdict.atLeast("CPU time, 2 threads vs 1", two.cpuSeconds() / one.cpuSeconds(),
                    1.5));
        }

        ctx.progress(0.7, "a warm cache vs a fresh one");
        try (ExecutorService pool = Executors.newFixedThreadPool(cores)) {
            ConcurrentHashMap<Integer, Long> shared = new ConcurrentHashMap<>();
            long start = System.nanoTime();
            computeSequentially(shared, tasks, rounds);
            double naiveSequential = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            computeOnPool(pool, shared, tasks, rounds);
            double naiveThreaded = (System.nanoTime() - start) / 1e9;

            List<Timing> fresh = Measure.bestOfEach(ctx.repeats(), ctx, List.of(
                    () -> computeSequentially(new ConcurrentHashMap<>(), tasks, rounds),
                    () -> computeOnPool(pool, new ConcurrentHashMap<>(), tasks, rounds)));
            double naiveSpeedup = naiveSequential / naiveThreaded;
            double freshSpeedup = Measure.speedup(fresh.get(0), fresh.get(1));
            ctx.table(Table.builder("Sequential vs " + cores + " threads on a memo cache", "measurement",
                            "sequential ms", "threads ms", "speed-up")
                    .row("one run each, threads second on the warm cache (broken)", naiveSequential * 1e3,
                            naiveThreaded * 1e3, naiveSpeedup)
                    .row("fresh cache per run, in turns, best of " + ctx.repeats(), fresh.get(0).bestMillis(),
                            fresh.get(1).bestMillis(), freshSpeedup)
                    .build());
            ctx.claim(WARM_CACHE_LIES, Verdict.check(naiveSpeedup > cores, String.format(
                    "threads looked %.1f× faster on %d cores (needs > %d×)", naiveSpeedup, cores, cores)));
            ctx.claim(FRESH_CACHE_HONEST, Verdict.atMost("threads vs sequential, fresh cache", freshSpeedup,
                    cores * 1.5)); // margin: a neighbour slowing the sequential run alone inflates the ratio
        }
        ctx.progress(1, "done");
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

    private record WallAndCpu(double wallSeconds, double cpuSeconds) {
        static WallAndCpu better(WallAndCpu a, WallAndCpu b) {
            return a.cpuSeconds() <= b.cpuSeconds() ? a : b;
        }
    }

    /** {@code increments} increments of one shared counter split over {@code threads} platform threads. */
    private static WallAndCpu countOn(int threads, long increments) throws InterruptedException {
        AtomicLong counter = new AtomicLong();
        LongAdder cpuNanos = new LongAdder();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().name("counter-", t).start(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                for (long i = 0; i < increments / threads; i++) {
                    counter.incrementAndGet();
                }
                cpuNanos.add(THREADS.getCurrentThreadCpuTime() - cpuStart);
            }));
        }
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        for (Thread thread : started) {
            thread.join();
        }
        return new WallAndCpu((System.nanoTime() - start) / 1e9, cpuNanos.sum() / 1e9);
    }

    private static void computeSequentially(ConcurrentHashMap<Integer, Long> cache, int keys, long rounds) {
        for (int key = 0; key < keys; key++) {
            cache.computeIfAbsent(key, k -> CpuWork.burn(rounds + k));
        }
    }

    private static void computeOnPool(ExecutorService pool, ConcurrentHashMap<Integer, Long> cache, int keys,
                                      long rounds) throws Exception {
        List<Future<Long>> futures = new ArrayList<>(keys);
        for (int key = 0; key < keys; key++) {
            int k = key;
            futures.add(pool.submit(() -> cache.computeIfAbsent(k, x -> CpuWork.burn(rounds + x))));
        }
        for (Future<Long> future : futures) {
            future.get();
        }
    }
}

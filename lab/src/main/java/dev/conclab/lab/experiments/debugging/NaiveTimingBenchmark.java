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
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongUnaryOperator;

/**
 * Benchmarking threads against processes: one naive cold timing of each, against warm-up, repetitions in turns and
 * the best and median runs, on the JVM and in CPython.
 *
 * <p><b>Broken:</b> time each variant once, creating its pool inside the timing, threads first. <b>Correct:</b>
 * create both pools first, warm them up with untimed rounds, then time the variants in turns and keep the best of
 * each (the median and the slowest run are reported beside it, so the spread shows).
 *
 * <p><b>JVM:</b> a Monte Carlo job drawing from {@link Math#random()} ({@link NaiveTimingJob}) on a fixed pool of
 * {@code workers} platform threads vs a toolkit {@link ProcessPool} of {@code workers} worker JVMs. {@code Math.random}
 * is one generator for the whole JVM: threads in one JVM contend on its seed, each worker JVM draws from its own,
 * so measured right the worker JVMs win. A third variant, threads on {@code ThreadLocalRandom}, shows the fix
 * (no claim: it is what a profiler would send you to).
 *
 * <p><b>CPython:</b> pure-Python CPU work on a {@code ThreadPoolExecutor} vs a {@code ProcessPoolExecutor} (spawn),
 * where the GIL makes processes the variant that should win on two cores.
 *
 * <p>The naive ordering error is forced by sizing, not luck, on both sides: each first measures what starting its
 * process pool costs here and sizes the work to a fraction of it. JVM: a thirtieth of it for one uncontended thread
 * on {@code ThreadLocalRandom}, so the threads stay below the start-up even if {@code Math.random} and its
 * contention make them 30× slower than that (10-20× measured here). CPython: one thread needs about the start-up. A
 * cold process pool then pays its start-up plus its share of the work, more than the threads need for all of it.
 *
 * <p>Run: {@code ./conclab run naive-timing}. The correct rankings need two cores running at once.
 */
public final class NaiveTimingBenchmark implements Experiment {

    static final ClaimSpec PY_NAIVE_WRONG_ORDER = new ClaimSpec("py-naive-wrong-order",
            "In CPython, one cold timing of each variant, pool start-up included, ranks threads ahead of processes"
                    + " on CPU-bound pure Python.");
    static final ClaimSpec PY_MEASURED_RIGHT_ORDER = new ClaimSpec("py-measured-right-order",
            "In CPython, warmed-up pools timed in turns, best of several runs, rank processes at least 1.3× ahead"
                    + " of threads on the same work (needs 2 cores).");

    static final ClaimSpec JVM_NAIVE_WRONG_ORDER = new ClaimSpec("jvm-naive-wrong-order",
            "On the JVM, one cold timing of each variant, worker start-up included, ranks threads ahead of worker"
                    + " JVMs on a Monte Carlo job drawing from Math.random.");
    static final ClaimSpec JVM_MEASURED_RIGHT_ORDER = new ClaimSpec("jvm-measured-right-order",
            "On the JVM, warmed-up pools timed in turns, best of several runs, rank worker JVMs at least 1.3× ahead"
                    + " of threads on the same job, because threads contend on Math.random's one shared generator"
                    + " (needs 2 cores).");

    private static final TaskRef SHARED_RANDOM = TaskRef.of(NaiveTimingJob.class, "hitsSharedRandom");
    private static final TaskRef NOTHING = TaskRef.of(NaiveTimingJob.class, "nothing");
    /** The job on one uncontended thread takes this fraction of a worker pool's start-up (see the class notes). */
    private static final double WORK_SHARE_OF_STARTUP = 1 / 30.0;
    private static final int WARM_UP_ROUNDS = 3;
    /** The timed runs are short (tens of ms), so more turns than the context's repeats are cheap. */
    private static final int QUICK_TURNS = 11;
    private static final int TURNS = 21;

    @Override
    public String id() {
        return "naive-timing";
    }

    @Override
    public String title() {
        return "Benchmarking threads vs processes: a naive cold timing vs warm-up and repetitions";
    }

    @Override
    public String description() {
        return "Times threads and processes (worker JVMs; CPython processes) on the same CPU-bound work once, cold,"
                + " pool start-up included, and then properly (warm pools, in turns, best and median of several runs),"
                + " and compares the rankings.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("workers", "threads or processes per pool", 2, 16, 2, 2));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_NAIVE_WRONG_ORDER, JVM_MEASURED_RIGHT_ORDER, PY_NAIVE_WRONG_ORDER,
                PY_MEASURED_RIGHT_ORDER);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        runJvm(ctx, ctx.intParam("workers"));
        runPython(ctx);
        ctx.progress(1, "done");
    }

    private static void runPython(RunContext ctx) throws Exception {
        ctx.progress(0.5, "CPython: start-up cost, naive timings, measured timings");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("naive_timing.py", List.of(), Duration.ofSeconds(120),
                "--workers", Integer.toString(ctx.intParam("workers")),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_NAIVE_WRONG_ORDER, PY_MEASURED_RIGHT_ORDER);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double naiveThreads = json.path("naive").path("threads_s").asDouble();
                double naiveProcesses = json.path("naive").path("processes_s").asDouble();
                double threads = json.path("measured").path("threads_s").asDouble();
                double processes = json.path("measured").path("processes_s").asDouble();
                double threadsMedian = json.path("measured").path("threads_median_s").asDouble();
                double processesMedian = json.path("measured").path("processes_median_s").asDouble();
                int workers = json.path("workers").asInt();
                ctx.table(Table.builder(String.format("CPython, %d iterations of pure-Python work on %d workers"
                                        + " (process-pool start-up: %.0f ms)", json.path("iterations").asLong(),
                                workers, json.path("startup_s").asDouble() * 1e3),
                                "measurement", "threads ms", "processes ms", "processes vs threads")
                        .row("one cold timing each, pool start included (broken)", naiveThreads * 1e3,
                                naiveProcesses * 1e3, naiveThreads / naiveProcesses)
                        .row("warm pools, in turns (timeit), best of " + PythonProbes.repeats(ctx), threads * 1e3,
                                processes * 1e3, threads / processes)
                        .row("warm pools, in turns (timeit), median of " + PythonProbes.repeats(ctx),
                                threadsMedian * 1e3, processesMedian * 1e3, threadsMedian / processesMedian)
                        .build());
                ctx.claim(PY_NAIVE_WRONG_ORDER, Verdict.check(naiveThreads < naiveProcesses, String.format(
                        "naive: threads %.0f ms, processes %.0f ms", naiveThreads * 1e3, naiveProcesses * 1e3)));
                if (ctx.requireCores(PY_MEASURED_RIGHT_ORDER, 2)) {
                    ctx.claim(PY_MEASURED_RIGHT_ORDER, Verdict.atLeast("processes vs threads, warm, best of "
                            + PythonProbes.repeats(ctx), threads / processes, 1.3));
                }
            }
        }
    }

    private static void runJvm(RunContext ctx, int workers) throws Exception {
        ctx.progress(0.05, "JVM: worker start-up");
        List<Long> oneEach = Collections.nCopies(workers, 1L);
        double startup = Measure.bestOf(ctx.repeats(), ctx, () -> {
            try (ProcessPool pool = ProcessPool.of(workers)) {
                pool.map(NOTHING, oneEach, 1);
            }
        }).best();
        List<Long> chunks = split(pointsFor(startup * WORK_SHARE_OF_STARTUP), workers);
        long points = chunks.stream().mapToLong(Long::longValue).sum();

        ctx.progress(0.1, "JVM: one cold timing of each, threads first (broken)");
        long start = System.nanoTime();
        try (ExecutorService threads = threadPool(workers)) {
            onThreads(threads, chunks, NaiveTimingJob::hitsSharedRandom);
        }
        double naiveThreads = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        try (ProcessPool pool = ProcessPool.of(workers)) {
            pool.map(SHARED_RANDOM, chunks, 1);
        }
        double naiveProcesses = (System.nanoTime() - start) / 1e9;

        ctx.progress(0.2, "JVM: warm pools, in turns");
        List<Timing> turns;
        try (ExecutorService threads = threadPool(workers); ProcessPool pool = ProcessPool.of(workers)) {
            List<Measure.Work> variants = List.of(
                    () -> onThreads(threads, chunks, NaiveTimingJob::hitsSharedRandom),
                    () -> pool.map(SHARED_RANDOM, chunks, 1),
                    () -> onThreads(threads, chunks, NaiveTimingJob::hitsLocalRandom));
            for (int i = 0; i < WARM_UP_ROUNDS; i++) { // workers started, the job compiled in every JVM
                for (Measure.Work variant : variants) {
                    variant.run();
                }
            }
            turns = Measure.bestOfEach(ctx.quick() ? QUICK_TURNS : TURNS, ctx, variants);
        }
        Timing threads = turns.get(0);
        Timing processes = turns.get(1);
        Timing localRandom = turns.get(2);
        ctx.table(Table.builder(String.format("JVM, %,d Monte Carlo points on %d workers (worker-pool start-up:"
                                + " %.0f ms); warm: best, median and slowest of %d runs in turns", points, workers,
                        startup * 1e3, threads.seconds().size()),
                        "variant", "one cold timing ms (broken)", "best ms", "median ms", "slowest ms")
                .row("threads, Math.random", naiveThreads * 1e3, threads.bestMillis(), median(threads) * 1e3,
                        slowest(threads) * 1e3)
                .row("worker JVMs, Math.random", naiveProcesses * 1e3, processes.bestMillis(),
                        median(processes) * 1e3, slowest(processes) * 1e3)
                .row("threads, ThreadLocalRandom (the fix)", "—", localRandom.bestMillis(),
                        median(localRandom) * 1e3, slowest(localRandom) * 1e3)
                .build());
        ctx.claim(JVM_NAIVE_WRONG_ORDER, Verdict.check(naiveThreads < naiveProcesses, String.format(
                "naive: threads %.0f ms, worker JVMs %.0f ms", naiveThreads * 1e3, naiveProcesses * 1e3)));
        if (ctx.requireCores(JVM_MEASURED_RIGHT_ORDER, 2)) {
            ctx.claim(JVM_MEASURED_RIGHT_ORDER, Verdict.atLeast("threads vs worker JVMs, warm, best of "
                    + threads.seconds().size() + " (medians: " + String.format("%.2f", median(threads)
                    / median(processes)) + "×)", Measure.speedup(threads, processes), 1.3));
        }
    }

    /**
     * How many points one uncontended thread draws in {@code seconds}, measured on {@code hitsLocalRandom} so that
     * the timed job's own code stays cold for the naive timing.
     */
    private static long pointsFor(double seconds) {
        NaiveTimingJob.hitsLocalRandom(200_000);
        long start = System.nanoTime();
        NaiveTimingJob.hitsLocalRandom(1_000_000);
        double perPoint = (System.nanoTime() - start) / 1e9 / 1_000_000;
        return Math.max(100_000, (long) (seconds / perPoint));
    }

    private static List<Long> split(long total, int parts) {
        List<Long> chunks = new ArrayList<>(parts);
        for (int i = 0; i < parts; i++) {
            chunks.add(total / parts + (i < total % parts ? 1 : 0));
        }
        return chunks;
    }

    private static ExecutorService threadPool(int workers) {
        return Executors.newFixedThreadPool(workers, Thread.ofPlatform().name("naive-timing-", 0).factory());
    }

    private static long onThreads(ExecutorService threads, List<Long> chunks, LongUnaryOperator job)
            throws Exception {
        List<Callable<Long>> calls = chunks.stream().<Callable<Long>>map(n -> () -> job.applyAsLong(n)).toList();
        long hits = 0;
        for (Future<Long> future : threads.invokeAll(calls)) {
            hits += future.get();
        }
        return hits;
    }

    private static double median(Timing timing) {
        List<Double> sorted = timing.seconds().stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static double slowest(Timing timing) {
        return Collections.max(timing.seconds());
    }
}

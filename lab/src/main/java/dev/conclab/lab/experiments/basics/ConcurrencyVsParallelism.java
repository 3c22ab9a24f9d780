package dev.conclab.lab.experiments.basics;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Concurrency is about structure, parallelism about execution.
 *
 * <p>Two CPU-bound tasks, A and B, each made of {@code slices} equal slices of work:
 * <ol>
 *   <li><b>BASELINE — sequential.</b> One thread runs all of A, then all of B.</li>
 *   <li><b>Concurrent, not parallel.</b> One thread alternates: a slice of A, a slice of B, … Both tasks are in
 *       progress at once — that is concurrency — yet only one instruction stream runs, so the total time is the
 *       same as the baseline. This is what a single core (or CPython's GIL) gives threads that compute.</li>
 *   <li><b>Parallel.</b> Two threads, one per task, released together by a latch. With two cores both run at the
 *       same instant and the wall time roughly halves.</li>
 * </ol>
 * The trace draws the three as swimlanes: the interleaved lane shows A and B slices alternating on one thread, the
 * parallel lanes show them side by side.
 *
 * <p>Run: {@code ./conclab run concurrency-vs-parallelism --trace cvp.json}. Expect interleaved ≈ sequential, and
 * parallel ≈ 0.5× sequential on two or more idle cores.
 */
public final class ConcurrencyVsParallelism implements Experiment {

    static final ClaimSpec INTERLEAVED_OVERLAP = new ClaimSpec("interleaved-overlap",
            "On one thread, two tasks interleaved in slices are both in progress at once: each starts before the"
                    + " other finishes.");
    static final ClaimSpec INTERLEAVED_NO_FASTER = new ClaimSpec("interleaved-no-faster",
            "Interleaving two CPU-bound tasks on one thread is no faster than running them one after the other.");
    static final ClaimSpec PARALLEL_FASTER = new ClaimSpec("parallel-faster",
            "On two or more cores, the same two tasks on two threads finish in at most 0.75× the sequential time.");

    @Override
    public String id() {
        return "concurrency-vs-parallelism";
    }

    @Override
    public String title() {
        return "Two CPU-bound tasks: sequential, interleaved on one thread, parallel on two";
    }

    @Override
    public String description() {
        return "Runs tasks A and B one after the other, then interleaved slice by slice on one thread (concurrent,"
                + " not parallel), then on two threads at once (parallel), and draws all three as a timeline.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("slices", "slices of work per task", 2, 1_000, 40, 20),
                new Param.IntParam("slice-ms", "CPU time of one slice, in ms (calibrated on this machine)", 1, 100,
                        10, 5));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(INTERLEAVED_OVERLAP, INTERLEAVED_NO_FASTER, PARALLEL_FASTER);
    }

    /** When each task started and ended, in nanoTime. */
    private record Span(long aStart, long aEnd, long bStart, long bEnd) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int slices = ctx.intParam("slices");
        long rounds = CpuWork.roundsFor(ctx.intParam("slice-ms"));
        int repeats = ctx.repeats();

        ctx.progress(0.05, "sequential");
        Timing sequential = Measure.bestOf(repeats, ctx, () -> sequential(ctx, slices, rounds, false));
        sequential(ctx, slices, rounds, true);

        ctx.progress(0.35, "interleaved on one thread");
        Timing interleaved = Measure.bestOf(repeats, ctx, () -> interleaved(ctx, slices, rounds, false));
        Span overlap = interleaved(ctx, slices, rounds, true);

        ctx.progress(0.65, "parallel on two threads");
        Timing parallel;
        try (ExecutorService pool = Executors.newFixedThreadPool(2,
                Thread.ofPlatform().name("parallel-", 1).factory())) {
            parallel = Measure.bestOf(repeats, ctx, () -> parallel(ctx, pool, slices, rounds, false));
            parallel(ctx, pool, slices, rounds, true);
        }

        ctx.table(Table.builder("Wall time of tasks A and B (best of " + repeats + ")",
                        "variant", "threads", "best ms", "× sequential time")
                .row("sequential (baseline)", 1, sequential.bestMillis(), 1.0)
                .row("interleaved (concurrent)", 1, interleaved.bestMillis(), interleaved.best() / sequential.best())
                .row("parallel", 2, parallel.bestMillis(), parallel.best() / sequential.best())
                .build());
        ctx.series(new Series("Wall time by variant", "best ms", "variant (1 sequential, 2 interleaved, 3 parallel)",
                "ms", List.of(new Series.Point(1, sequential.bestMillis()), new Series.Point(2,
                interleaved.bestMillis()), new Series.Point(3, parallel.bestMillis()))));

        ctx.claim(INTERLEAVED_OVERLAP, Verdict.check(overlap.aStart() < overlap.bEnd()
                        && overlap.bStart() < overlap.aEnd(),
                String.format("on one thread A ran %.1f–%.1f ms and B %.1f–%.1f ms after the run began",
                        0.0, (overlap.aEnd() - overlap.aStart()) / 1e6, (overlap.bStart() - overlap.aStart()) / 1e6,
                        (overlap.bEnd() - overlap.aStart()) / 1e6)));
        // "No faster": interleaving may not beat the baseline by more than noise (a 20% margin).
        ctx.claim(INTERLEAVED_NO_FASTER, Verdict.atLeast("interleaved time ÷ sequential time",
                interleaved.best() / sequential.best(), 0.8));
        if (ctx.requireCores(PARALLEL_FASTER, 2)) {
            ctx.claim(PARALLEL_FASTER, Verdict.atMost("parallel time ÷ sequential time",
                    parallel.best() / sequential.best(), 0.75));
        }
        ctx.progress(1, "done");
    }

    private static void slice(RunContext ctx, String lane, String name, long rounds, boolean traced) {
        long start = System.nanoTime();
        CpuWork.consume(rounds);
        if (traced) {
            ctx.trace().span(lane, name, start, System.nanoTime());
        }
    }

    private static void sequential(RunContext ctx, int slices, long rounds, boolean traced) {
        for (String task : List.of("A", "B")) {
            for (int i = 0; i < slices; i++) {
                ctx.checkCancelled();
                slice(ctx, "sequential · 1 thread", task + i, rounds, traced);
            }
        }
    }

    private static Span interleaved(RunContext ctx, int slices, long rounds, boolean traced) {
        long aStart = System.nanoTime();
        long bStart = 0;
        long aEnd = 0;
        for (int i = 0; i < slices; i++) {
            ctx.checkCancelled();
            slice(ctx, "interleaved · 1 thread", "A" + i, rounds, traced);
            aEnd = System.nanoTime();
            if (i == 0) {
                bStart = aEnd;
            }
            slice(ctx, "interleaved · 1 thread", "B" + i, rounds, traced);
        }
        return new Span(aStart, aEnd, bStart, System.nanoTime());
    }

    private static void parallel(RunContext ctx, ExecutorService pool, int slices, long rounds, boolean traced)
            throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        var a = pool.submit(() -> task(ctx, go, "A", slices, rounds, traced));
        var b = pool.submit(() -> task(ctx, go, "B", slices, rounds, traced));
        go.countDown();
        a.get();
        b.get();
    }

    private static Void task(RunContext ctx, CountDownLatch go, String name, int slices, long rounds,
                             boolean traced) throws InterruptedException {
        go.await();
        for (int i = 0; i < slices; i++) {
            ctx.checkCancelled();
            slice(ctx, "parallel · " + Thread.currentThread().getName(), name + i, rounds, traced);
        }
        return null;
    }
}

package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Amdahl's law, measured: a job with a serial fraction s runs on 1, 2, … workers, and its speed-up is set beside
 * the law's prediction {@code 1 / (s + (1 − s) / n)}, with n capped at this machine's cores.
 *
 * <p><b>BASELINE:</b> the whole job on one thread. <b>Variants:</b> the serial part on one thread, then the
 * parallel part split over n threads (n = 1 … 2 × cores, so the curve also shows what workers beyond the cores
 * buy: nothing). The CPython probe does the same with a {@code multiprocessing.Pool(n)}, timing the pool's
 * start-up, pickling and shutdown as part of the job, because they are serial work the law must count.
 *
 * The table's "effective s" is the serial fraction that would explain each measured speed-up; for the pool it is
 * usually above the nominal s, because the pool's own work is serial.
 *
 * <p>Expect the JVM curve to follow the prediction and flatten at the core count, and never to pass 1/s (4× at
 * s = 25 %). Run: {@code ./conclab run amdahl --serial-percent 50}.
 */
public final class Amdahl implements Experiment {

    static final ClaimSpec FOLLOWS_LAW = new ClaimSpec("follows-law",
            "On as many JVM threads as cores, the measured speed-up is at least 80% of Amdahl's prediction"
                    + " (needs 2 cores).");
    static final ClaimSpec BOUNDED_BY_SERIAL = new ClaimSpec("bounded-by-serial",
            "No worker count speeds the job up by more than 1/s, whatever the number of threads.");
    static final ClaimSpec POOL_BOUNDED = new ClaimSpec("pool-bounded",
            "A multiprocessing.Pool obeys the same ceiling: with its start-up and pickling counted, no pool size"
                    + " speeds the job up by more than 1/s.");

    @Override
    public String id() {
        return "amdahl";
    }

    @Override
    public String title() {
        return "Amdahl's law: measured speed-up vs prediction";
    }

    @Override
    public String description() {
        return "Runs CPU work with a tunable serial fraction on 1..2×cores JVM threads and on a CPython"
                + " multiprocessing.Pool, and sets each measured speed-up beside Amdahl's 1/(s + (1−s)/n).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("serial-percent", "serial fraction s of the job, in percent", 5, 90, 25, 25),
                new Param.IntParam("cpu-ms", "JVM job size, in ms of one thread on this machine", 20, 60_000,
                        800, 200),
                new Param.IntParam("py-iterations", "CPython job size, in pure-Python loop iterations", 100_000,
                        1_000_000_000, 6_000_000, 2_000_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(FOLLOWS_LAW, BOUNDED_BY_SERIAL, POOL_BOUNDED);
    }

    /** Amdahl's prediction for serial fraction {@code s} on {@code n} workers sharing {@code cores} cores. */
    static double predicted(double s, int n, int cores) {
        return 1 / (s + (1 - s) / Math.min(n, cores));
    }

    /**
     * The serial fraction that would explain speed-up {@code speedup} on {@code n} workers, s' = (n/S − 1)/(n − 1),
     * or an empty cell for one worker, where the law says nothing about s.
     */
    static Object effectiveSerial(int n, double speedup) {
        return n < 2 ? "" : (n / speedup - 1) / (n - 1);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        double s = ctx.intParam("serial-percent") / 100.0;
        int cores = ctx.cores();
        int maxWorkers = Math.max(2, 2 * cores);
        long total = CpuWork.roundsFor(ctx.intParam("cpu-ms"));
        long serial = Math.round(total * s);
        long parallel = total - serial;

        ctx.progress(0.05, "JVM: 1 thread");
        Timing one = Measure.bestOf(ctx.repeats(), ctx, () -> CpuWork.consume(total));
        Table.Builder table = Table.builder(String.format("Speed-up at s = %.0f%% on %d cores (best of %d)",
                        s * 100, cores, ctx.repeats()), "runtime", "workers", "ms", "measured speed-up",
                "Amdahl prediction", "ceiling 1/s", "effective s");
        List<Series.Point> measuredPoints = new ArrayList<>();
        List<Series.Point> lawPoints = new ArrayList<>();
        double highest = 0;
        double atCores = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(maxWorkers)) {
            for (int n = 1; n <= maxWorkers; n++) {
                ctx.progress(0.05 + 0.45 * n / maxWorkers, "JVM: " + n + " threads");
                int workers = n;
                Timing timing = Measure.bestOf(ctx.repeats(), ctx, () -> {
                    CpuWork.consume(serial);
                    List<Future<?>> parts = new ArrayList<>();
                    for (int i = 0; i < workers; i++) {
                        parts.add(pool.submit(() -> CpuWork.consume(parallel / workers)));
                    }
                    for (Future<?> part : parts) {
                        part.get();
                    }
                });
                double speedup = Measure.speedup(one, timing);
                double law = predicted(s, n, cores);
                highest = Math.max(highest, speedup);
                if (n == Math.min(cores, maxWorkers)) {
                    atCores = speedup / law;
                }
                table.row("JVM threads", n, timing.bestMillis(), speedup, law, 1 / s, effectiveSerial(n, speedup));
                measuredPoints.add(new Series.Point(n, speedup));
                lawPoints.add(new Series.Point(n, law));
            }
        }
        String chart = String.format("Speed-up vs workers at s = %.0f%%", s * 100);
        ctx.series(new Series(chart, "JVM threads, measured", "workers", "× faster", measuredPoints));
        ctx.series(new Series(chart, "Amdahl's law on " + cores + " cores", "workers", "× faster", lawPoints));
        if (ctx.requireCores(FOLLOWS_LAW, 2)) {
            ctx.claim(FOLLOWS_LAW, Verdict.atLeast("measured / predicted speed-up on " + cores + " threads",
                    atCores, 0.8));
        }
        ctx.claim(BOUNDED_BY_SERIAL, Verdict.atMost("highest speed-up over 1..." + maxWorkers
                + " threads, as a fraction of 1/s", highest * s, 1.0));

        ctx.progress(0.55, "CPython: multiprocessing.Pool");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("amdahl_pool.py", List.of(), Duration.ofSeconds(120),
                "--iterations", Integer.toString(ctx.intParam("py-iterations")),
                "--serial-percent", Integer.toString(ctx.intParam("serial-percent")),
                "--max-workers", Integer.toString(Math.max(2, cores)),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, POOL_BOUNDED);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double serialSeconds = json.path("serial_s").asDouble();
                List<Series.Point> poolPoints = new ArrayList<>();
                double highestPool = 0;
                for (JsonNode p : json.path("pools")) {
                    int n = p.path("workers").asInt();
                    double elapsed = p.path("elapsed_s").asDouble();
                    double speedup = serialSeconds / elapsed;
                    double law = predicted(s, n, cores);
                    table.row(String.format("CPython Pool (%s; start-up %.1f ms)", json.path("start_method")
                                    .asText(), p.path("pool_overhead_s").asDouble() * 1e3), n, elapsed * 1e3,
                            speedup, law, 1 / s, effectiveSerial(n, speedup));
                    poolPoints.add(new Series.Point(n, speedup));
                    highestPool = Math.max(highestPool, speedup);
                }
                ctx.series(new Series(chart, "CPython Pool, measured (start-up included)", "workers", "× faster",
                        poolPoints));
                ctx.claim(POOL_BOUNDED, Verdict.atMost("highest Pool speed-up, as a fraction of 1/s",
                        highestPool * s, 1.0));
            }
        }
        ctx.table(table.build());
        ctx.note("Gustafson's law reads the same numbers the other way: grow the parallel part with the workers"
                + " (scaled speed-up s + (1 − s)·n) and the serial part stops being the ceiling.");
        ctx.progress(1, "done");
    }
}

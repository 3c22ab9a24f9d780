package dev.conclab.lab.experiments.pipelines;

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

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Data-parallel training with synchronous gradient averaging: the same logistic regression on one thread and on
 * two, and in CPython on one process and two.
 *
 * <p><b>BASELINE:</b> full-batch gradient descent on one thread over a generated data set (fixed seed, fixed row
 * order). <b>Variants:</b>
 * <ul>
 *   <li>the rows cut into 2 shards, the shards' gradients computed one after another on one thread, added in shard
 *       order: the same arithmetic as the parallel run, without the parallelism;</li>
 *   <li>the same 2 shards on 2 pool threads, one task per shard per step; the step waits for both (a synchronous
 *       barrier), adds the gradients in shard order, and updates the one copy of the weights;</li>
 *   <li>the same 2 shards in 2 worker JVMs of the toolkit's {@code ProcessPool}: each worker regenerates the data
 *       from the seed once; each step sends the weights out and gets one gradient back per shard.</li>
 * </ul>
 * A fixed reduction order makes parallel training reproducible bit for bit; against the plain loop (one sum over
 * all rows) only the rounding differs.
 *
 * <p>CPython (probe {@code train_parallel.py}): the same scheme with numpy, shards on one process vs on 2
 * {@code multiprocessing} workers that inherited the data at fork; each step sends the weights out and gets one
 * gradient back per worker.
 *
 * <p>Run: {@code ./conclab run data-parallel-training}. Expect about 2× from 2 threads on two idle cores, equal
 * weights everywhere, and a smaller and unsteady gain for processes, whose every step pays two round trips (the
 * processes' times are reported, not judged).
 */
public final class DataParallelTraining implements Experiment {

    static final ClaimSpec SAME_WEIGHTS = new ClaimSpec("same-weights",
            "Training on 2 threads ends with bit-for-bit the same weights as one thread adding the same 2 shards'"
                    + " gradients in the same order.");
    static final ClaimSpec SAME_ACCURACY = new ClaimSpec("same-accuracy",
            "Training on 2 threads matches the plain single-threaded loop: training accuracy within 0.001 and"
                    + " every weight within 1e-9.");
    static final ClaimSpec MODEL_LEARNS = new ClaimSpec("model-learns",
            "The trained model classifies at least 75% of its training rows correctly.");
    static final ClaimSpec THREADS_SPEEDUP = new ClaimSpec("threads-speedup",
            "Synchronous data-parallel training on 2 threads is at least 1.3× faster than on 1 (needs 2 cores).");
    static final ClaimSpec PROCESSES_SAME_WEIGHTS = new ClaimSpec("processes-same-weights",
            "Training over 2 worker JVMs of the toolkit's ProcessPool ends with bit-for-bit the same weights as one"
                    + " thread adding the same shards' gradients in the same order.");
    static final ClaimSpec PY_SAME_WEIGHTS = new ClaimSpec("py-same-weights",
            "numpy training over 2 worker processes ends with exactly the weights of one process adding the same"
                    + " shards in the same order.");

    private static final int SHARDS = 2;
    private static final int FEATURES = 32;
    private static final double LEARNING_RATE = 0.5;
    private static final long SEED = 42;

    @Override
    public String id() {
        return "data-parallel-training";
    }

    @Override
    public String title() {
        return "Data-parallel logistic regression: 1 vs 2 threads, 1 vs 2 processes, same weights";
    }

    @Override
    public String description() {
        return "Trains logistic regression by full-batch gradient descent with synchronous gradient averaging on one"
                + " and two JVM threads, and with numpy on one and two CPython processes, and compares time,"
                + " accuracy and the final weights.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("rows", "training rows (JVM)", 100, 1_000_000, 200_000, 100_000),
                new Param.IntParam("steps", "gradient steps (JVM)", 1, 100_000, 30, 10),
                new Param.IntParam("py-rows", "training rows (CPython)", 100, 2_000_000, 200_000, 60_000),
                new Param.IntParam("py-steps", "gradient steps (CPython)", 1, 100_000, 30, 10));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SAME_WEIGHTS, SAME_ACCURACY, MODEL_LEARNS, THREADS_SPEEDUP, PROCESSES_SAME_WEIGHTS,
                PY_SAME_WEIGHTS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int steps = ctx.intParam("steps");
        ctx.progress(0.05, "JVM: generating the data set");
        LogisticData data = new LogisticData(ctx.intParam("rows"), FEATURES, SEED);

        ctx.progress(0.1, "JVM: plain loop, shards on 1 thread, shards on 2 threads");
        SyncGradientTrainer.train(data, SHARDS, Math.max(5, steps / 2), LEARNING_RATE); // reach C2 before timing
        double[][] plain = new double[1][];
        double[][] sequential = new double[1][];
        double[][] parallel = new double[1][];
        Timing plainTime;
        Timing sequentialTime;
        Timing parallelTime;
        try (ExecutorService pool = Executors.newFixedThreadPool(SHARDS)) {
            SyncGradientTrainer.train(data, SHARDS, Math.max(5, steps / 2), LEARNING_RATE, pool); // the pool's path too
            // Turns (one run of each, then again): one and two threads get the same share of the machine's fast
            // and slow spells, so the speed-up is not decided by which of them ran during a neighbour's burst.
            List<Timing> turns = Measure.bestOfEach(ctx.repeats(), ctx, List.of(
                    () -> plain[0] = SyncGradientTrainer.train(data, 1, steps, LEARNING_RATE),
                    () -> sequential[0] = SyncGradientTrainer.train(data, SHARDS, steps, LEARNING_RATE),
                    () -> parallel[0] = SyncGradientTrainer.train(data, SHARDS, steps, LEARNING_RATE, pool)));
            plainTime = turns.get(0);
            sequentialTime = turns.get(1);
            parallelTime = turns.get(2);
        }
        ctx.progress(0.3, "JVM: shards in " + SHARDS + " worker JVMs (ProcessPool)");
        double[][] workers = new double[1][];
        Timing workersTime;
        try (ProcessPool pool = ProcessPool.of(SHARDS)) {
            // starts the workers, lets each generate the data once and JIT-compile the gradient
            SyncGradientTrainer.train(data, SEED, SHARDS, Math.max(5, steps / 2), LEARNING_RATE, pool);
            workersTime = Measure.bestOf(ctx.repeats(), ctx,
                    () -> workers[0] = SyncGradientTrainer.train(data, SEED, SHARDS, steps, LEARNING_RATE, pool));
        }
        double plainAccuracy = data.accuracy(plain[0]);
        double parallelAccuracy = data.accuracy(parallel[0]);

        Table.Builder table = Table.builder("Logistic regression, " + FEATURES + " features, full-batch gradient"
                        + " descent (best of " + ctx.repeats() + ")", "variant", "runtime", "rows", "steps", "ms",
                        "speed-up", "accuracy", "max |Δw| vs plain")
                .row("plain loop, 1 thread", "JVM", data.rows, steps, plainTime.bestMillis(), 1.0, plainAccuracy, "0")
                .row(SHARDS + " shards, 1 thread", "JVM", data.rows, steps, sequentialTime.bestMillis(),
                        Measure.speedup(plainTime, sequentialTime), data.accuracy(sequential[0]),
                        String.format("%.1e", maxDifference(plain[0], sequential[0])))
                .row(SHARDS + " shards, " + SHARDS + " threads", "JVM", data.rows, steps, parallelTime.bestMillis(),
                        Measure.speedup(plainTime, parallelTime), parallelAccuracy,
                        String.format("%.1e", maxDifference(plain[0], parallel[0])))
                .row(SHARDS + " shards, " + SHARDS + " worker JVMs", "JVM", data.rows, steps, workersTime.bestMillis(),
                        Measure.speedup(plainTime, workersTime), data.accuracy(workers[0]),
                        String.format("%.1e", maxDifference(plain[0], workers[0])));

        ctx.claim(SAME_WEIGHTS, Verdict.check(Arrays.equals(sequential[0], parallel[0]), String.format(
                "%d threads vs 1 thread over the same %d shards: max |Δw| = %s", SHARDS, SHARDS,
                maxDifference(sequential[0], parallel[0]))));
        ctx.claim(PROCESSES_SAME_WEIGHTS, Verdict.check(Arrays.equals(sequential[0], workers[0]), String.format(
                "%d worker JVMs vs 1 thread over the same %d shards: max |Δw| = %s", SHARDS, SHARDS,
                maxDifference(sequential[0], workers[0]))));
        double accuracyGap = Math.abs(parallelAccuracy - plainAccuracy);
        double weightGap = maxDifference(plain[0], parallel[0]);
        ctx.claim(SAME_ACCURACY, Verdict.check(accuracyGap <= 0.001 && weightGap <= 1e-9, String.format(
                "accuracy %.4f (2 threads) vs %.4f (plain): gap %.4f (limit 0.001); max |Δw| %.2e (limit 1e-9)",
                parallelAccuracy, plainAccuracy, accuracyGap, weightGap)));
        ctx.claim(MODEL_LEARNS, Verdict.check(parallelAccuracy >= 0.75, String.format(
                "training accuracy %.4f after %d steps (needs ≥ 0.75)", parallelAccuracy, steps)));
        if (ctx.requireCores(THREADS_SPEEDUP, SHARDS)) {
            ctx.claim(THREADS_SPEEDUP, Verdict.atLeast(SHARDS + " threads vs 1 over the same shards",
                    Measure.speedup(sequentialTime, parallelTime), 1.3)); // each step's barrier costs a wake-up
        }

        ctx.progress(0.5, "CPython: numpy on 1 process and on " + SHARDS);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("train_parallel.py", List.of(), Duration.ofSeconds(120),
                "--rows", Integer.toString(ctx.intParam("py-rows")),
                "--features", Integer.toString(FEATURES),
                "--steps", Integer.toString(ctx.intParam("py-steps")),
                "--workers", Integer.toString(SHARDS),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_SAME_WEIGHTS);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double oneS = json.path("sequential_s").asDouble();
                double manyS = json.path("processes_s").asDouble();
                double diff = json.path("max_weight_diff").asDouble();
                int rows = json.path("rows").asInt();
                int pySteps = json.path("steps").asInt();
                table.row(SHARDS + " shards, 1 process (numpy)", "CPython", rows, pySteps, oneS * 1e3, "—",
                                json.path("sequential_accuracy").asDouble(), "—")
                        .row(SHARDS + " shards, " + SHARDS + " processes (numpy)", "CPython", rows, pySteps,
                                manyS * 1e3, oneS / manyS, json.path("processes_accuracy").asDouble(), "—");
                ctx.claim(PY_SAME_WEIGHTS, Verdict.check(diff == 0.0, String.format(
                        "%d processes vs 1 over the same shards: max |Δw| = %s", SHARDS, diff)));
                // No speed-up claim here: each numpy shard streams its rows from memory and each step pays two
                // pipe round trips, and on a 2-vCPU machine the ratio ranged 0.55-1.68x over runs: reported only.
            }
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static double maxDifference(double[] a, double[] b) {
        double max = 0;
        for (int j = 0; j < a.length; j++) {
            max = Math.max(max, Math.abs(a[j] - b[j]));
        }
        return max;
    }
}

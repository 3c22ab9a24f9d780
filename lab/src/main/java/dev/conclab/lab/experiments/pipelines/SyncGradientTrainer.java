package dev.conclab.lab.experiments.pipelines;

import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Full-batch gradient descent on logistic regression, data-parallel with synchronous gradient averaging.
 *
 * <p>The rows are cut into {@code shards} contiguous ranges. Each step, every shard's gradient is computed into its
 * own accumulator (one after another on the caller's thread, on a thread pool, or in worker JVMs of a
 * {@link ProcessPool}), then the accumulators are added <em>in shard order</em> on the caller's thread, divided by
 * the row count, and applied to the one copy of the weights. No shard starts step {@code k + 1} before the weights of
 * step {@code k} are final: waiting for every shard's result is the barrier (for a thread pool, the futures' join
 * also gives the happens-before edge that publishes the new weights to the next step's tasks).
 *
 * <p>Because the reduction order is fixed, every mode gives bit-for-bit the same weights for the same shard count.
 * The class holds no state shared between calls except the worker-side data cache of {@link #workerGradient}; each
 * {@code train} call blocks until training ends.
 */
final class SyncGradientTrainer {

    /** Worker JVM side: the data set, generated once per worker from its (rows, features, seed). */
    private static final ConcurrentHashMap<List<Long>, LogisticData> WORKER_DATA = new ConcurrentHashMap<>();

    private SyncGradientTrainer() {
    }

    /** Computes every shard's gradient at {@code weights} into {@code partial[shard]} (zeroed first). */
    private interface StepGradients {
        void fill(double[] weights, int[][] bounds, double[][] partial) throws Exception;
    }

    /** Trains on the caller's thread, the shards one after another. */
    static double[] train(LogisticData data, int shards, int steps, double learningRate) throws Exception {
        return train(data, shards, steps, learningRate, (weights, bounds, partial) -> {
            for (int s = 0; s < bounds.length; s++) {
                Arrays.fill(partial[s], 0);
                data.addGradient(weights, bounds[s][0], bounds[s][1], partial[s]);
            }
        });
    }

    /** Trains with one task per shard per step on {@code pool}. */
    static double[] train(LogisticData data, int shards, int steps, double learningRate, ExecutorService pool)
            throws Exception {
        Objects.requireNonNull(pool, "pool");
        return train(data, shards, steps, learningRate, (weights, bounds, partial) -> {
            List<Callable<Void>> tasks = new ArrayList<>(bounds.length);
            for (int s = 0; s < bounds.length; s++) {
                int shard = s;
                tasks.add(() -> {
                    Arrays.fill(partial[shard], 0);
                    data.addGradient(weights, bounds[shard][0], bounds[shard][1], partial[shard]);
                    return null;
                });
            }
            for (Future<Void> done : pool.invokeAll(tasks)) {
                try {
                    done.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("a shard's gradient failed", e.getCause());
                }
            }
        });
    }

    /**
     * Trains with one call per shard per step in {@code pool}'s worker JVMs. Only the weights go out and one gradient
     * per shard comes back; each worker regenerates the data set from {@code seed} once and keeps it.
     */
    static double[] train(LogisticData data, long seed, int shards, int steps, double learningRate, ProcessPool pool)
            throws Exception {
        Objects.requireNonNull(pool, "pool");
        TaskRef task = TaskRef.of(SyncGradientTrainer.class, "workerGradient");
        return train(data, shards, steps, learningRate, (weights, bounds, partial) -> {
            List<Double> w = Arrays.stream(weights).boxed().toList();
            List<List<?>> calls = new ArrayList<>(bounds.length);
            for (int[] range : bounds) {
                calls.add(List.of((long) data.rows, (long) data.features, seed, (long) range[0], (long) range[1], w));
            }
            List<Object> results = pool.starmap(task, calls); // in argument order, so in shard order
            for (int s = 0; s < bounds.length; s++) {
                List<?> gradient = (List<?>) results.get(s);
                for (int j = 0; j < partial[s].length; j++) {
                    partial[s][j] = (Double) gradient.get(j);
                }
            }
        });
    }

    /** Runs in a worker JVM: the gradient of rows {@code [from, to)} at {@code weights}. */
    static List<Double> workerGradient(long rows, long features, long seed, long from, long to, List<?> weights) {
        LogisticData data = WORKER_DATA.computeIfAbsent(List.of(rows, features, seed),
                key -> new LogisticData((int) rows, (int) features, seed));
        double[] w = new double[weights.size()];
        for (int j = 0; j < w.length; j++) {
            w[j] = (Double) weights.get(j);
        }
        double[] gradient = new double[data.features];
        data.addGradient(w, (int) from, (int) to, gradient);
        return Arrays.stream(gradient).boxed().toList();
    }

    private static double[] train(LogisticData data, int shards, int steps, double learningRate,
            StepGradients gradients) throws Exception {
        Objects.requireNonNull(data, "data");
        if (shards < 1 || shards > data.rows) {
            throw new IllegalArgumentException("shards must be in [1, " + data.rows + "], got " + shards);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        int[][] bounds = new int[shards][];
        for (int s = 0; s < shards; s++) {
            bounds[s] = new int[] {(int) ((long) data.rows * s / shards), (int) ((long) data.rows * (s + 1) / shards)};
        }
        double[] w = new double[data.features];
        double[][] partial = new double[shards][data.features];
        for (int step = 0; step < steps; step++) {
            gradients.fill(w.clone(), bounds, partial); // a snapshot no one writes while the shards read it
            double[] total = new double[data.features];
            for (double[] shardGradient : partial) { // shard order: the same sum in every mode and on every run
                for (int j = 0; j < total.length; j++) {
                    total[j] += shardGradient[j];
                }
            }
            for (int j = 0; j < w.length; j++) {
                w[j] -= learningRate * total[j] / data.rows;
            }
        }
        return w;
    }
}

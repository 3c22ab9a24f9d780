package dev.conclab.lab.experiments.pipelines;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Full-batch gradient descent on logistic regression, data-parallel with synchronous gradient averaging.
 *
 * <p>The rows are cut into {@code shards} contiguous ranges. Each step, every shard's gradient is computed into its
 * own accumulator (on the pool's threads, or one after another on the caller's thread), then the accumulators are
 * added <em>in shard order</em> on the caller's thread, divided by the row count, and applied to the one copy of the
 * weights. No worker starts step {@code k + 1} before the weights of step {@code k} are final: the join on every
 * shard's future is the barrier (and its happens-before edge publishes the new weights to the next step's tasks).
 *
 * <p>Because the reduction order is fixed, training on a pool gives bit-for-bit the same weights as
 * {@link #train(LogisticData, int, int, double)} with the same shard count on one thread. Instances are not shared;
 * each call allocates its own state and blocks until training ends.
 */
final class SyncGradientTrainer {

    private SyncGradientTrainer() {
    }

    /** Trains on the caller's thread, the shards one after another. */
    static double[] train(LogisticData data, int shards, int steps, double learningRate) throws InterruptedException {
        return train(data, shards, steps, learningRate, null);
    }

    /**
     * Trains with one task per shard per step on {@code pool} (or on the caller's thread if {@code pool} is null).
     *
     * @throws IllegalArgumentException if {@code shards} is not in {@code [1, rows]} or {@code steps} is below 1
     * @throws InterruptedException if interrupted while waiting for a step's shards
     */
    static double[] train(LogisticData data, int shards, int steps, double learningRate, ExecutorService pool)
            throws InterruptedException {
        Objects.requireNonNull(data, "data");
        if (shards < 1 || shards > data.rows) {
            throw new IllegalArgumentException("shards must be in [1, " + data.rows + "], got " + shards);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        double[] w = new double[data.features];
        double[][] partial = new double[shards][data.features];
        double[] total = new double[data.features];
        for (int step = 0; step < steps; step++) {
            double[] weights = w.clone(); // the tasks read a snapshot no one writes
            List<Callable<Void>> tasks = new ArrayList<>(shards);
            for (int s = 0; s < shards; s++) {
                int shard = s;
                int from = (int) ((long) data.rows * s / shards);
                int to = (int) ((long) data.rows * (s + 1) / shards);
                tasks.add(() -> {
                    Arrays.fill(partial[shard], 0);
                    data.addGradient(weights, from, to, partial[shard]);
                    return null;
                });
            }
            if (pool == null) {
                for (Callable<Void> task : tasks) {
                    call(task);
                }
            } else {
                for (Future<Void> done : pool.invokeAll(tasks)) {
                    join(done);
                }
            }
            Arrays.fill(total, 0);
            for (double[] shardGradient : partial) { // shard order: the same sum on every run and pool size
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

    private static void call(Callable<Void> task) {
        try {
            task.call();
        } catch (Exception e) {
            throw new IllegalStateException("a shard's gradient failed", e);
        }
    }

    private static void join(Future<Void> done) throws InterruptedException {
        try {
            done.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("a shard's gradient failed", e.getCause());
        }
    }
}

package dev.conclab.lab.experiments.pipelines;

import java.util.SplittableRandom;

/**
 * A generated binary-classification data set and the logistic-regression arithmetic over it.
 *
 * <p>Rows are drawn from a fixed seed, so every run trains on the same data in the same order. The instance is
 * immutable after construction (the arrays are never written again) and may be read by any number of threads;
 * {@link #addGradient} writes only the caller's own accumulator.
 */
final class LogisticData {

    final int rows;
    final int features;
    /** Row-major: row {@code i} is {@code x[i * features .. (i + 1) * features)}. */
    private final double[] x;
    /** Labels, 0 or 1. */
    private final double[] y;

    /**
     * Draws {@code rows} rows of {@code features} standard-normal features, labelled 1 with probability
     * {@code sigmoid(x · w*)} for a fixed hidden {@code w*}.
     *
     * @throws IllegalArgumentException if {@code rows} or {@code features} is below 1, or their product does not fit
     *         one array
     */
    LogisticData(int rows, int features, long seed) {
        if (rows < 1 || features < 1) {
            throw new IllegalArgumentException("rows and features must be >= 1, got " + rows + " and " + features);
        }
        if ((long) rows * features > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("rows x features must fit one Java array, got " + rows + " x " + features);
        }
        this.rows = rows;
        this.features = features;
        SplittableRandom random = new SplittableRandom(seed);
        double[] hidden = new double[features];
        for (int j = 0; j < features; j++) {
            hidden[j] = random.nextDouble(-1, 1);
        }
        x = new double[rows * features];
        y = new double[rows];
        for (int i = 0; i < rows; i++) {
            double z = 0;
            for (int j = 0; j < features; j++) {
                double v = gaussian(random);
                x[i * features + j] = v;
                z += v * hidden[j];
            }
            y[i] = random.nextDouble() < sigmoid(z) ? 1 : 0;
        }
    }

    /** Adds the log-loss gradient of rows {@code [from, to)} at weights {@code w} to {@code gradient}, in row order. */
    void addGradient(double[] w, int from, int to, double[] gradient) {
        for (int i = from; i < to; i++) {
            int base = i * features;
            double z = 0;
            for (int j = 0; j < features; j++) {
                z += x[base + j] * w[j];
            }
            double error = sigmoid(z) - y[i];
            for (int j = 0; j < features; j++) {
                gradient[j] += error * x[base + j];
            }
        }
    }

    /** The fraction of rows whose predicted class ({@code sigmoid(x · w) >= 0.5}) equals the label. */
    double accuracy(double[] w) {
        int correct = 0;
        for (int i = 0; i < rows; i++) {
            double z = 0;
            for (int j = 0; j < features; j++) {
                z += x[i * features + j] * w[j];
            }
            if ((z >= 0 ? 1 : 0) == y[i]) {
                correct++;
            }
        }
        return (double) correct / rows;
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller spelled out, so the draw sequence is fixed by this code rather than by a JDK default method.
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}

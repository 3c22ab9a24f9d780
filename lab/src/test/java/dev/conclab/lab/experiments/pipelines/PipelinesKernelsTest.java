package dev.conclab.lab.experiments.pipelines;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The kernels and the trainer behind {@code vectorization} and {@code data-parallel-training}. */
class PipelinesKernelsTest {

    @Test
    void vectorKernelsMatchScalarOnEveryTailLength() {
        SplittableRandom random = new SplittableRandom(7);
        int lanes = FloatKernels.SPECIES.length();
        for (int length : new int[] {0, 1, lanes - 1, lanes, lanes + 1, 3 * lanes + 5}) {
            float[] a = new float[length + 3];
            float[] b = new float[length + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextDouble();
                b[i] = (float) random.nextDouble();
            }
            // an offset start, so the vector loop's bound is computed from the range, not from 0
            float scalar = FloatKernels.dotScalar(a, b, 3, length + 3);
            assertThat(FloatKernels.dotVector(a, b, 3, length + 3)).as("length %d", length)
                    .isCloseTo(scalar, within(1e-4f * Math.max(1, Math.abs(scalar))));
            float[] outScalar = new float[a.length];
            float[] outVector = new float[a.length];
            FloatKernels.saxpyScalar(0.5f, a, b, outScalar, 3, length + 3);
            FloatKernels.saxpyVector(0.5f, a, b, outVector, 3, length + 3);
            assertThat(outVector).as("length %d", length).containsExactly(outScalar); // mul then add: same rounding
        }
    }

    @Test
    void parallelTrainingEqualsSequentialBitForBit() throws Exception {
        LogisticData data = new LogisticData(1_001, 8, 3);
        double[] sequential = SyncGradientTrainer.train(data, 3, 15, 0.5);
        double[] parallel;
        try (ExecutorService pool = Executors.newFixedThreadPool(3)) {
            parallel = SyncGradientTrainer.train(data, 3, 15, 0.5, pool);
        }
        assertThat(parallel).containsExactly(sequential);
        assertThat(data.accuracy(parallel)).isGreaterThan(0.6);
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> new LogisticData(0, 8, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rows and features");
        LogisticData data = new LogisticData(10, 2, 1);
        assertThatThrownBy(() -> SyncGradientTrainer.train(data, 11, 1, 0.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shards");
        assertThatThrownBy(() -> SyncGradientTrainer.train(data, 2, 0, 0.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("steps");
    }
}

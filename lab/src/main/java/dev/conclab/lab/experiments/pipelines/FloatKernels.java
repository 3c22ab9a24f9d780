package dev.conclab.lab.experiments.pipelines;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Two float kernels, each written as a plain scalar loop and with the JDK Vector API.
 *
 * <p>The Vector API ({@code jdk.incubator.vector}) is an <b>incubating</b> module in JDK 25 (JEP 508, its tenth
 * incubation): it must be added with {@code --add-modules jdk.incubator.vector} at compile and run time, and it may
 * change or be removed in a later release.
 *
 * <p>The two kernels are chosen for how HotSpot's C2 compiler treats their scalar loops:
 * <ul>
 *   <li>{@link #dotScalar}: one {@code float} accumulator. Float addition is not associative, and Java fixes the
 *       order of the sum, so C2 does not split the reduction over SIMD lanes: the loop runs one element at a time.</li>
 *   <li>{@link #saxpyScalar}: each element independent ({@code out[i] = alpha * x[i] + y[i]}); C2's superword pass
 *       auto-vectorizes this loop, so the Vector API has little left to add.</li>
 * </ul>
 *
 * <p>All methods are stateless and thread-safe; callers running them on several threads give each thread its own
 * index range (and, for saxpy, disjoint output ranges).
 */
final class FloatKernels {

    /** The widest float vector shape this CPU supports (8 lanes with AVX2, 16 with AVX-512). */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private FloatKernels() {
    }

    /** Sum of {@code a[i] * b[i]} over {@code [from, to)}, in index order. */
    static float dotScalar(float[] a, float[] b, int from, int to) {
        float sum = 0;
        for (int i = from; i < to; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** Sum of {@code a[i] * b[i]} over {@code [from, to)}, lane-wise with fused multiply-adds, then across lanes. */
    static float dotVector(float[] a, float[] b, int from, int to) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = from;
        for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += SPECIES.length()) {
            acc = FloatVector.fromArray(SPECIES, a, i).fma(FloatVector.fromArray(SPECIES, b, i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** {@code out[i] = alpha * x[i] + y[i]} over {@code [from, to)}. */
    static void saxpyScalar(float alpha, float[] x, float[] y, float[] out, int from, int to) {
        for (int i = from; i < to; i++) {
            out[i] = alpha * x[i] + y[i];
        }
    }

    /** {@code out[i] = alpha * x[i] + y[i]} over {@code [from, to)}, one vector of lanes at a time. */
    static void saxpyVector(float alpha, float[] x, float[] y, float[] out, int from, int to) {
        int i = from;
        for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, i).mul(alpha).add(FloatVector.fromArray(SPECIES, y, i))
                    .intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = alpha * x[i] + y[i];
        }
    }
}

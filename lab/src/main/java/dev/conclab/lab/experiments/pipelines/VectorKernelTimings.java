package dev.conclab.lab.experiments.pipelines;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The JVM half of {@link VectorizationExperiment}, run in a child JVM started with
 * {@code --add-modules jdk.incubator.vector}: only this process resolves the incubating module, so only the run of
 * that experiment prints the JDK's "Using incubator modules" warning, not every lab command.
 *
 * <p>Arguments: {@code SWEEPS REPEATS}. Warms every kernel up to C2, then times six variants in turns (one run of
 * each, then again, {@code REPEATS} times): scalar and Vector API dot product on one thread, scalar and Vector API
 * saxpy on one thread, scalar and Vector API dot product on two threads. Prints one line of JSON on stdout:
 * {@code {"lanes":L,"scalarSum":S,"vectorSum":V,"seconds":{"dotScalar1":[...],...}}}.
 */
final class VectorKernelTimings {

    static final int THREADS = 2;
    /** 64 Ki floats: 256 KiB per array, so a sweep stays in L2/L3 and measures arithmetic, not DRAM bandwidth. */
    static final int LENGTH = 1 << 16;
    /** The variants, in the order they take turns and are printed. */
    static final List<String> VARIANTS = List.of("dotScalar1", "dotVector1", "saxpyScalar1", "saxpyVector1",
            "dotScalar2", "dotVector2");
    /** Every sweep's result lands here, so the JIT cannot drop a dot product whose value is never used. */
    private static volatile float sink;

    /** A kernel over one index range; returns a value so the JIT cannot drop the work. */
    private interface RangeKernel {
        float run(int from, int to);
    }

    private VectorKernelTimings() {
    }

    public static void main(String[] args) throws Exception {
        int sweeps = Integer.parseInt(args[0]);
        int repeats = Integer.parseInt(args[1]);
        SplittableRandom random = new SplittableRandom(42);
        float[] a = new float[LENGTH];
        float[] b = new float[LENGTH];
        float[] out = new float[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            a[i] = (float) random.nextDouble();
            b[i] = (float) random.nextDouble();
        }
        RangeKernel dotScalar = (from, to) -> FloatKernels.dotScalar(a, b, from, to);
        RangeKernel dotVector = (from, to) -> FloatKernels.dotVector(a, b, from, to);
        RangeKernel saxpyScalar = (from, to) -> {
            FloatKernels.saxpyScalar(0.5f, a, b, out, from, to);
            return out[from];
        };
        RangeKernel saxpyVector = (from, to) -> {
            FloatKernels.saxpyVector(0.5f, a, b, out, from, to);
            return out[from];
        };
        for (RangeKernel kernel : List.of(dotScalar, dotVector, saxpyScalar, saxpyVector)) {
            sweep(kernel, 0, LENGTH, Math.max(200, sweeps / 4)); // reach C2 before timing
        }

        List<List<Double>> seconds = new ArrayList<>();
        VARIANTS.forEach(v -> seconds.add(new ArrayList<>()));
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Timed> variants = List.of(
                    () -> sweep(dotScalar, 0, LENGTH, sweeps),
                    () -> sweep(dotVector, 0, LENGTH, sweeps),
                    () -> sweep(saxpyScalar, 0, LENGTH, sweeps),
                    () -> sweep(saxpyVector, 0, LENGTH, sweeps),
                    () -> split(pool, dotScalar, sweeps),
                    () -> split(pool, dotVector, sweeps));
            // Turns give one and two threads the same share of the machine's fast and slow spells: measured one
            // phase after the other, they once came out at 0.95x on an idle 2-vCPU VM.
            for (int r = 0; r < repeats; r++) {
                for (int v = 0; v < variants.size(); v++) {
                    long start = System.nanoTime();
                    variants.get(v).run();
                    seconds.get(v).add((System.nanoTime() - start) / 1e9);
                }
            }
        }

        StringBuilder json = new StringBuilder().append("{\"lanes\":").append(FloatKernels.SPECIES.length())
                .append(",\"scalarSum\":").append(FloatKernels.dotScalar(a, b, 0, LENGTH))
                .append(",\"vectorSum\":").append(FloatKernels.dotVector(a, b, 0, LENGTH))
                .append(",\"seconds\":{");
        for (int v = 0; v < VARIANTS.size(); v++) {
            json.append(v == 0 ? "" : ",").append('"').append(VARIANTS.get(v)).append("\":").append(seconds.get(v));
        }
        System.out.println(json.append("}}"));
    }

    @FunctionalInterface
    private interface Timed {
        void run() throws Exception;
    }

    private static float sweep(RangeKernel kernel, int from, int to, int sweeps) {
        float sum = 0;
        for (int s = 0; s < sweeps; s++) {
            sum += kernel.run(from, to);
        }
        sink = sum;
        return sum;
    }

    /** The same sweeps, each thread over its own contiguous half of the arrays. */
    private static void split(ExecutorService pool, RangeKernel kernel, int sweeps) throws Exception {
        List<Future<Float>> parts = new ArrayList<>(THREADS);
        int chunk = LENGTH / THREADS;
        for (int t = 0; t < THREADS; t++) {
            int from = t * chunk;
            int to = t == THREADS - 1 ? LENGTH : from + chunk;
            parts.add(pool.submit(() -> sweep(kernel, from, to, sweeps)));
        }
        for (Future<Float> part : parts) {
            part.get();
        }
    }
}

package dev.conclab.lab.experiments.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import dev.conclab.toolkit.process.JvmLauncher;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Parallelism vs vectorization vs multiprocessing: one dot product done four ways on the JVM, three ways in CPython.
 *
 * <p><b>BASELINE:</b> a scalar loop on one thread ({@code sum += a[i] * b[i]}). <b>Variants:</b>
 * <ul>
 *   <li>the JDK Vector API ({@code jdk.incubator.vector}, <b>incubating</b> in JDK 25 as JEP 508): one instruction
 *       multiplies and adds 8 or 16 lanes at once, on one core;</li>
 *   <li>the scalar loop on two threads, each over half the arrays: two cores, one lane each;</li>
 *   <li>both: the Vector API on two threads.</li>
 * </ul>
 * The scalar dot product is a loop C2 does <em>not</em> auto-vectorize (a float sum has a fixed order). As a
 * control, saxpy ({@code out[i] = alpha * x[i] + y[i]}) is a loop C2 <em>does</em> auto-vectorize, so there the
 * Vector API gains little. The arrays are sized to stay in cache and are swept many times, so the runs measure
 * arithmetic rather than memory bandwidth. Checked by hand on an AVX-512 machine: with {@code -XX:-UseSuperWord}
 * (C2's auto-vectorizer off) the scalar saxpy loop gets about 2.7× slower and fails {@link #SAXPY_AUTO_VECTORIZED},
 * while the scalar dot product keeps its speed: it was never vectorized.
 *
 * <p>The JVM variants run in a child JVM ({@link VectorKernelTimings}), the only process that adds the incubating
 * module, so the rest of the lab runs without it and without its start-up warning.
 *
 * <p>CPython (probe {@code vectorize.py}): {@code numpy.dot} (C with SIMD) vs a pure-Python loop vs the loop split
 * over two {@code multiprocessing} worker processes.
 *
 * <p>Run: {@code ./conclab run vectorization}. Expect several × from the Vector API on the dot product, about 1×
 * on saxpy, about 2× from a second core (on two idle cores), the two multiplying; numpy tens of × a Python loop.
 * The JVM variants take turns (one run of each, then again), so the machine's fast and slow spells fall on all of
 * them: measured one phase after the other, one and two threads once came out at 0.95× on an idle 2-vCPU VM.
 */
public final class VectorizationExperiment implements Experiment {

    static final ClaimSpec VECTOR_DOT = new ClaimSpec("vector-dot",
            "On one thread, the Vector API dot product is at least 2× faster than the scalar loop, which C2 does not"
                    + " auto-vectorize.");
    static final ClaimSpec SAXPY_AUTO_VECTORIZED = new ClaimSpec("saxpy-auto-vectorized",
            "On saxpy, a loop C2 auto-vectorizes, the Vector API is at most 1.8× faster than the plain loop.");
    static final ClaimSpec SAME_SUM = new ClaimSpec("same-sum",
            "The scalar and Vector API dot products agree within a relative error of 1e-4 (they add in different"
                    + " orders).");
    static final ClaimSpec THREADS_SCALAR = new ClaimSpec("threads-scalar",
            "Two threads run the scalar dot product at least 1.5× faster than one (needs 2 cores).");
    static final ClaimSpec THREADS_VECTOR = new ClaimSpec("threads-vector",
            "Two threads run the Vector API dot product at least 1.5× faster than one, so the gains multiply"
                    + " (needs 2 cores).");
    static final ClaimSpec NUMPY_VS_LOOP = new ClaimSpec("numpy-vs-loop",
            "numpy's vectorized dot product is at least 20× faster per element than a pure-Python loop.");
    static final ClaimSpec PY_PROCESSES = new ClaimSpec("py-processes",
            "A pure-Python loop split over 2 worker processes is at least 1.3× faster than on one process (needs 2"
                    + " cores).");

    private static final int THREADS = VectorKernelTimings.THREADS;
    private static final int LENGTH = VectorKernelTimings.LENGTH;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String id() {
        return "vectorization";
    }

    @Override
    public String title() {
        return "Scalar loop vs Vector API vs threads vs both, and numpy vs Python loop vs processes";
    }

    @Override
    public String description() {
        return "Times one float dot product as a scalar loop, with the incubating JDK Vector API, on two threads and"
                + " both together (with saxpy, which C2 auto-vectorizes, as a control), and in CPython with numpy, a"
                + " Python loop and multiprocessing.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("sweeps", "sweeps over two 64 Ki-float arrays per timed run", 10, 1_000_000,
                        3_000, 600),
                new Param.IntParam("numpy-n", "elements in numpy's dot product", 1_000, 50_000_000,
                        4_000_000, 2_000_000),
                new Param.IntParam("py-n", "elements in the pure-Python loop", 1_000, 5_000_000,
                        1_000_000, 1_000_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(VECTOR_DOT, SAXPY_AUTO_VECTORIZED, SAME_SUM, THREADS_SCALAR, THREADS_VECTOR, NUMPY_VS_LOOP,
                PY_PROCESSES);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int sweeps = ctx.intParam("sweeps");
        ctx.progress(0.05, "JVM: the kernels in a child JVM with the incubating Vector API module");
        JsonNode jvm = timeKernels(ctx, sweeps);
        JsonNode seconds = jvm.path("seconds");
        Timing scalarOne = timing(seconds, "dotScalar1");
        Timing vectorOne = timing(seconds, "dotVector1");
        Timing saxpyScalarOne = timing(seconds, "saxpyScalar1");
        Timing saxpyVectorOne = timing(seconds, "saxpyVector1");
        Timing scalarTwo = timing(seconds, "dotScalar2");
        Timing vectorTwo = timing(seconds, "dotVector2");

        Table.Builder table = Table.builder("Dot product of two " + LENGTH + "-float arrays, " + sweeps
                        + " sweeps (best of " + ctx.repeats() + "; Vector API: " + jvm.path("lanes").asInt()
                        + " float lanes)", "variant", "runtime", "ms", "ns per element", "× scalar 1 thread")
                .row("scalar loop, 1 thread", "JVM", scalarOne.bestMillis(), perElement(scalarOne, sweeps), 1.0)
                .row("Vector API, 1 thread", "JVM", vectorOne.bestMillis(), perElement(vectorOne, sweeps),
                        Measure.speedup(scalarOne, vectorOne))
                .row("scalar loop, " + THREADS + " threads", "JVM", scalarTwo.bestMillis(),
                        perElement(scalarTwo, sweeps), Measure.speedup(scalarOne, scalarTwo))
                .row("Vector API, " + THREADS + " threads", "JVM", vectorTwo.bestMillis(),
                        perElement(vectorTwo, sweeps), Measure.speedup(scalarOne, vectorTwo));

        ctx.table(Table.builder("Control: saxpy, a loop C2 auto-vectorizes (same arrays and sweeps, best of "
                        + ctx.repeats() + ")", "variant", "ms", "ns per element", "× scalar loop")
                .row("scalar loop, 1 thread", saxpyScalarOne.bestMillis(), perElement(saxpyScalarOne, sweeps), 1.0)
                .row("Vector API, 1 thread", saxpyVectorOne.bestMillis(), perElement(saxpyVectorOne, sweeps),
                        Measure.speedup(saxpyScalarOne, saxpyVectorOne))
                .build());
        ctx.claim(VECTOR_DOT, Verdict.atLeast("Vector API vs scalar dot product, 1 thread",
                Measure.speedup(scalarOne, vectorOne), 2.0));
        ctx.claim(SAXPY_AUTO_VECTORIZED, Verdict.atMost("Vector API vs auto-vectorized scalar saxpy, 1 thread",
                Measure.speedup(saxpyScalarOne, saxpyVectorOne), 1.8));
        double scalarSum = jvm.path("scalarSum").asDouble();
        double vectorSum = jvm.path("vectorSum").asDouble();
        double relativeError = Math.abs(scalarSum - vectorSum) / Math.abs(scalarSum);
        ctx.claim(SAME_SUM, Verdict.check(relativeError <= 1e-4, String.format(
                "scalar %.6f, Vector API %.6f: relative error %.2e (limit 1e-4)", scalarSum, vectorSum,
                relativeError)));
        if (ctx.requireCores(THREADS_SCALAR, THREADS)) {
            ctx.claim(THREADS_SCALAR, Verdict.atLeast("2 threads vs 1, scalar dot product",
                    Measure.speedup(scalarOne, scalarTwo), 1.5));
        }
        if (ctx.requireCores(THREADS_VECTOR, THREADS)) {
            ctx.claim(THREADS_VECTOR, Verdict.atLeast("2 threads vs 1, Vector API dot product",
                    Measure.speedup(vectorOne, vectorTwo), 1.5));
        }

        ctx.progress(0.55, "CPython: numpy, a Python loop, processes");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("vectorize.py", List.of(), Duration.ofSeconds(120),
                "--n", Integer.toString(ctx.intParam("numpy-n")),
                "--py-n", Integer.toString(ctx.intParam("py-n")),
                "--workers", Integer.toString(THREADS),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, NUMPY_VS_LOOP, PY_PROCESSES);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double numpyNs = json.path("numpy_ns_per_el").asDouble();
                double loopNs = json.path("loop_ns_per_el").asDouble();
                double loopS = json.path("loop_s").asDouble();
                double processesS = json.path("processes_s").asDouble();
                int pyN = json.path("py_n").asInt();
                table.row("numpy.dot (" + json.path("n").asInt() + " elements)", "CPython",
                                json.path("numpy_s").asDouble() * 1e3, numpyNs, "—")
                        .row("Python loop, 1 process (" + pyN + " elements)", "CPython", loopS * 1e3, loopNs,
                                "—")
                        .row("Python loop, " + THREADS + " processes (" + pyN + " elements)", "CPython",
                                processesS * 1e3, processesS / pyN * 1e9, "—");
                ctx.claim(NUMPY_VS_LOOP, Verdict.atLeast("numpy vs Python loop, per element", loopNs / numpyNs,
                        20));
                if (ctx.requireCores(PY_PROCESSES, THREADS)) {
                    ctx.claim(PY_PROCESSES, Verdict.atLeast(THREADS + " processes vs 1, Python loop",
                            loopS / processesS, 1.3));
                }
            }
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /**
     * Runs {@link VectorKernelTimings} in a child JVM with {@code --add-modules jdk.incubator.vector} and returns its
     * JSON. The child is tracked by the run, so a cancel kills it.
     */
    private static JsonNode timeKernels(RunContext ctx, int sweeps) throws Exception {
        Process child = ctx.children().track(JvmLauncher.ofCurrentJvm()
                .withOptions("--add-modules", "jdk.incubator.vector", "-Xshare:auto")
                .start(VectorKernelTimings.class, Integer.toString(sweeps), Integer.toString(ctx.repeats())));
        child.getOutputStream().close();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!child.waitFor(2, TimeUnit.MINUTES) || child.exitValue() != 0) {
            throw new IllegalStateException("the Vector API child JVM failed (exit "
                    + (child.isAlive() ? "none: still running" : child.exitValue()) + "): " + out.strip());
        }
        return JSON.readTree(out);
    }

    private static Timing timing(JsonNode seconds, String variant) {
        List<Double> samples = new ArrayList<>();
        seconds.path(variant).forEach(n -> samples.add(n.asDouble()));
        return new Timing(samples);
    }

    private static double perElement(Timing timing, int sweeps) {
        return timing.best() / ((double) sweeps * LENGTH) * 1e9;
    }
}

package dev.conclab.lab.experiments.basics;

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
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The GIL, measured: what a second thread buys in CPython, and what it buys on the JVM.
 *
 * <p><b>BASELINE:</b> one thread does all the work. <b>Variant:</b> the same work split over two threads.
 * <ul>
 *   <li>CPython, pure-Python loop: only the thread holding the global interpreter lock runs bytecode, and it hands
 *       the lock over every switch interval (5 ms by default). Two threads take turns; the work takes as long as on
 *       one thread, or a little longer (the hand-overs cost).</li>
 *   <li>CPython, {@code hashlib.sha256} on large buffers: the C code releases the GIL while it hashes (for data
 *       over 2047 bytes), so two threads hash on two cores at once.</li>
 *   <li>JVM, the same shape of loop: there is no global lock; two threads compute on two cores.</li>
 * </ul>
 *
 * <p>Run: {@code ./conclab run gil-cpu-threads}. Expect about 1× for pure Python, about 2× for hashlib and the JVM
 * on two idle cores.
 */
public final class GilCpuThreads implements Experiment {

    static final ClaimSpec SWITCH_INTERVAL = new ClaimSpec("switch-interval",
            "CPython's switch interval defaults to 5 ms (sys.getswitchinterval() returns 0.005).");
    static final ClaimSpec PURE_PYTHON_NO_SPEEDUP = new ClaimSpec("pure-python-no-speedup",
            "Pure-Python CPU-bound work gains at most 1.2× from a second thread.");
    static final ClaimSpec HASHLIB_RELEASES_GIL = new ClaimSpec("hashlib-releases-gil",
            "hashlib on large buffers releases the GIL, so two threads hash at least 1.5× faster than one"
                    + " (needs 2 cores).");
    static final ClaimSpec JVM_NO_GIL = new ClaimSpec("jvm-no-gil",
            "The same CPU-bound loop on two JVM threads is at least 1.5× faster than on one (needs 2 cores).");

    private static final int THREADS = 2;

    @Override
    public String id() {
        return "gil-cpu-threads";
    }

    @Override
    public String title() {
        return "One thread vs two: pure Python, hashlib and the JVM";
    }

    @Override
    public String description() {
        return "Splits the same CPU-bound work over one and two threads in CPython (a pure-Python loop, and hashlib"
                + " on large buffers, which releases the GIL) and on the JVM, and compares the speed-ups.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("py-iterations", "pure-Python loop iterations", 100_000, 1_000_000_000,
                        4_000_000, 1_500_000),
                new Param.IntParam("hash-mb", "MiB hashed with hashlib.sha256", 2, 4_096, 128, 64),
                new Param.IntParam("cpu-ms", "JVM CPU-bound work, in ms of one thread on this machine", 20, 60_000,
                        1_000, 300));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SWITCH_INTERVAL, PURE_PYTHON_NO_SPEEDUP, HASHLIB_RELEASES_GIL, JVM_NO_GIL);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.05, "JVM: one thread, then two");
        long rounds = CpuWork.roundsFor(ctx.intParam("cpu-ms")) / THREADS * THREADS;
        Timing jvmOne = Measure.bestOf(ctx.repeats(), ctx, () -> CpuWork.consume(rounds));
        Timing jvmTwo;
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            jvmTwo = Measure.bestOf(ctx.repeats(), ctx, () -> {
                List<Future<?>> halves = List.of(pool.submit(() -> CpuWork.consume(rounds / THREADS)),
                        pool.submit(() -> CpuWork.consume(rounds / THREADS)));
                for (Future<?> half : halves) {
                    half.get();
                }
            });
        }
        Table.Builder table = Table.builder("Same work on 1 and " + THREADS + " threads (best of " + ctx.repeats()
                + ")", "work", "runtime", "1 thread ms", THREADS + " threads ms", "speed-up")
                .row("xorshift loop", "JVM", jvmOne.bestMillis(), jvmTwo.bestMillis(), Measure.speedup(jvmOne, jvmTwo));
        if (ctx.requireCores(JVM_NO_GIL, 2)) {
            ctx.claim(JVM_NO_GIL, Verdict.atLeast("2 JVM threads vs 1", Measure.speedup(jvmOne, jvmTwo), 1.5));
        }

        ctx.progress(0.4, "CPython: pure Python and hashlib");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("gil_cpu.py", List.of(), Duration.ofSeconds(120),
                "--iterations", Integer.toString(ctx.intParam("py-iterations")),
                "--threads", Integer.toString(THREADS),
                "--hash-mb", Integer.toString(ctx.intParam("hash-mb")),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, SWITCH_INTERVAL, PURE_PYTHON_NO_SPEEDUP, HASHLIB_RELEASES_GIL);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double interval = json.path("switch_interval").asDouble();
                ctx.claim(SWITCH_INTERVAL, Verdict.check(interval == 0.005, String.format(
                        "sys.getswitchinterval() = %s on CPython %s", interval, ran.interpreter().version())));
                JsonNode pure = json.path("pure_python");
                double pureOne = pure.path("one_thread_s").asDouble();
                double pureTwo = pure.path("threads_s").asDouble();
                JsonNode hash = json.path("hashlib");
                double hashOne = hash.path("one_thread_s").asDouble();
                double hashTwo = hash.path("threads_s").asDouble();
                table.row("pure-Python loop", "CPython", pureOne * 1e3, pureTwo * 1e3, pureOne / pureTwo)
                        .row("hashlib.sha256, " + hash.path("megabytes").asInt() + " MiB", "CPython", hashOne * 1e3,
                                hashTwo * 1e3, hashOne / hashTwo);
                // "No speed-up" only means something with a second core free; on a busy machine the kernel favours
                // threads that take turns sleeping on the GIL over one that never sleeps, which reads as a speed-up.
                if (ctx.requireCores(PURE_PYTHON_NO_SPEEDUP, 2)) {
                    ctx.claim(PURE_PYTHON_NO_SPEEDUP, Verdict.atMost("2 CPython threads vs 1, pure Python",
                            pureOne / pureTwo, 1.2));
                }
                if (ctx.requireCores(HASHLIB_RELEASES_GIL, 2)) {
                    ctx.claim(HASHLIB_RELEASES_GIL, Verdict.atLeast("2 CPython threads vs 1, hashlib",
                            hashOne / hashTwo, 1.5));
                }
            }
        }
        Table result = table.build();
        ctx.table(result);
        for (int i = 0; i < result.rows().size(); i++) {
            List<Object> row = result.rows().get(i);
            ctx.series(new Series("Speed-up from a second thread", row.get(1) + " · " + row.get(0), "threads",
                    "× faster", List.of(new Series.Point(1, 1), new Series.Point(THREADS,
                    ((Number) row.get(4)).doubleValue()))));
        }
        ctx.progress(1, "done");
    }
}

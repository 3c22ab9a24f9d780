package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * joblib, measured: {@code Parallel(n_jobs=2)(delayed(f)(x) for x in xs)} on its three backends, with the work
 * that suits each.
 *
 * <p><b>BASELINE:</b> the tasks called one after another. <b>Variants:</b> the same tasks through
 * {@code Parallel(n_jobs=2)} with
 * <ul>
 *   <li>{@code backend="loky"} (the default: a reusable pool of worker processes) and {@code "multiprocessing"}
 *       (a {@code multiprocessing.Pool} per call): each worker has its own GIL, so pure-Python work speeds up;</li>
 *   <li>{@code backend="threading"}: about 1× on pure Python, because only one thread runs bytecode at a time,
 *       but fine for {@code hashlib} on large buffers, which releases the GIL;</li>
 *   <li>{@code batch_size=1} beside the default {@code 'auto'} on thousands of tiny tasks: auto-batching groups
 *       tasks so that one pipe round trip carries many;</li>
 *   <li>{@code n_jobs=-1} (one worker per CPU) and {@code joblib.Memory} (the second call with the same argument
 *       is loaded from disk instead of computed).</li>
 * </ul>
 * The JVM row runs the same kind of loop serially and on a parallel stream (the common {@link ForkJoinPool}).
 *
 * <p>The probe needs joblib (Debian: {@code python3-joblib}); without it the CPython claims are skipped.
 * Run: {@code ./conclab run joblib-parallel}.
 */
public final class JoblibParallel implements Experiment {

    static final ClaimSpec THREADING_HOLDS_GIL = new ClaimSpec("threading-holds-gil",
            "On pure-Python work the threading backend is at most 1.2× faster than calling the tasks one after"
                    + " another.");
    static final ClaimSpec PROCESS_BACKENDS = new ClaimSpec("process-backends",
            "On pure-Python work the loky backend with n_jobs=2 is at least 1.4× faster than the threading backend"
                    + " (needs 2 cores).");
    static final ClaimSpec THREADING_GIL_FREE = new ClaimSpec("threading-gil-free",
            "On hashlib, which releases the GIL, the threading backend with n_jobs=2 is at least 1.4× faster than"
                    + " serial calls (needs 2 cores).");
    static final ClaimSpec AUTO_BATCHING = new ClaimSpec("auto-batching",
            "For thousands of tiny tasks batch_size='auto' is at least 3× faster than batch_size=1.");
    static final ClaimSpec ALL_CPUS = new ClaimSpec("all-cpus",
            "n_jobs=-1 means one worker per CPU: joblib.effective_n_jobs(-1) equals os.cpu_count().");
    static final ClaimSpec MEMORY_CACHE = new ClaimSpec("memory-cache",
            "A second call of a joblib.Memory-cached function with the same argument returns the same result at"
                    + " least 10× faster.");

    private static final int JOBS = 2;

    @Override
    public String id() {
        return "joblib-parallel";
    }

    @Override
    public String title() {
        return "joblib: backends, batching and caching";
    }

    @Override
    public String description() {
        return "Runs pure-Python and hashlib tasks through joblib.Parallel on the loky, multiprocessing and"
                + " threading backends, compares batch sizes on tiny tasks, checks n_jobs=-1 and times a"
                + " joblib.Memory cache hit; the JVM row uses a parallel stream.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("py-iterations", "pure-Python loop iterations in total", 100_000, 1_000_000_000,
                        8_000_000, 2_000_000),
                new Param.IntParam("hash-mb", "MiB hashed per task", 2, 1_024, 64, 24),
                new Param.IntParam("tiny-tasks", "number of tiny tasks in the batching case", 100, 1_000_000,
                        5_000, 500),
                new Param.IntParam("cpu-ms", "JVM work, in ms of one thread on this machine", 20, 60_000, 800,
                        200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(THREADING_HOLDS_GIL, PROCESS_BACKENDS, THREADING_GIL_FREE, AUTO_BATCHING, ALL_CPUS,
                MEMORY_CACHE);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Serial vs parallel, " + JOBS + " jobs (best of " + ctx.repeats() + ")",
                "work", "how", "ms", "speed-up vs serial");
        ctx.progress(0.05, "CPython: joblib");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("joblib_backends.py", List.of("joblib"),
                Duration.ofSeconds(180),
                "--jobs", Integer.toString(JOBS),
                "--iterations", Integer.toString(ctx.intParam("py-iterations")),
                "--hash-mb", Integer.toString(ctx.intParam("hash-mb")),
                "--tiny-tasks", Integer.toString(ctx.intParam("tiny-tasks")),
                // Each repeat runs every backend and both batch sizes, so quick mode takes fewer of them.
                "--repeat", Integer.toString(ctx.quick() ? 5 : PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, THREADING_HOLDS_GIL, PROCESS_BACKENDS,
                    THREADING_GIL_FREE, AUTO_BATCHING, ALL_CPUS, MEMORY_CACHE);
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran.json(), table);
        }

        ctx.progress(0.7, "JVM: parallel stream");
        int tasks = 4 * ctx.cores();
        long roundsEach = CpuWork.roundsFor(ctx.intParam("cpu-ms")) / tasks;
        Timing serial = Measure.bestOf(ctx.repeats(), ctx,
                () -> IntStream.range(0, tasks).forEach(i -> CpuWork.consume(roundsEach)));
        Timing stream = Measure.bestOf(ctx.repeats(), ctx,
                () -> IntStream.range(0, tasks).parallel().forEach(i -> CpuWork.consume(roundsEach)));
        table.row("JVM xorshift loop, " + tasks + " tasks", "IntStream.parallel() (common ForkJoinPool, "
                + ForkJoinPool.getCommonPoolParallelism() + " workers + caller)", stream.bestMillis(),
                Measure.speedup(serial, stream));
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void judgePython(RunContext ctx, JsonNode json, Table.Builder table) {
        String version = "joblib " + json.path("joblib").asText();
        JsonNode cpu = json.path("cpu");
        double serial = cpu.path("serial_s").asDouble();
        double loky = cpu.path("loky_s").asDouble();
        double threading = cpu.path("threading_s").asDouble();
        String work = "pure Python, " + cpu.path("tasks").asInt() + " tasks";
        table.row(work, "serial calls", serial * 1e3, 1.0);
        for (String backend : List.of("loky", "multiprocessing", "threading")) {
            double seconds = cpu.path(backend + "_s").asDouble();
            table.row(work, version + ", backend=" + backend, seconds * 1e3, serial / seconds);
        }
        ctx.claim(THREADING_HOLDS_GIL, Verdict.atMost("threading backend vs serial, pure Python",
                serial / threading, 1.2));
        if (ctx.requireCores(PROCESS_BACKENDS, 2)) {
            ctx.claim(PROCESS_BACKENDS, Verdict.atLeast("loky vs threading, pure Python", threading / loky, 1.4));
        }

        JsonNode hash = json.path("gil_free");
        double hashSerial = hash.path("serial_s").asDouble();
        double hashThreads = hash.path("threading_s").asDouble();
        String hashWork = JOBS + " × hashlib.sha256 of " + hash.path("megabytes").asInt() + " MiB";
        table.row(hashWork, "serial calls", hashSerial * 1e3, 1.0)
                .row(hashWork, version + ", backend=threading", hashThreads * 1e3, hashSerial / hashThreads)
                .row(hashWork, version + ", backend=loky", hash.path("loky_s").asDouble() * 1e3,
                        hashSerial / hash.path("loky_s").asDouble());
        if (ctx.requireCores(THREADING_GIL_FREE, 2)) {
            ctx.claim(THREADING_GIL_FREE, Verdict.atLeast("threading backend vs serial, hashlib",
                    hashSerial / hashThreads, 1.4));
        }

        JsonNode batching = json.path("batching");
        double one = batching.path("batch_1_s").asDouble();
        double auto = batching.path("batch_auto_s").asDouble();
        String tinyWork = batching.path("tasks").asInt() + " tiny tasks (x + 1)";
        table.row(tinyWork, version + ", loky, batch_size=1", one * 1e3, "")
                .row(tinyWork, version + ", loky, batch_size='auto'", auto * 1e3, "");
        ctx.claim(AUTO_BATCHING, Verdict.atLeast("batch_size='auto' vs batch_size=1", one / auto, 3));

        JsonNode nJobs = json.path("n_jobs");
        int effective = nJobs.path("effective_minus_1").asInt();
        int cpus = nJobs.path("cpu_count").asInt();
        ctx.claim(ALL_CPUS, Verdict.check(effective == cpus && effective > 0, String.format(
                "joblib.effective_n_jobs(-1) = %d, os.cpu_count() = %d", effective, cpus)));

        JsonNode memory = json.path("memory");
        double first = memory.path("first_s").asDouble();
        double second = memory.path("second_s").asDouble();
        boolean same = memory.path("same_result").asBoolean();
        table.row("joblib.Memory-cached function", "first call (computes)", first * 1e3, "")
                .row("joblib.Memory-cached function", "second call, same argument (cache hit)", second * 1e3,
                        "");
        ctx.claim(MEMORY_CACHE, Verdict.check(same && first >= 10 * second, String.format(
                "first call %.2f ms, second %.3f ms (%.0f× faster, needs ≥ 10×); same result: %s", first * 1e3,
                second * 1e3, first / second, same)));
    }
}

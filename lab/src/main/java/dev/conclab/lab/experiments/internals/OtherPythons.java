package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.InterpreterFinder;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The GIL in other Pythons: PyPy keeps one, Jython never had one, and Cython lets C code step out of it.
 *
 * <p>Each runtime runs the same kind of CPU-bound work on one thread (BASELINE) and split over two threads:
 * <ul>
 *   <li><b>PyPy 3</b> (Debian's {@code pypy3}): a tracing JIT, and a GIL like CPython's — two threads gain
 *       nothing. Its one-thread time is also set against CPython's on the same loop, per iteration.</li>
 *   <li><b>Jython 2.7</b> (Debian's {@code jython}): Python compiled to JVM bytecode; Python threads are JVM threads
 *       and there is no GIL, so two threads use two cores. It runs on the JVM its launcher finds ({@code java} on
 *       the {@code PATH}); the table names which.</li>
 *   <li><b>Cython</b> (Debian's {@code cython3}, gcc and python3-dev): a tiny extension, compiled at run time and
 *       cached by source hash, runs a C loop inside {@code with nogil:} — two threads use two cores — and the same
 *       loop with the GIL held — <b>the serial one</b>: two threads take turns. A {@code prange} loop (OpenMP) is
 *       timed with one and two OpenMP threads when {@code -fopenmp} builds.</li>
 * </ul>
 * Each claim about a runtime is SKIPPED, with the package to install, when that runtime is missing. IronPython
 * (.NET, no GIL) and GraalPy (GraalVM, with a GIL) are not packaged for Debian and are only described in the card.
 *
 * <p>Run: {@code ./conclab run other-pythons}. Expect about 1× for PyPy threads (and PyPy ten or more times faster
 * than CPython on one thread), about 2× for Jython threads, Cython {@code nogil} threads and {@code prange} on two
 * idle cores, and about 1× for the Cython loop that holds the GIL. The first run also compiles the extension
 * (about a second or two); the table reports the build time and whether it came from the cache.
 */
public final class OtherPythons implements Experiment {

    static final ClaimSpec PYPY_HAS_GIL = new ClaimSpec("pypy-has-gil",
            "PyPy has a GIL: two threads run a pure-Python CPU-bound loop at most 1.3× faster than one (judged on 2 idle cores).");
    static final ClaimSpec PYPY_JIT_FASTER = new ClaimSpec("pypy-jit-faster",
            "PyPy's JIT runs the same pure-Python loop on one thread at least 2× faster than CPython, per iteration.");
    static final ClaimSpec JYTHON_NO_GIL = new ClaimSpec("jython-no-gil",
            "Jython has no GIL: two threads run a pure-Python CPU-bound loop at least 1.3× faster than one"
                    + " (needs 2 cores).");
    static final ClaimSpec CYTHON_NOGIL_SCALES = new ClaimSpec("cython-nogil-scales",
            "A Cython loop inside `with nogil:` runs at least 1.5× faster on two threads than on one (needs 2 cores).");
    static final ClaimSpec CYTHON_GIL_HELD = new ClaimSpec("cython-gil-held",
            "The same Cython loop run with the GIL held gains at most 1.3× from a second thread (judged on 2 idle cores).");
    static final ClaimSpec CYTHON_PRANGE_SCALES = new ClaimSpec("cython-prange-scales",
            "A Cython prange loop (OpenMP) runs at least 1.5× faster with two OpenMP threads than with one"
                    + " (needs 2 cores).");

    private static final int THREADS = 2;

    @Override
    public String id() {
        return "other-pythons";
    }

    @Override
    public String title() {
        return "The GIL in PyPy, Jython and Cython: CPU-bound work on one thread and on two";
    }

    @Override
    public String description() {
        return "Runs CPU-bound work on one thread and on two in PyPy (which has a GIL), Jython (Python on JVM threads,"
                + " no GIL) and a Cython extension compiled at run time (a loop in `with nogil:`, the same loop"
                + " holding the GIL, and prange with OpenMP); each part is SKIPPED when its runtime is missing.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("py-iterations", "CPython loop iterations (the reference for PyPy's speed)",
                        100_000, 1_000_000_000, 3_000_000, 600_000),
                new Param.IntParam("pypy-iterations", "PyPy loop iterations", 1_000_000, 2_000_000_000,
                        100_000_000, 10_000_000),
                new Param.IntParam("jython-iterations", "Jython loop iterations", 100_000, 1_000_000_000,
                        40_000_000, 20_000_000),
                new Param.IntParam("cython-rounds", "rounds of the Cython C loop", 1_000_000, 2_000_000_000,
                        400_000_000, 30_000_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PYPY_HAS_GIL, PYPY_JIT_FASTER, JYTHON_NO_GIL, CYTHON_NOGIL_SCALES, CYTHON_GIL_HELD,
                CYTHON_PRANGE_SCALES);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder runtimes = Table.builder("Runtimes", "runtime", "Debian package", "executable", "version",
                "notes");
        Table.Builder table = Table.builder("Same CPU-bound work on 1 and " + THREADS + " threads (best of "
                + repeats(ctx) + ")", "work", "runtime", "1 thread ms", THREADS + " threads ms", "speed-up");

        ctx.progress(0.05, "PyPy");
        pypy(ctx, runtimes, table);
        ctx.progress(0.35, "Jython");
        jython(ctx, runtimes, table);
        ctx.progress(0.65, "Cython");
        cython(ctx, runtimes, table);

        runtimes.row("IronPython 3.4", "(not packaged)", "", "", "Python on .NET; no GIL. Described, not measured.")
                .row("GraalPy", "(not packaged)", "", "", "Python on GraalVM (Truffle); has a GIL. Described, not"
                        + " measured.");
        ctx.table(runtimes.build());
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private void pypy(RunContext ctx, Table.Builder runtimes, Table.Builder table) throws InterruptedException {
        Optional<Path> pypy = executable("pypy3");
        if (pypy.isEmpty()) {
            String why = "pypy3 not found on the PATH or in /usr/bin, /usr/local/bin (Debian: apt-get install pypy3)";
            ctx.claim(PYPY_HAS_GIL, Verdict.skipped(why));
            ctx.claim(PYPY_JIT_FASTER, Verdict.skipped(why));
            runtimes.row("PyPy 3", "pypy3", "(missing)", "", "");
            return;
        }
        int iterations = ctx.intParam("pypy-iterations");
        JsonNode run = RuntimeScripts.run(ctx, List.of(pypy.get().toString()), "gil_builds.py", Map.of(),
                timeout(ctx), "--mode", "threads", "--iterations", Integer.toString(iterations),
                "--threads", Integer.toString(THREADS), "--repeat", Integer.toString(repeats(ctx)));
        String version = run.path("version_text").asText().replace('\n', ' ');
        runtimes.row("PyPy 3", "pypy3", pypy.get().toString(), version, "tracing JIT; has a GIL");
        double one = run.path("one_thread_s").asDouble();
        double many = run.path("threads_s").asDouble();
        table.row("pure-Python loop, " + iterations + " iterations", "PyPy " + run.path("python").asText(),
                one * 1e3, many * 1e3, one / many);
        // "No speed-up" is only informative where a speed-up was possible: on two cores, not shared with neighbours.
        if (ctx.requireCores(PYPY_HAS_GIL, 2)) {
            ctx.claim(PYPY_HAS_GIL, Verdict.atMost(THREADS + " PyPy threads vs 1", one / many, 1.3));
        }

        switch (InterpreterFinder.system().find(List.of())) {
            case InterpreterFinder.Found.No(String reason) -> ctx.claim(PYPY_JIT_FASTER, Verdict.skipped(
                    "no CPython to compare with: " + reason));
            case InterpreterFinder.Found.Yes(var cpython) -> {
                int cpyIterations = ctx.intParam("py-iterations");
                JsonNode ref = RuntimeScripts.run(ctx, List.of(cpython.path().toString()), "gil_builds.py",
                        Map.of(), timeout(ctx), "--mode", "single", "--iterations", Integer.toString(cpyIterations),
                        "--repeat", Integer.toString(repeats(ctx)));
                double cpyOne = ref.path("one_thread_s").asDouble();
                table.row("pure-Python loop, " + cpyIterations + " iterations", "CPython " + cpython.version(),
                        cpyOne * 1e3, "", "");
                double nsCpython = cpyOne / cpyIterations * 1e9;
                double nsPypy = one / iterations * 1e9;
                ctx.claim(PYPY_JIT_FASTER, Verdict.atLeast(String.format("one thread, per iteration: CPython %s"
                                + " %.1f ns, PyPy %.2f ns", cpython.version(), nsCpython, nsPypy),
                        nsCpython / nsPypy, 2.0));
                ctx.note(String.format("PyPy ran the loop %.0f× faster than CPython %s per iteration.",
                        nsCpython / nsPypy, cpython.version()));
            }
        }
    }

    private void jython(RunContext ctx, Table.Builder runtimes, Table.Builder table) throws InterruptedException {
        Optional<Path> jython = executable("jython");
        if (jython.isEmpty()) {
            ctx.claim(JYTHON_NO_GIL, Verdict.skipped("jython not found on the PATH or in /usr/bin, /usr/local/bin"
                    + " (Debian: apt-get install jython)"));
            runtimes.row("Jython 2.7", "jython", "(missing)", "", "");
            return;
        }
        int iterations = ctx.intParam("jython-iterations");
        // The package cache scan costs seconds at start-up and is not needed for the standard library.
        JsonNode run = RuntimeScripts.run(ctx, List.of(jython.get().toString(), "-Dpython.cachedir.skip=true"),
                "jython_threads.py", Map.of(), timeout(ctx), Integer.toString(iterations),
                Integer.toString(repeats(ctx)));
        String jvm = run.path("java_vm").asText() + " " + run.path("java_version").asText() + " ("
                + run.path("java_home").asText() + ")";
        runtimes.row("Jython", "jython", jython.get().toString(), run.path("python").asText(),
                "no GIL; runs on " + jvm + ", the java its launcher found on the PATH");
        double one = run.path("one_thread_s").asDouble();
        double many = run.path("threads_s").asDouble();
        table.row("pure-Python loop, " + iterations + " iterations", "Jython on Java "
                + run.path("java_version").asText(), one * 1e3, many * 1e3, one / many);
        if (ctx.requireCores(JYTHON_NO_GIL, 2)) {
            // 1.3, not 1.5: Jython boxes every int, so two threads also share the allocator and the collector
            // (1.4–2.2× measured on the idle machine, 0.9× once in a quick run that was too short).
            ctx.claim(JYTHON_NO_GIL, Verdict.atLeast(THREADS + " Jython threads vs 1 (on " + jvm + ")", one / many,
                    1.3));
        }
    }

    private void cython(RunContext ctx, Table.Builder runtimes, Table.Builder table) throws InterruptedException {
        int rounds = ctx.intParam("cython-rounds");
        Path cache = Path.of(System.getProperty("java.io.tmpdir"), "conclab-cython");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("cython_nogil.py", List.of(), timeout(ctx),
                "--cache-dir", cache.toString(), "--iterations", Integer.toString(rounds),
                "--repeat", Integer.toString(repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, CYTHON_NOGIL_SCALES, CYTHON_GIL_HELD, CYTHON_PRANGE_SCALES);
                runtimes.row("Cython", "cython3", "(no CPython)", "", missing.reason());
            }
            case ProbeOutcome.Ran ran when ran.json().has("unavailable") -> {
                String why = ran.json().path("unavailable").asText();
                for (ClaimSpec claim : List.of(CYTHON_NOGIL_SCALES, CYTHON_GIL_HELD, CYTHON_PRANGE_SCALES)) {
                    ctx.claim(claim, Verdict.skipped(why));
                }
                runtimes.row("Cython", "cython3", "(missing)", "", why);
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode build = json.path("build");
                boolean openmp = build.path("openmp").asBoolean();
                runtimes.row("Cython", "cython3", "CPython " + ran.interpreter().version() + " ("
                                + ran.interpreter().path() + ")", build.path("cython").asText(),
                        (build.path("cached").asBoolean() ? "extension from the cache"
                                : String.format("extension built in %.2f s", build.path("seconds").asDouble()))
                                + " with " + build.path("compiler").asText()
                                + (openmp ? ", OpenMP on" : ", OpenMP off: " + build.path("openmp_error").asText())
                                + "; " + build.path("module_dir").asText());
                String work = rounds + " rounds of a C loop";
                double nogil = row(table, json.path("nogil"), work + ", `with nogil:`", "Cython, threads");
                double gil = row(table, json.path("gil"), work + ", GIL held (serial)", "Cython, threads");
                if (ctx.requireCores(CYTHON_NOGIL_SCALES, 2)) {
                    ctx.claim(CYTHON_NOGIL_SCALES, Verdict.atLeast(THREADS + " threads vs 1, nogil loop", nogil,
                            1.5));
                }
                if (ctx.requireCores(CYTHON_GIL_HELD, 2)) {
                    ctx.claim(CYTHON_GIL_HELD, Verdict.atMost(THREADS + " threads vs 1, loop holding the GIL", gil,
                            1.3));
                }
                if (!openmp) {
                    ctx.claim(CYTHON_PRANGE_SCALES, Verdict.skipped("the extension did not build with -fopenmp: "
                            + build.path("openmp_error").asText()));
                } else {
                    double prange = row(table, json.path("prange"), work + ", prange over 2 chunks",
                            "Cython, OpenMP threads");
                    if (ctx.requireCores(CYTHON_PRANGE_SCALES, 2)) {
                        ctx.claim(CYTHON_PRANGE_SCALES, Verdict.atLeast("2 OpenMP threads vs 1, prange", prange,
                                1.5));
                    }
                }
            }
        }
    }

    /** Adds one measured row and returns its speed-up. */
    private static double row(Table.Builder table, JsonNode pair, String work, String runtime) {
        double one = pair.path("one_thread_s").asDouble();
        double many = pair.path("threads_s").asDouble();
        table.row(work, runtime, one * 1e3, many * 1e3, one / many);
        return one / many;
    }

    /** Best-of count: runs of compiled or JIT-compiled code vary less than CPython's, so fewer suffice. */
    private static int repeats(RunContext ctx) {
        return ctx.repeats() + 2;
    }

    private static Duration timeout(RunContext ctx) {
        return ctx.quick() ? Duration.ofSeconds(60) : Duration.ofMinutes(5);
    }

    /** The first executable {@code name} on the PATH, then in /usr/bin and /usr/local/bin. */
    static Optional<Path> executable(String name) {
        return PythonBuilds.searchFolders().stream().map(f -> f.resolve(name))
                .filter(f -> Files.isRegularFile(f) && Files.isExecutable(f)).findFirst();
    }
}

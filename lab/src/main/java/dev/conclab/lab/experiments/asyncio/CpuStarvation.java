package dev.conclab.lab.experiments.asyncio;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.asyncio.CpuStarvationJvm.JvmSide;
import dev.conclab.lab.experiments.asyncio.CpuStarvationPython.PySide;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * CPU starvation in an event loop: one CPU-bound handler makes every other request wait, and four ways out.
 *
 * <p>A "server" loop receives small requests at a fixed rate, one every {@value #GAP_MS} ms (open loop: request
 * <i>i</i> is due at start + <i>i</i> ms whatever the loop is doing, like clients that do not wait for each other),
 * and answers each with a tiny callback that records its <b>lateness</b>: when it ran minus when it was due. Meanwhile
 * one handler does C ms of CPU work (parameter {@code cpu-ms}; the iteration count is calibrated to take C ms alone),
 * starting {@value #LEAD_MS} ms after the first request; requests keep coming until {@value #LEAD_MS} ms after C.
 * The variants differ only in where that work runs:
 * <ol>
 *   <li><b>BASELINE — no CPU handler.</b> Lateness is the loop's timer resolution, about a millisecond.</li>
 *   <li><b>Broken — the work runs on the loop.</b> Nothing else runs until it returns: every request due meanwhile
 *       waits until its end, so the p99 lateness is about the handler's whole run time (the p50 too, when most
 *       requests arrive during it).</li>
 *   <li><b>Offload to a pool.</b> CPython: {@code await loop.run_in_executor(ProcessPoolExecutor, work)} (another
 *       interpreter, another GIL) and {@code await asyncio.to_thread(work)} (the loop's default
 *       {@code ThreadPoolExecutor}). <b>Beware the GIL:</b> pure-Python work in a thread holds the GIL, so every time
 *       the loop wakes for a request it waits for the worker to let go, which it does after the switch interval
 *       (5 ms): the thread pool cures the starvation but leaves a lateness of about one switch interval that the
 *       process pool does not have. JVM: the toolkit loop's {@code runInExecutor} on a one-thread pool; JVM threads
 *       have no GIL.</li>
 *   <li><b>Yield points.</b> The same work in chunks of about {@code chunk-ms}, giving the loop back after each:
 *       {@code await asyncio.sleep(0)} in CPython, a chunk that reschedules itself with {@code callSoon} on the
 *       JVM. Due requests run between chunks, so lateness is about one chunk; the work itself takes a little
 *       longer.</li>
 *   <li><b>A separate loop for CPU work.</b> CPython: a second event loop in its own thread, reached with
 *       {@code asyncio.run_coroutine_threadsafe} and awaited through {@code asyncio.wrap_future} (one thread, so the
 *       same GIL wait as {@code to_thread}).</li>
 *   <li><b>No loop to block — virtual threads (JVM).</b> Each request is a virtual thread that sleeps until it is
 *       due; the CPU work is one more virtual thread. The default scheduler has one carrier per core, so on two
 *       cores the work takes one carrier and the requests use the other. (On a one-carrier scheduler a CPU-bound
 *       virtual thread would starve the others just the same: see {@code cooperative-scheduling}.)</li>
 * </ol>
 * <b>The detector.</b> asyncio's debug mode ({@code asyncio.run(debug=True)}, {@code PYTHONASYNCIODEBUG=1} or
 * {@code -X dev}) logs every callback or task step that runs for at least {@code loop.slow_callback_duration}
 * (0.1 s by default) as "Executing &lt;Task …&gt; took 0.150 seconds". The probe captures those warnings for the
 * on-loop handler and for the chunked one. The toolkit loop has the same debug mode, and also a stall watchdog that
 * catches the loop thread's stack while it is stuck.
 *
 * <p>Claims compare the broken variant's p99 lateness with the handler's own run time measured in the same run, and
 * each cure's p99 with a quarter of C; each variant's reported run is the one with the smallest p99 of several
 * (taking turns). The CPython side runs the {@code cpu_starvation.py} probe; without a CPython 3 its claims are
 * skipped with the reason.
 *
 * <p>Run: {@code ./conclab run cpu-starvation -p cpu-ms=500}. Expect the broken variant's p99 lateness within a few
 * ms of C on both sides, every cure's p99 a few ms (to_thread's and the second loop's about the 5 ms switch interval,
 * the process pool's about 1 ms), and one slow-callback warning for the on-loop handler only.
 */
public final class CpuStarvation implements Experiment {

    static final ClaimSpec JVM_ON_LOOP_STARVES = new ClaimSpec("jvm-on-loop-starves",
            "Broken: a CPU-bound callback on the toolkit event loop makes the other requests' p99 lateness at least"
                    + " 0.8× its run time.");
    static final ClaimSpec JVM_RUN_IN_EXECUTOR = new ClaimSpec("jvm-run-in-executor",
            "With the work moved to a pool thread by runInExecutor, the other requests' p99 lateness stays under"
                    + " 0.25× the CPU time.");
    static final ClaimSpec JVM_CHUNKED = new ClaimSpec("jvm-chunked",
            "Split into chunks of about 1 ms that reschedule themselves with callSoon, the work leaves the other"
                    + " requests' p99 lateness under 0.25× the CPU time.");
    static final ClaimSpec JVM_VIRTUAL_THREADS = new ClaimSpec("jvm-virtual-threads",
            "With a virtual thread per request and one for the work, there is no single loop to block: p99 lateness"
                    + " stays under 0.25× the CPU time (needs 2 cores).");
    static final ClaimSpec JVM_DEBUG_DETECTS = new ClaimSpec("jvm-debug-detects",
            "In debug mode the toolkit loop reports the CPU-bound callback as slow (at least 100 ms) and its"
                    + " watchdog catches the loop thread inside the CPU work; the chunked version triggers neither.");
    static final ClaimSpec PY_ON_LOOP_STARVES = new ClaimSpec("py-on-loop-starves",
            "Broken: a CPU-bound handler on the asyncio loop makes the other requests' p99 lateness at least 0.8×"
                    + " its run time.");
    static final ClaimSpec PY_PROCESS_POOL = new ClaimSpec("py-process-pool",
            "With the work in a ProcessPoolExecutor through run_in_executor, the other requests' p99 lateness stays"
                    + " under 0.25× the CPU time.");
    static final ClaimSpec PY_TO_THREAD_GIL = new ClaimSpec("py-to-thread-gil",
            "With asyncio.to_thread the p99 lateness stays under 0.25× the CPU time, but not near zero: the worker"
                    + " thread holds the GIL, so the loop waits at least 0.8× the switch interval for it.");
    static final ClaimSpec PY_YIELD = new ClaimSpec("py-yield",
            "With await asyncio.sleep(0) after every chunk of about 1 ms, the other requests' p99 lateness stays"
                    + " under 0.25× the CPU time.");
    static final ClaimSpec PY_CPU_LOOP = new ClaimSpec("py-cpu-loop",
            "With the work on a second event loop in its own thread (run_coroutine_threadsafe), the other requests'"
                    + " p99 lateness stays under 0.25× the CPU time.");
    static final ClaimSpec PY_DEBUG_DETECTS = new ClaimSpec("py-debug-detects",
            "asyncio debug mode (slow_callback_duration 0.1 s by default) logs 'Executing … took … seconds' for the"
                    + " handler that runs on the loop, and nothing for the chunked one.");

    /** One request is due every this many ms. */
    static final int GAP_MS = 1;
    /** Requests start this long before the CPU work and go on this long after C. */
    static final int LEAD_MS = 20;
    /** A cure holds when the p99 lateness is under this fraction of C. */
    static final double CURE_FRACTION = 0.25;

    @Override
    public String id() {
        return "cpu-starvation";
    }

    @Override
    public String title() {
        return "CPU starvation: one CPU-bound handler on an event loop delays every other request, and the cures";
    }

    @Override
    public String description() {
        return "Serves a request every millisecond on an event loop (asyncio, and the toolkit's JVM loop) while one"
                + " handler does C ms of CPU work: on the loop, the others' p99 lateness is about C; offloaded to a"
                + " process or thread pool (the GIL's cost shown), split with yield points, on a second loop or on"
                + " virtual threads, it is a few ms. Debug mode's slow-callback warning is the detector.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("cpu-ms", "CPU work of the handler, in ms when run alone (C; at least 110 so that"
                        + " debug mode's 100 ms threshold is crossed)", 110, 5_000, 200, 120),
                new Param.IntParam("chunk-ms", "size of one chunk between yield points, in ms", 1, 20, 1, 1));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_ON_LOOP_STARVES, JVM_RUN_IN_EXECUTOR, JVM_CHUNKED, JVM_VIRTUAL_THREADS, JVM_DEBUG_DETECTS,
                PY_ON_LOOP_STARVES, PY_PROCESS_POOL, PY_TO_THREAD_GIL, PY_YIELD, PY_CPU_LOOP, PY_DEBUG_DETECTS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int cpuMs = ctx.intParam("cpu-ms");
        int chunkMs = ctx.intParam("chunk-ms");

        ctx.progress(0.02, "JVM: the toolkit loop, " + cpuMs + " ms of CPU work");
        JvmSide jvm = CpuStarvationJvm.run(ctx, cpuMs, chunkMs);
        ctx.progress(0.5, "CPython: cpu_starvation.py");
        PySide py = CpuStarvationPython.run(ctx, cpuMs, chunkMs);

        Table.Builder table = Table.builder("Lateness of the other requests (one due every " + GAP_MS + " ms) while a"
                        + " handler does " + cpuMs + " ms of CPU work; smallest p99 of several runs", "side",
                "where the CPU work runs", "requests", "p50 ms", "p99 ms", "max ms", "work took ms");
        if (py != null) {
            for (Map.Entry<String, Lateness> e : py.variants().entrySet()) {
                table.row(row("CPython " + py.version(), pyLabel(e.getKey(), chunkMs), e.getValue()));
            }
        }
        for (Map.Entry<String, Lateness> e : jvm.variants().entrySet()) {
            table.row(row("JVM", jvmLabel(e.getKey(), chunkMs), e.getValue()));
        }
        ctx.table(table.build());

        Table.Builder detector = Table.builder("The detector: debug mode's slow-callback report", "side", "variant",
                "reports", "first report");
        if (py != null) {
            detector.row("CPython", "on the loop", py.onLoopWarnings().size(), py.onLoopWarnings().isEmpty() ? "—"
                    : CpuStarvationPython.shorten(py.onLoopWarnings().getFirst()));
            detector.row("CPython", "chunks + asyncio.sleep(0)", py.yieldWarnings().size(),
                    py.yieldWarnings().isEmpty() ? "—" : CpuStarvationPython.shorten(py.yieldWarnings().getFirst()));
        }
        detector.row("JVM", "on the loop: slow callbacks", jvm.onLoopSlow().size(),
                jvm.onLoopSlow().isEmpty() ? "—" : jvm.onLoopSlow().getFirst());
        detector.row("JVM", "on the loop: watchdog stalls", jvm.onLoopStalls().size(),
                jvm.onLoopStalls().isEmpty() ? "—" : jvm.onLoopStalls().getFirst());
        detector.row("JVM", "chunks + callSoon: slow callbacks and stalls", jvm.chunkedSlow().size()
                + jvm.chunkedStalls().size(), "—");
        ctx.table(detector.build());

        series(ctx, "JVM", jvm.variants());
        if (py != null) {
            series(ctx, "CPython", py.variants());
        }
        ctx.progress(1, "done");
    }

    private static Object[] row(String side, String label, Lateness l) {
        return new Object[]{side, label, l.requests(), l.p50Ms(), l.p99Ms(), l.maxMs(),
                l.handlerMs() == 0 ? "—" : l.handlerMs()};
    }

    private static void series(RunContext ctx, String side, Map<String, Lateness> variants) {
        List<Series.Point> points = new ArrayList<>();
        int x = 0;
        for (Lateness l : variants.values()) {
            points.add(new Series.Point(x++, l.p99Ms()));
        }
        ctx.series(new Series("p99 lateness by variant", side, "variant (0 = baseline, 1 = on the loop, then the"
                + " cures in table order)", "ms", points));
    }

    static String pyLabel(String variant, int chunkMs) {
        return switch (variant) {
            case "baseline" -> "BASELINE: no CPU handler";
            case "on-loop" -> "Broken: on the loop";
            case "to-thread" -> "asyncio.to_thread (thread pool, shares the GIL)";
            case "process" -> "run_in_executor(ProcessPoolExecutor)";
            case "yield" -> "chunks of ~" + chunkMs + " ms + await asyncio.sleep(0)";
            case "cpu-loop" -> "a second loop in its own thread";
            default -> variant;
        };
    }

    static String jvmLabel(String variant, int chunkMs) {
        return switch (variant) {
            case "baseline" -> "BASELINE: no CPU handler";
            case "on-loop" -> "Broken: on the toolkit loop";
            case "executor" -> "runInExecutor (a pool thread)";
            case "chunked" -> "chunks of ~" + chunkMs + " ms rescheduled with callSoon";
            case "virtual" -> "virtual threads, no loop";
            default -> variant;
        };
    }

    static Verdict cure(String how, Lateness cure, int cpuMs, int repeats) {
        double bound = CURE_FRACTION * cpuMs;
        return Verdict.check(cure.p99Ms() < bound, String.format(
                "%s: p99 lateness %.1f ms, max %.1f ms, with the work taking %.1f ms (needs p99 < %.0f ms = %.2f× the"
                        + " %d ms of CPU work); smallest p99 of %d runs", how, cure.p99Ms(), cure.maxMs(),
                cure.handlerMs(), bound, CURE_FRACTION, cpuMs, repeats));
    }
}

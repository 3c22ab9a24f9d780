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
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.SelectorEventLoop;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An event loop is one thread running a queue of ready callbacks and a heap of timers: it takes the next ready
 * callback, runs it to its end, and when nothing is ready it sleeps until the earliest timer is due (or until I/O is
 * ready). Concurrency comes from callbacks that return quickly; nothing runs while a callback runs.
 *
 * <p>Both sides are measured, CPython's {@code asyncio} and a JVM loop of the same shape:
 * <ol>
 *   <li><b>BASELINE — one wait.</b> A single task that waits D ms takes D; that is the yardstick for the next
 *       step.</li>
 *   <li><b>N waits at once.</b> {@code asyncio.gather} of N coroutines that each {@code await asyncio.sleep(D)};
 *       on the JVM, N timers of D ms scheduled on a one-thread loop. Each wait is only an entry in the timer heap,
 *       so all N finish in about D, not N×D — and every one of them ran on the same single OS thread.</li>
 *   <li><b>A blocking callback — the broken variant.</b> A heartbeat runs every 10 ms. One coroutine calls
 *       {@code time.sleep(B)} (on the JVM, one callback calls {@code Thread.sleep(B)}): a blocking call inside the
 *       loop. The loop's only thread is stuck in it, so the heartbeat — and every other callback — waits; the
 *       largest gap between heartbeats grows from about 10 ms (the same heartbeat without the blocking call, shown
 *       beside it) to about B. On the JVM a callback that was already ready when the blocking one started is also shown: it
 *       waits about B too. The fix in asyncio is {@code await asyncio.sleep}, or {@code asyncio.to_thread} for
 *       a call that must block.</li>
 * </ol>
 * "Late by" is the largest gap between two heartbeats minus the 10 ms the heartbeat asked for. The blocking call
 * starts right after one heartbeat, so the next heartbeat is late by at least B − 10 ms; that is why B starts at
 * 50 ms, where B − 10 ms is 0.8×B.
 *
 * <p>The JVM loop is the toolkit's {@link SelectorEventLoop}: a ready queue, a timer heap and a selector served by
 * one thread, in the shape of asyncio's own loop (experiment {@code loop-anatomy} takes it apart). As
 * {@code asyncio.run} does, it runs on the calling thread, inside {@code runUntilComplete}. The CPython side runs the
 * {@code asyncio_loop.py} probe; without a CPython 3 its claims are skipped with the reason.
 *
 * <p>Run: {@code ./conclab run event-loop -p tasks=10000 --trace loop.json}. Expect N coroutines or timers to finish
 * in a little over D on both sides, one thread on both, and the heartbeat late by about B − 10 ms on both. With a
 * very large N and a small D, creating N coroutines costs more than D itself and the "under 3×D" claims stop
 * holding: the loop is then busy, not waiting.
 */
public final class EventLoop implements Experiment {

    static final ClaimSpec PY_GATHER_CONCURRENT = new ClaimSpec("py-gather-concurrent",
            "asyncio runs N coroutines that each await a D ms sleep in under 3×D.");
    static final ClaimSpec PY_ONE_THREAD = new ClaimSpec("py-one-thread",
            "All those coroutines run on one OS thread.");
    static final ClaimSpec PY_BLOCKING_STALLS = new ClaimSpec("py-blocking-stalls",
            "One coroutine calling time.sleep(B) stalls the whole loop: a 10 ms heartbeat is late by at least 0.8×B.");
    static final ClaimSpec JVM_LOOP_CONCURRENT = new ClaimSpec("jvm-loop-concurrent",
            "A one-thread JVM loop completes N timers of D ms in under 3×D.");
    static final ClaimSpec JVM_BLOCKING_STALLS = new ClaimSpec("jvm-blocking-stalls",
            "A blocking callback on that loop delays the other callbacks by at least 0.8× its blocking time.");

    /** The heartbeat's period, on both sides. */
    static final int HEARTBEAT_MS = 10;
    /** The heartbeat runs for B plus this long, as the probe's does. */
    private static final int EXTRA_RUN_MS = 100;

    @Override
    public String id() {
        return "event-loop";
    }

    @Override
    public String title() {
        return "One thread, many waits: asyncio's event loop beside a one-thread JVM loop, and a blocking call in each";
    }

    @Override
    public String description() {
        return "Runs N waits of D ms on one event-loop thread (asyncio.gather in CPython, timers on a one-thread JVM"
                + " loop), then shows a blocking call inside the loop stalling a 10 ms heartbeat, on both sides.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "coroutines (CPython) and timers (JVM) that wait at once (N)", 1,
                        100_000, 1_000, 100),
                new Param.IntParam("delay-ms", "how long each of them waits, in ms (D)", 1, 1_000, 50, 50),
                new Param.IntParam("block-ms", "how long the blocking call blocks the loop, in ms (B)", 50, 5_000, 200,
                        100));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_GATHER_CONCURRENT, PY_ONE_THREAD, PY_BLOCKING_STALLS, JVM_LOOP_CONCURRENT,
                JVM_BLOCKING_STALLS);
    }

    /** What the JVM loop measured. */
    private record JvmSide(Timing timers, int timerThreads, double maxGapMs, double baselineMaxGapMs,
                           double queuedDelayMs) {
    }

    /** What the probe measured, in ms. */
    private record PySide(String version, double gatherMs, int distinctThreads, double maxGapMs,
                          double baselineMaxGapMs) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int tasks = ctx.intParam("tasks");
        int delay = ctx.intParam("delay-ms");
        int block = ctx.intParam("block-ms");
        int repeats = ctx.repeats();

        ctx.progress(0.02, "JVM: " + tasks + " timers on one thread");
        JvmSide jvm = jvm(ctx, tasks, delay, block, repeats);
        double jvmLate = jvm.maxGapMs() - HEARTBEAT_MS;
        ctx.claim(JVM_LOOP_CONCURRENT, Verdict.check(jvm.timers().bestMillis() < 3.0 * delay, String.format(
                "%d timers of %d ms on one loop thread all ran within %.1f ms, best of %d (needs < %d ms = 3×D);"
                        + " %d distinct thread(s) ran them", tasks, delay, jvm.timers().bestMillis(), repeats,
                3 * delay, jvm.timerThreads())));
        ctx.claim(JVM_BLOCKING_STALLS, Verdict.check(jvmLate >= 0.8 * block && jvm.queuedDelayMs() >= 0.8 * block,
                String.format("a callback blocking %d ms: the %d ms heartbeat's largest gap was %.1f ms, so it ran"
                                + " %.1f ms late (%.2f×B), and a callback ready when it started waited %.1f ms"
                                + " (%.2f×B); without it the largest gap was %.1f ms; fewest of %d runs (needs both"
                                + " ≥ %.0f ms = 0.8×B)", block, HEARTBEAT_MS, jvm.maxGapMs(), jvmLate,
                        jvmLate / block, jvm.queuedDelayMs(), jvm.queuedDelayMs() / block, jvm.baselineMaxGapMs(),
                        repeats, 0.8 * block)));

        ctx.progress(0.5, "CPython: asyncio_loop.py");
        PySide py = python(ctx, tasks, delay, block, repeats);

        Table.Builder table = Table.builder("asyncio and a one-thread JVM loop, side by side (N = " + tasks + ", D = "
                + delay + " ms, B = " + block + " ms; best of " + repeats + ")", "measure", "CPython", "JVM");
        table.row("what the loop is", py == null ? "—" : "asyncio event loop, CPython " + py.version(),
                        "conclab toolkit SelectorEventLoop, 1 thread")
                .row("N waits of D ms all done after, ms", py == null ? "—" : py.gatherMs(),
                        jvm.timers().bestMillis())
                .row("… as a multiple of D", py == null ? "—" : py.gatherMs() / delay,
                        jvm.timers().bestMillis() / delay)
                .row("distinct OS threads that ran them", py == null ? "—" : py.distinctThreads(), jvm.timerThreads())
                .row("heartbeat (every " + HEARTBEAT_MS + " ms) largest gap, no blocking call, ms",
                        py == null ? "—" : py.baselineMaxGapMs(), jvm.baselineMaxGapMs())
                .row("heartbeat largest gap with a " + block + " ms blocking call, ms",
                        py == null ? "—" : py.maxGapMs(), jvm.maxGapMs())
                .row("heartbeat late by, ms", py == null ? "—" : py.maxGapMs() - HEARTBEAT_MS, jvmLate)
                .row("… as a multiple of B", py == null ? "—" : (py.maxGapMs() - HEARTBEAT_MS) / block,
                        jvmLate / block)
                .row("a callback ready when the blocking one started waited, ms", "—", jvm.queuedDelayMs());
        ctx.table(table.build());

        ctx.series(new Series("N waits of D ms on one thread", "JVM loop", "variant (1 one wait D, 2 N waits)", "ms",
                List.of(new Series.Point(1, delay), new Series.Point(2, jvm.timers().bestMillis()))));
        ctx.series(new Series("Heartbeat's largest gap", "JVM loop", "blocking call, ms (0 = none)", "ms",
                List.of(new Series.Point(0, jvm.baselineMaxGapMs()), new Series.Point(block, jvm.maxGapMs()))));
        if (py != null) {
            ctx.series(new Series("N waits of D ms on one thread", "CPython asyncio",
                    "variant (1 one wait D, 2 N waits)", "ms",
                    List.of(new Series.Point(1, delay), new Series.Point(2, py.gatherMs()))));
            ctx.series(new Series("Heartbeat's largest gap", "CPython asyncio", "blocking call, ms (0 = none)", "ms",
                    List.of(new Series.Point(0, py.baselineMaxGapMs()), new Series.Point(block, py.maxGapMs()))));
        }
        ctx.progress(1, "done");
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static PySide python(RunContext ctx, int tasks, int delay, int block, int repeats) throws Exception {
        // The probe's own work: per repeat, one gather (D plus creating N coroutines) and two heartbeats of B + 100 ms.
        long budget = 30_000 + (long) repeats * (2L * (block + EXTRA_RUN_MS) + delay + tasks / 10);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("asyncio_loop.py", List.of(), Duration.ofMillis(budget),
                "--tasks", Integer.toString(tasks),
                "--delay-ms", Integer.toString(delay),
                "--block-ms", Integer.toString(block),
                "--heartbeat-ms", Integer.toString(HEARTBEAT_MS),
                "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_GATHER_CONCURRENT, PY_ONE_THREAD, PY_BLOCKING_STALLS);
                ctx.note("CPython side skipped: " + missing.reason());
                return null;
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                PySide py = new PySide(ran.interpreter().version(),
                        number(json, "gather", "elapsed_s") * 1e3,
                        (int) number(json, "gather", "distinct_threads"),
                        number(json, "blocking", "max_gap_s") * 1e3,
                        number(json, "blocking", "baseline_max_gap_s") * 1e3);
                ctx.note("CPython side: " + ran.interpreter() + ", probe ran in " + String.format("%.1f s",
                        ran.seconds()));
                ctx.claim(PY_GATHER_CONCURRENT, Verdict.check(py.gatherMs() < 3.0 * delay, String.format(
                        "asyncio.gather of %d coroutines each awaiting asyncio.sleep(%d ms): %.1f ms, best of %d"
                                + " (needs < %d ms = 3×D); CPython %s", tasks, delay, py.gatherMs(), repeats,
                        3 * delay, py.version())));
                ctx.claim(PY_ONE_THREAD, Verdict.check(py.distinctThreads() == 1, String.format(
                        "%d coroutines × %d runs recorded %d distinct threading.get_ident() value(s) (needs exactly"
                                + " 1)", tasks, repeats, py.distinctThreads())));
                double late = py.maxGapMs() - HEARTBEAT_MS;
                ctx.claim(PY_BLOCKING_STALLS, Verdict.check(late >= 0.8 * block, String.format(
                        "a coroutine calling time.sleep(%d ms): the %d ms heartbeat's largest gap was %.1f ms, so it"
                                + " ran %.1f ms late (%.2f×B); without it the largest gap was %.1f ms; fewest of %d"
                                + " runs (needs ≥ %.0f ms = 0.8×B)", block, HEARTBEAT_MS, py.maxGapMs(), late,
                        late / block, py.baselineMaxGapMs(), repeats, 0.8 * block)));
                return py;
            }
        }
    }

    private static double number(JsonNode json, String group, String key) {
        JsonNode value = json.path(group).path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe asyncio_loop.py printed no number at " + group + "." + key + ": " + json);
        }
        return value.asDouble();
    }

    // ---- JVM ----------------------------------------------------------------------------------------------

    /**
     * Runs the JVM side on the toolkit's loop. The loop runs on the experiment's own thread, inside
     * {@code runUntilComplete}, as {@code asyncio.run} runs its loop on the calling thread: no thread is started.
     */
    private static JvmSide jvm(RunContext ctx, int tasks, int delay, int block, int repeats) throws Exception {
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("event-loop").build()) {
            Set<String> timerThreads = new HashSet<>(); // touched only on the loop thread
            Timing timers = Measure.bestOf(repeats, ctx, () -> timers(ctx, loop, tasks, delay, timerThreads, false));
            timers(ctx, loop, tasks, delay, timerThreads, true);

            ctx.progress(0.15, "JVM: heartbeat with and without a blocking callback");
            double baseline = Double.MAX_VALUE;
            double withBlock = Double.MAX_VALUE;
            double queued = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                ctx.checkCancelled();
                boolean traced = i == repeats - 1;
                baseline = Math.min(baseline, heartbeat(ctx, loop, 0, traced).maxGapMs());
                Beats beats = heartbeat(ctx, loop, block, traced);
                withBlock = Math.min(withBlock, beats.maxGapMs());
                queued = Math.min(queued, beats.queuedDelayMs());
                ctx.progress(0.15 + 0.3 * (i + 1) / repeats, "JVM: heartbeat, run " + (i + 1) + " of " + repeats);
            }
            return new JvmSide(timers, timerThreads.size(), withBlock, baseline, queued);
        }
    }

    /**
     * Posts one callback that schedules {@code tasks} timers of {@code delay} ms on the loop, and runs the loop until
     * the last has run. The counter is touched only by the loop's thread, so it needs no lock: that is the event
     * loop's bargain.
     */
    private static void timers(RunContext ctx, SelectorEventLoop loop, int tasks, int delay, Set<String> threads,
                               boolean traced) {
        String lane = "JVM loop · event-loop thread";
        LoopFuture<long[]> done = loop.createFuture("last of " + tasks + " timers");
        long start = System.nanoTime();
        loop.callSoon("schedule timers", () -> {
            int[] left = {tasks};
            long[] firstFired = {0};
            Runnable timer = () -> {
                threads.add(Thread.currentThread().getName());
                if (left[0] == tasks) {
                    firstFired[0] = System.nanoTime();
                }
                if (--left[0] == 0) {
                    done.setResult(new long[] {firstFired[0], System.nanoTime()});
                }
            };
            long scheduling = System.nanoTime();
            for (int i = 0; i < tasks; i++) {
                loop.callLater(Duration.ofMillis(delay), "timer", timer);
            }
            if (traced) {
                ctx.trace().span(lane, "schedule " + tasks + " timers of " + delay + " ms", scheduling,
                        System.nanoTime());
            }
        });
        long[] fired = loop.runUntilComplete(done);
        if (traced) {
            ctx.trace().span("JVM caller", "waits for the last of " + tasks + " timers", start, System.nanoTime());
            ctx.trace().span(lane, tasks + " timers fire, one after another", fired[0], fired[1]);
        }
    }

    /** One heartbeat run: the largest gap between beats, and how long a callback queued behind the block waited. */
    private record Beats(double maxGapMs, double queuedDelayMs) {
    }

    /**
     * Runs a heartbeat every {@link #HEARTBEAT_MS} ms (each beat schedules the next one {@link #HEARTBEAT_MS} ms after
     * it ran, like a loop of {@code await sleep}) for {@code block} + 100 ms. With {@code block > 0}, the second beat
     * schedules a callback that sleeps {@code block} ms and, right behind it, a callback that records how long it
     * waited to run.
     */
    private static Beats heartbeat(RunContext ctx, SelectorEventLoop loop, int block, boolean traced) {
        String lane = "JVM loop · event-loop thread" + (block > 0 ? ", blocking callback" : ", heartbeat only");
        LoopFuture<Double> gap = loop.createFuture("heartbeat's largest gap");
        double[] queued = {0};
        long runNanos = TimeUnit.MILLISECONDS.toNanos(block + EXTRA_RUN_MS);
        Runnable beat = new Runnable() {
            // Confined to the loop's thread.
            private int beats;
            private long first;
            private long previous;
            private long maxGap;

            @Override
            public void run() {
                long now = System.nanoTime();
                if (beats == 0) {
                    first = now;
                } else {
                    maxGap = Math.max(maxGap, now - previous);
                }
                previous = now;
                beats++;
                if (traced) {
                    ctx.trace().span(lane, "heartbeat", now, System.nanoTime());
                }
                if (beats == 2 && block > 0) {
                    loop.callSoon("blocking callback", () -> {
                        long from = System.nanoTime();
                        try {
                            Thread.sleep(block);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        if (traced) {
                            ctx.trace().span(lane, "blocking callback: Thread.sleep(" + block + ")", from,
                                    System.nanoTime());
                        }
                    });
                    long posted = System.nanoTime();
                    loop.callSoon("queued callback", () -> queued[0] = (System.nanoTime() - posted) / 1e6);
                }
                if (now - first >= runNanos) {
                    gap.setResult(maxGap / 1e6);
                } else {
                    loop.callLater(Duration.ofMillis(HEARTBEAT_MS), "heartbeat", this);
                }
            }
        };
        loop.callLater(Duration.ofMillis(HEARTBEAT_MS), "heartbeat", beat);
        return new Beats(loop.runUntilComplete(gap), queued[0]);
    }
}

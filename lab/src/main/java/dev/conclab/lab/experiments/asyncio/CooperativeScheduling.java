package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Cooperative multitasking, observed: a task that never gives the thread back starves every other task on it, and a
 * yield point is all it takes to fix that; preemptive OS threads need no yield points.
 *
 * <p>Every variant runs the same pair: a <b>ticker</b> that asks to run every 10 ms and records the largest gap
 * between two of its ticks, and a <b>CPU-bound worker</b> that starts after the ticker has ticked twice and burns
 * B ms by the clock, so the whole burn lies inside the ticker's run. The outcome does not depend on luck: a ticker
 * that cannot run during the burn has a gap of at least B by construction.
 * <ol>
 *   <li><b>Broken — asyncio, no await.</b> The worker is a coroutine that never awaits while it burns. The event
 *       loop can only switch at an {@code await}, so the ticker task's largest gap is at least B.</li>
 *   <li><b>Fixed — asyncio with {@code await asyncio.sleep(0)}</b> after every slice of about 0.1–0.3 ms: each is a
 *       yield point, and the loop runs the ticker when it is due. Its gap stays near 10 ms.</li>
 *   <li><b>CPython threads.</b> Ticker and worker are OS threads: the OS preempts, and a thread waiting for the GIL
 *       gets it within a switch interval (5 ms), so the ticker keeps ticking.</li>
 *   <li><b>Broken — JVM virtual threads on one carrier.</b> A child JVM with
 *       {@code -Djdk.virtualThreadScheduler.parallelism=1 -Djdk.virtualThreadScheduler.maxPoolSize=1}: virtual
 *       threads are not time-sliced (JEP 444), and a virtual thread that never blocks keeps its carrier, so the
 *       virtual ticker's gap is at least B.</li>
 *   <li><b>Fixed — {@code Thread.sleep(1)}</b> after every slice of the burn: a real park, which unmounts the
 *       virtual thread and leaves the carrier to the ticker for a millisecond. Its gap stays near 10 ms.</li>
 *   <li><b>{@code Thread.yield()}</b> after every slice, shown but not judged: its Javadoc calls it a hint the
 *       scheduler may ignore. On JDK 25 with one carrier the ticker was measured to wait about B anyway: the yielding
 *       thread is resubmitted and taken again before the ticker's wake-up. Do not rely on it as a yield point.</li>
 *   <li><b>JVM platform threads</b> in the same child: the OS preempts them; the ticker's gap stays near 10 ms.</li>
 * </ol>
 *
 * <p>The CPython side runs the {@code cooperative.py} probe; without a CPython 3 its claims are skipped with the
 * reason. Run: {@code ./conclab run cooperative-scheduling -p burn-ms=500}. Expect gaps of B plus a few ms in the
 * two broken variants (and for {@code Thread.yield()}) and 10–40 ms in the others.
 */
public final class CooperativeScheduling implements Experiment {

    static final ClaimSpec PY_NO_AWAIT_STARVES = new ClaimSpec("py-no-await-starves",
            "Broken: an asyncio coroutine that burns CPU for B ms without awaiting stops a 10 ms ticker task for the"
                    + " whole burn: the ticker's largest gap is at least B.");
    static final ClaimSpec PY_SLEEP0_YIELDS = new ClaimSpec("py-sleep0-yields",
            "With await asyncio.sleep(0) after every slice of the same burn, the ticker's largest gap stays under"
                    + " 0.4×B.");
    static final ClaimSpec PY_THREADS_PREEMPT = new ClaimSpec("py-threads-preempt",
            "With CPython OS threads instead, the ticker thread keeps ticking during the burn: its largest gap stays"
                    + " under 0.4×B.");
    static final ClaimSpec JVM_VIRTUAL_STARVES = new ClaimSpec("jvm-virtual-starves",
            "Broken: on one carrier thread, a virtual thread that burns CPU for B ms without blocking stops a virtual"
                    + " ticker thread for the whole burn: its largest gap is at least B.");
    static final ClaimSpec JVM_VIRTUAL_PARK = new ClaimSpec("jvm-virtual-park",
            "With Thread.sleep(1) after every slice of the same burn, which parks the virtual thread and frees the"
                    + " carrier, the virtual ticker's largest gap stays under 0.4×B.");
    static final ClaimSpec JVM_PLATFORM_PREEMPT = new ClaimSpec("jvm-platform-preempt",
            "Platform threads are preempted by the OS: a platform ticker thread's largest gap during the same burn"
                    + " stays under 0.4×B.");

    static final int TICK_MS = 10;
    private static final double SMALL_GAP = 0.4;

    @Override
    public String id() {
        return "cooperative-scheduling";
    }

    @Override
    public String title() {
        return "Cooperative vs preemptive: a task that never yields starves a ticker, in asyncio and on virtual threads";
    }

    @Override
    public String description() {
        return "Measures a 10 ms ticker's largest gap while another task burns CPU for B ms: an asyncio coroutine"
                + " without await, the same with await asyncio.sleep(0), CPython threads; and in a child JVM with one"
                + " carrier thread, virtual threads without a yield point, with Thread.sleep(1) and with Thread.yield(), and"
                + " platform threads.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("burn-ms", "how long the CPU-bound task burns, in ms (B)", 100, 5_000, 300,
                200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_NO_AWAIT_STARVES, PY_SLEEP0_YIELDS, PY_THREADS_PREEMPT, JVM_VIRTUAL_STARVES,
                JVM_VIRTUAL_PARK, JVM_PLATFORM_PREEMPT);
    }

    /** The ticker's largest gaps, in ms, smallest of the runs; null where that side did not run. */
    private record Gaps(double noYield, double withYield, double preemptive) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int burn = ctx.intParam("burn-ms");
        int repeats = ctx.repeats();
        double small = SMALL_GAP * burn;

        ctx.progress(0.05, "child JVM with one carrier thread");
        Map<String, Double> child = OneCarrierJvm.run(ctx, 60_000L + 6L * repeats * burn, "starve",
                Integer.toString(burn), Integer.toString(TICK_MS), Integer.toString(repeats));
        Gaps jvm = new Gaps(value(child, "virtual-no-yield"), value(child, "virtual-sleep1"),
                value(child, "platform"));
        double jvmThreadYield = value(child, "virtual-yield");
        ctx.claim(JVM_VIRTUAL_STARVES, Verdict.check(jvm.noYield() >= burn, String.format(
                "virtual ticker's largest gap while a virtual thread burned %d ms without blocking, on %.0f carrier"
                        + " thread(s): %.1f ms, smallest of %d runs (needs ≥ %d ms = B)", burn,
                value(child, "carrier-parallelism"), jvm.noYield(), repeats, burn)));
        ctx.claim(JVM_VIRTUAL_PARK, Verdict.check(jvm.withYield() < small, String.format(
                "with Thread.sleep(1) every slice: %.1f ms, smallest of %d runs (needs < %.0f ms = %.2f×B);"
                        + " with Thread.yield() instead (not judged): %.1f ms", jvm.withYield(), repeats, small,
                SMALL_GAP, jvmThreadYield)));
        ctx.claim(JVM_PLATFORM_PREEMPT, Verdict.check(jvm.preemptive() < small, String.format(
                "platform ticker's largest gap during a %d ms burn on a platform thread: %.1f ms, smallest of %d runs"
                        + " (needs < %.0f ms = %.2f×B)", burn, jvm.preemptive(), repeats, small, SMALL_GAP)));

        ctx.progress(0.5, "CPython: cooperative.py");
        Gaps py = python(ctx, burn, repeats, small);

        Table.Builder table = Table.builder("A " + TICK_MS + " ms ticker's largest gap while another task burns CPU"
                        + " for B = " + burn + " ms (smallest of " + repeats + " runs)", "runtime", "variant",
                "largest gap, ms", "× B");
        table.row("CPython asyncio", "Broken: coroutine burns without await", cell(py, Gaps::noYield),
                        ratio(py, Gaps::noYield, burn))
                .row("CPython asyncio", "await asyncio.sleep(0) every slice", cell(py, Gaps::withYield),
                        ratio(py, Gaps::withYield, burn))
                .row("CPython", "two OS threads (GIL, 5 ms switch interval)", cell(py, Gaps::preemptive),
                        ratio(py, Gaps::preemptive, burn))
                .row("JVM, 1 carrier", "Broken: virtual thread burns without blocking", jvm.noYield(),
                        jvm.noYield() / burn)
                .row("JVM, 1 carrier", "Thread.sleep(1) every slice", jvm.withYield(), jvm.withYield() / burn)
                .row("JVM, 1 carrier", "Thread.yield() every slice (a hint; not judged)", jvmThreadYield,
                        jvmThreadYield / burn)
                .row("JVM", "two platform threads", jvm.preemptive(), jvm.preemptive() / burn);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static Object cell(Gaps gaps, java.util.function.ToDoubleFunction<Gaps> pick) {
        return gaps == null ? "—" : pick.applyAsDouble(gaps);
    }

    private static Object ratio(Gaps gaps, java.util.function.ToDoubleFunction<Gaps> pick, int burn) {
        return gaps == null ? "—" : pick.applyAsDouble(gaps) / burn;
    }

    private static double value(Map<String, Double> child, String key) {
        Double v = child.get(key);
        if (v == null) {
            throw new ProbeException("the one-carrier child JVM printed no " + key + ": " + child);
        }
        return v;
    }

    private static Gaps python(RunContext ctx, int burn, int repeats, double small) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("cooperative.py", List.of(),
                Duration.ofMillis(30_000L + 6L * repeats * burn),
                "--burn-ms", Integer.toString(burn), "--tick-ms", Integer.toString(TICK_MS),
                "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_NO_AWAIT_STARVES, PY_SLEEP0_YIELDS, PY_THREADS_PREEMPT);
                ctx.note("CPython side skipped: " + missing.reason());
                return null;
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                Gaps py = new Gaps(ms(json, "asyncio_no_await_gap_s"), ms(json, "asyncio_sleep0_gap_s"),
                        ms(json, "threads_gap_s"));
                ctx.note("CPython side: " + ran.interpreter() + ", probe ran in " + String.format("%.1f s",
                        ran.seconds()));
                ctx.claim(PY_NO_AWAIT_STARVES, Verdict.check(py.noYield() >= burn, String.format(
                        "ticker task's largest gap while a coroutine burned %d ms without awaiting: %.1f ms, smallest"
                                + " of %d runs (needs ≥ %d ms = B)", burn, py.noYield(), repeats, burn)));
                ctx.claim(PY_SLEEP0_YIELDS, Verdict.check(py.withYield() < small, String.format(
                        "with await asyncio.sleep(0) every slice: %.1f ms, smallest of %d runs (needs < %.0f ms ="
                                + " %.2f×B)", py.withYield(), repeats, small, SMALL_GAP)));
                ctx.claim(PY_THREADS_PREEMPT, Verdict.check(py.preemptive() < small, String.format(
                        "ticker thread's largest gap during a %d ms burn on another thread: %.1f ms, smallest of %d"
                                + " runs (needs < %.0f ms = %.2f×B); switch interval %.0f ms", burn, py.preemptive(),
                        repeats, small, SMALL_GAP, json.path("switch_interval_s").asDouble() * 1e3)));
                return py;
            }
        }
    }

    private static double ms(JsonNode json, String key) {
        JsonNode value = json.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe cooperative.py printed no number at " + key + ": " + json);
        }
        return value.asDouble() * 1e3;
    }
}

package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.gil.GilConfig;
import dev.conclab.lab.gil.GilEvent;
import dev.conclab.lab.gil.GilRecorder;
import dev.conclab.lab.gil.GilRun;
import dev.conclab.lab.gil.GilTraceWriter;
import dev.conclab.lab.gil.ModelInterpreter;
import dev.conclab.lab.gil.Script;
import dev.conclab.lab.gil.Step;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A model of CPython's GIL, run for real on JVM threads, drawn as a timeline and checked against the real CPython
 * on this machine.
 *
 * <p>The model ({@link dev.conclab.lab.gil}) is the algorithm of {@code Python/ceval_gil.c} since Python 3.2: one
 * lock; a thread that finds it taken waits up to one switch interval, then sets a <em>drop request</em>; the holder
 * checks the request between steps (CPython's eval breaker, between bytecodes) and drops the lock; with
 * <em>forced switching</em> the dropping thread then waits until another thread has taken it. Model threads run
 * scripts of CPU steps and blocking calls (which release the lock), on platform threads, in real time.
 * <ol>
 *   <li><b>BASELINE — CPU-bound work, one thread vs two.</b> The same {@code cpu-ms} of counted CPU steps per
 *       thread, run by one model thread (both shares, one after the other) and by two model threads at once. Only
 *       the holder computes, so two threads are no faster. The same steps on two plain JVM threads, without the
 *       model GIL, run on two cores at once.</li>
 *   <li><b>An I/O-bound thread beside a CPU-bound one.</b> The I/O thread sleeps {@code sleep-us} µs
 *       {@code wakeups} times (a blocking call: it releases the lock), and each time it wakes to find the lock held
 *       it waits: one switch interval until it asks, then at most one step until the holder lets go. (On a busy
 *       machine the CPU-bound thread is sometimes not scheduled in time to take the lock back during the sleep;
 *       such wake-ups find the lock free, are counted in the table, and say nothing about the hand-over.)</li>
 *   <li><b>Forced switching, and the Broken variant without it (the old-GIL-like behaviour).</b> A waiter asks a
 *       computing holder for the lock. The order that defeats the GIL without forced switching is forced on every
 *       run ({@link GilConfig.Wakeups#LATE}): the woken waiter runs only after the releasing thread has moved on.
 *       With forced switching the releaser waits for the switch, and the waiter gets the lock at its first request;
 *       without it (Broken) the releaser takes the lock straight back at every request, and the waiter starves
 *       until the holder stops. The holder computes until the waiter has the lock or has asked
 *       {@value #BROKEN_REQUESTS} times, so the run is ordered by the waiter's requests, not by sleeps. A last run
 *       without forced switching and without the forced order shows how often this machine's scheduler lets the
 *       releaser win by itself (table only).</li>
 *   <li><b>CPython.</b> The probe {@code gil_model_check.py} measures the same two facts on the real interpreter:
 *       pure-Python work on one thread vs two, and how late a thread waking from {@code time.sleep} beside a
 *       pure-Python CPU-bound thread runs again.</li>
 * </ol>
 * Every model run's events are checked for overlapping holders, and the CPU pair, the I/O run and both forced-order
 * runs are drawn in the trace: a lane per model thread with "holds GIL", "waits for GIL" and "blocking call" spans
 * and a "drop request" mark where a waiter asks.
 *
 * <p>The model simplifies: there is no bytecode (a step stands for the bytecodes between two eval-breaker checks),
 * no signals, pending calls or garbage collector, and the threads are JVM threads, so the JVM's and the operating
 * system's scheduling noise is in every number.
 *
 * <p>Run: {@code ./conclab run gil-model --trace gil.json}, then open {@code gil.json} in ui.perfetto.dev. Expect
 * about 1.0× for two model threads and for two CPython threads, about 2× for plain JVM threads on two idle cores,
 * a wake-up wait of about one interval (5 ms) in the model and in CPython, 0 re-takes with forced switching and
 * {@value #BROKEN_REQUESTS} or so without.
 */
public final class GilModel implements Experiment {

    static final ClaimSpec ONE_HOLDER = new ClaimSpec("one-holder",
            "In every run of the model, no two threads hold the GIL at once: the recorded holding intervals never"
                    + " overlap.");
    static final ClaimSpec MODEL_NO_SPEEDUP = new ClaimSpec("model-no-speedup",
            "In the model, two CPU-bound threads finish their work at most 1.3× faster than one thread doing all"
                    + " of it (needs 2 cores).");
    static final ClaimSpec JVM_SPEEDUP = new ClaimSpec("jvm-speedup",
            "The same CPU steps on two plain JVM threads, without the model GIL, run at least 1.5× faster than on"
                    + " one (needs 2 cores).");
    static final ClaimSpec MODEL_WAKE_UP = new ClaimSpec("model-wake-up",
            "In the model, an I/O-bound thread waking to find the GIL held by a CPU-bound thread gets it after 0.3"
                    + " to 2.5 switch intervals (median).");
    static final ClaimSpec FORCED_SWITCHING = new ClaimSpec("forced-switching",
            "With forced switching, a thread that drops the GIL on request never takes it straight back, even when"
                    + " the woken waiter is scheduled late: 0 immediate re-takes in every run of the model.");
    static final ClaimSpec BROKEN_RETAKES = new ClaimSpec("broken-retakes",
            "Broken (forced switching off, like the GIL before Python 3.2): when the woken waiter is scheduled"
                    + " after the releasing thread, the releaser takes the GIL straight back (more than 0 immediate"
                    + " re-takes) and the waiter gets it only when the holder stops.");
    static final ClaimSpec PY_NO_SPEEDUP = new ClaimSpec("py-no-speedup",
            "On CPython, two pure-Python CPU-bound threads finish their work at most 1.3× faster than one thread"
                    + " doing all of it (needs 2 cores).");
    static final ClaimSpec PY_WAKE_UP = new ClaimSpec("py-wake-up",
            "On CPython, a thread waking from sleep beside a pure-Python CPU-bound thread runs again after 0.3 to"
                    + " 2.5 switch intervals (median).");

    /** Bounds on the median wake-up wait, in switch intervals, for the model and for CPython alike. */
    private static final double WAKE_MIN = 0.3;
    private static final double WAKE_MAX = 2.5;
    /** In the forced-order runs, the holder computes until the waiter has asked this many times (or got the GIL). */
    static final int BROKEN_REQUESTS = 4;
    /** CPU the I/O thread does after each wake-up, in µs. */
    private static final long IO_WORK_MICROS = 50;
    /** A safety bound on any "compute until" step: a run that needs longer has failed anyway. */
    private static final long MAX_COMPUTE_MICROS = 20_000_000;

    @Override
    public String id() {
        return "gil-model";
    }

    @Override
    public String title() {
        return "A model of CPython's GIL: switch interval, drop requests, forced switching — against real CPython";
    }

    @Override
    public String description() {
        return "Runs CPython's GIL algorithm (switch interval, drop request, forced switching) on JVM threads and"
                + " draws every hand-over: two CPU-bound threads get no speed-up, an I/O thread waits about one"
                + " switch interval for the lock, and without forced switching (Broken) the releasing thread takes the"
                + " lock straight back. The CPython probe measures the same two facts on the real interpreter.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("interval-us", "the model's switch interval, in µs (CPython: 5000)", 200, 100_000,
                        5_000, 5_000),
                new Param.IntParam("step-us", "CPU work per step, between two eval-breaker checks, in µs", 10, 5_000,
                        100, 100),
                new Param.IntParam("cpu-ms", "CPU work per thread in the one-vs-two comparison, in ms", 10, 10_000,
                        300, 80),
                new Param.IntParam("wakeups", "wake-ups of the I/O-bound thread (model and CPython)", 5, 10_000, 200,
                        30),
                new Param.IntParam("sleep-us", "how long the I/O-bound thread sleeps each time, in µs", 100, 100_000,
                        1_000, 1_000),
                new Param.IntParam("py-iterations", "pure-Python loop iterations in the CPython comparison", 100_000,
                        1_000_000_000, 3_000_000, 1_000_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(ONE_HOLDER, MODEL_NO_SPEEDUP, JVM_SPEEDUP, MODEL_WAKE_UP, FORCED_SWITCHING, BROKEN_RETAKES,
                PY_NO_SPEEDUP, PY_WAKE_UP);
    }

    /** The model runs of one experiment run, for the claims that look at all of them. */
    private static final class Runs {
        final List<GilRun> all = new ArrayList<>();

        GilRun add(GilRun run) {
            all.add(run);
            return run;
        }
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        long intervalMicros = ctx.intParam("interval-us");
        long stepMicros = ctx.intParam("step-us");
        GilConfig config = GilConfig.cpython().withInterval(intervalMicros);
        ModelInterpreter interpreter = new ModelInterpreter(config);
        Runs runs = new Runs();

        ctx.progress(0.05, "CPU-bound: one model thread vs two, and plain JVM threads");
        Table.Builder speed = Table.builder("The same CPU-bound work on one thread and on two (best of "
                + ctx.repeats() + ")", "runtime", "1 thread ms", "2 threads ms", "speed-up");
        judgeCpuBound(ctx, interpreter, runs, stepMicros, speed);

        ctx.progress(0.35, "an I/O-bound model thread beside a CPU-bound one");
        Table.Builder wakeUps = Table.builder("Waking from a blocking call beside a CPU-bound thread: wait until"
                        + " running again", "runtime", "switch interval ms", "median ms", "p90 ms", "max ms",
                "median ÷ interval");
        judgeModelWakeUps(ctx, interpreter, runs, stepMicros, wakeUps);

        ctx.progress(0.55, "forced switching on and off, with the woken waiter scheduled late");
        judgeForcedSwitching(ctx, config, runs, stepMicros);

        ctx.progress(0.7, "CPython: the same two facts");
        judgePython(ctx, speed, wakeUps);

        long overlaps = runs.all.stream().mapToLong(GilRun::overlappingHolds).sum();
        long holds = runs.all.stream().mapToLong(r -> r.holds().size()).sum();
        ctx.claim(ONE_HOLDER, Verdict.check(overlaps == 0, String.format(
                "%d overlapping holds among %d holds in %d model runs", overlaps, holds, runs.all.size())));
        ctx.table(speed.build());
        ctx.table(wakeUps.build());
        ctx.progress(1, "done");
    }

    private void judgeCpuBound(RunContext ctx, ModelInterpreter interpreter, Runs runs, long stepMicros,
                               Table.Builder table) throws Exception {
        int steps = (int) Math.max(1, ctx.intParam("cpu-ms") * 1_000L / stepMicros);
        Step.Count step = Step.Count.forMicros(stepMicros);
        List<Script> alone = List.of(Script.repeat("cpu-all", 2 * steps, step));
        List<Script> pair = List.of(Script.repeat("cpu-a", steps, step), Script.repeat("cpu-b", steps, step));

        GilRun[] lastPair = new GilRun[1];
        Timing[] model = interleaved(ctx, () -> runs.add(interpreter.run(alone)),
                () -> lastPair[0] = runs.add(interpreter.run(pair)));
        GilTraceWriter.draw(lastPair[0], ctx.trace(), "1 CPU-bound pair");
        Timing[] plain = interleaved(ctx, () -> PlainThreads.run(alone), () -> PlainThreads.run(pair));
        Timing modelOne = model[0];
        Timing modelTwo = model[1];
        Timing plainOne = plain[0];
        Timing plainTwo = plain[1];

        double modelSpeedup = Measure.speedup(modelOne, modelTwo);
        double plainSpeedup = Measure.speedup(plainOne, plainTwo);
        table.row("model GIL (" + steps + " steps of " + stepMicros + " µs per thread)", modelOne.bestMillis(),
                        modelTwo.bestMillis(), modelSpeedup)
                .row("plain JVM threads, same steps", plainOne.bestMillis(), plainTwo.bestMillis(), plainSpeedup);
        // On one core "no speed-up" would prove nothing; on a busy machine the scheduler favours two threads that
        // take turns sleeping over one that never sleeps, which is noise, not parallelism.
        if (ctx.requireCores(MODEL_NO_SPEEDUP, 2)) {
            ctx.claim(MODEL_NO_SPEEDUP, Verdict.atMost("2 model threads vs 1", modelSpeedup, 1.3));
        }
        if (ctx.requireCores(JVM_SPEEDUP, 2)) {
            ctx.claim(JVM_SPEEDUP, Verdict.atLeast("2 plain JVM threads vs 1", plainSpeedup, 1.5));
        }
    }

    /**
     * Times {@code one} and {@code two} {@code ctx.repeats()} times each, taking turns, so that a slow spell of the
     * shared machine lands on both rather than on one; returns the timings of {@code one} and {@code two}.
     */
    private static Timing[] interleaved(RunContext ctx, Measure.Work one, Measure.Work two) throws Exception {
        List<Double> first = new ArrayList<>();
        List<Double> second = new ArrayList<>();
        for (int i = 0; i < ctx.repeats(); i++) {
            first.add(Measure.bestOf(1, ctx, one).best());
            second.add(Measure.bestOf(1, ctx, two).best());
        }
        return new Timing[] {new Timing(first), new Timing(second)};
    }

    private void judgeModelWakeUps(RunContext ctx, ModelInterpreter interpreter, Runs runs, long stepMicros,
                                   Table.Builder table) throws Exception {
        int wakeups = ctx.intParam("wakeups");
        long sleepMicros = ctx.intParam("sleep-us");
        double intervalMs = interpreter.config().intervalMicros() / 1e3;
        // Only wake-ups that found the GIL held count: on a busy machine the CPU-bound thread is sometimes not
        // scheduled in time to take the GIL back while the I/O thread sleeps, and then the GIL is simply free.
        List<Long> held = new ArrayList<>();
        GilRun drawn = null;
        long drawnHeld = -1;
        for (int i = 0; i < ctx.repeats(); i++) {
            ctx.checkCancelled();
            GilRecorder recorder = new GilRecorder();
            Script cpu = Script.of("cpu", new Step.ComputeUntil(() -> recorder.exited("io"), stepMicros,
                    MAX_COMPUTE_MICROS));
            Script io = Script.repeat("io", wakeups, new Step.Block(sleepMicros), new Step.Spin(IO_WORK_MICROS));
            GilRun run = runs.add(interpreter.run(List.of(cpu, io), recorder));
            List<Long> waits = run.wakeUps("io").stream().filter(GilRun.WakeUp::foundHeld)
                    .map(GilRun.WakeUp::waitNanos).toList();
            held.addAll(waits);
            if (waits.size() > drawnHeld) {
                drawn = run;
                drawnHeld = waits.size();
            }
        }
        GilTraceWriter.draw(drawn, ctx.trace(), "2 I/O beside CPU");
        int total = wakeups * ctx.repeats();
        if (held.isEmpty()) {
            ctx.claim(MODEL_WAKE_UP, Verdict.check(false, "no wake-up of " + total + " found the GIL held"));
            return;
        }
        Percentiles waits = Percentiles.ofNanos(held);
        table.row(String.format("model GIL (%d of %d wake-ups found it held)", held.size(), total), intervalMs,
                waits.median(), waits.p90(), waits.max(), waits.median() / intervalMs);
        ctx.claim(MODEL_WAKE_UP, wakeUpVerdict("model", waits.median(), intervalMs));
    }

    private void judgeForcedSwitching(RunContext ctx, GilConfig config, Runs runs, long stepMicros)
            throws Exception {
        GilConfig late = config.withWakeups(GilConfig.Wakeups.LATE);
        GilRun forced = runs.add(lateWaiterRun(new ModelInterpreter(late), stepMicros));
        GilRun broken = runs.add(lateWaiterRun(new ModelInterpreter(late.withoutForcedSwitching()), stepMicros));
        GilTraceWriter.draw(forced, ctx.trace(), "3 forced switching, late waiter");
        GilTraceWriter.draw(broken, ctx.trace(), "4 Broken: no forced switching, late waiter");

        int steps = (int) Math.max(1, ctx.intParam("cpu-ms") * 1_000L / stepMicros);
        Step.Count step = Step.Count.forMicros(stepMicros);
        GilRun asScheduled = new ModelInterpreter(config.withoutForcedSwitching()).run(List.of(
                Script.repeat("cpu-a", steps, step), Script.repeat("cpu-b", steps, step)));
        runs.add(asScheduled);

        Table.Builder table = Table.builder("Dropping the GIL on request: does the releaser take it straight back?",
                "forced switching", "woken waiter scheduled", "drop requests", "immediate re-takes",
                "waiter's first wait ms");
        table.row("on", "late (forced)", forced.dropRequests(), forced.immediateRetakes(), firstWaitMs(forced))
                .row("off — Broken", "late (forced)", broken.dropRequests(), broken.immediateRetakes(),
                        firstWaitMs(broken))
                .row("off — Broken", "by the OS (CPU-bound pair)", asScheduled.dropRequests(),
                        asScheduled.immediateRetakes(), firstWaitMs(asScheduled));
        ctx.table(table.build());

        List<GilRun> forcedRuns = runs.all.stream().filter(r -> r.config().forceSwitching()).toList();
        long retakes = forcedRuns.stream().mapToLong(GilRun::immediateRetakes).sum();
        long requests = forcedRuns.stream().mapToLong(GilRun::dropRequests).sum();
        ctx.claim(FORCED_SWITCHING, Verdict.check(retakes == 0 && servedWhileHolderRan(forced), String.format(
                "%d immediate re-takes after %d drop requests in %d runs with forced switching; the late waiter got"
                        + " the GIL %s the holder stopped, after %d request(s)", retakes, requests,
                forcedRuns.size(), servedWhileHolderRan(forced) ? "before" : "only after", forced.dropRequests())));
        ctx.claim(BROKEN_RETAKES, Verdict.check(broken.immediateRetakes() > 0 && !servedWhileHolderRan(broken),
                String.format("without forced switching: %d immediate re-takes after %d drop requests (needs more"
                                + " than 0); the waiter got the GIL %s the holder stopped, after %.1f ms",
                        broken.immediateRetakes(), broken.dropRequests(),
                        servedWhileHolderRan(broken) ? "before" : "only after", firstWaitMs(broken))));
    }

    /** Whether the waiter of a {@link #lateWaiterRun} took the GIL before the holder's script ended. */
    private static boolean servedWhileHolderRan(GilRun run) {
        for (GilEvent event : run.events()) {
            if (event instanceof GilEvent.Take t && t.thread().equals("waiter")) {
                return true;
            }
            if (event instanceof GilEvent.Drop d && d.thread().equals("holder")
                    && d.reason() == GilEvent.DropReason.EXIT) {
                return false;
            }
        }
        return false;
    }

    /**
     * A computing holder, and a waiter that asks for the GIL: the holder computes until the waiter has it, or has
     * asked {@value #BROKEN_REQUESTS} times.
     */
    private static GilRun lateWaiterRun(ModelInterpreter interpreter, long stepMicros) throws InterruptedException {
        GilRecorder recorder = new GilRecorder();
        Script holder = Script.of("holder", new Step.ComputeUntil(() -> recorder.takes("waiter") > 0
                || recorder.dropRequests("waiter") >= BROKEN_REQUESTS, stepMicros, MAX_COMPUTE_MICROS));
        Script waiter = Script.of("waiter", new Step.Spin(stepMicros));
        return interpreter.run(List.of(holder, waiter), recorder);
    }

    /** How long the second thread waited for its first take, in ms. */
    private static double firstWaitMs(GilRun run) {
        String second = run.threads().get(1);
        return run.takes(second).getFirst().waitNanos() / 1e6;
    }

    private void judgePython(RunContext ctx, Table.Builder speed, Table.Builder wakeUps) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("gil_model_check.py", List.of(), Duration.ofSeconds(120),
                "--iterations", Integer.toString(ctx.intParam("py-iterations")),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)),
                "--wakeups", Integer.toString(ctx.intParam("wakeups")),
                "--sleep-us", Integer.toString(ctx.intParam("sleep-us")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_NO_SPEEDUP, PY_WAKE_UP);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode cpu = json.path("cpu");
                double one = cpu.path("one_thread_s").asDouble();
                double two = cpu.path("two_threads_s").asDouble();
                speed.row("CPython " + ran.interpreter().version() + ", pure Python", one * 1e3, two * 1e3,
                        one / two);
                if (ctx.requireCores(PY_NO_SPEEDUP, 2)) {
                    ctx.claim(PY_NO_SPEEDUP, Verdict.atMost("2 CPython threads vs 1", one / two, 1.3));
                }

                double intervalMs = json.path("switch_interval").asDouble() * 1e3;
                JsonNode io = json.path("io");
                double median = io.path("median_ms").asDouble();
                wakeUps.row("CPython " + ran.interpreter().version() + " (time.sleep beside a pure-Python loop)",
                        intervalMs, median, io.path("p90_ms").asDouble(), io.path("max_ms").asDouble(),
                        median / intervalMs);
                ctx.claim(PY_WAKE_UP, wakeUpVerdict("CPython", median, intervalMs));
            }
        }
    }

    private static Verdict wakeUpVerdict(String runtime, double medianMs, double intervalMs) {
        double ratio = medianMs / intervalMs;
        return Verdict.check(ratio >= WAKE_MIN && ratio <= WAKE_MAX, String.format(
                "%s: median wait %.3f ms with a %.1f ms switch interval: %.2f intervals (needs %.1f–%.1f)", runtime,
                medianMs, intervalMs, ratio, WAKE_MIN, WAKE_MAX));
    }

    /** The median, 90th percentile and maximum of a list of waits, in ms. */
    private record Percentiles(double median, double p90, double max) {
        static Percentiles ofNanos(List<Long> nanos) {
            if (nanos.isEmpty()) {
                throw new IllegalStateException("no wake-ups were recorded");
            }
            double[] ms = nanos.stream().mapToDouble(n -> n / 1e6).sorted().toArray();
            int n = ms.length;
            double median = n % 2 == 1 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
            return new Percentiles(median, ms[Math.min(n - 1, (int) (n * 0.9))], ms[n - 1]);
        }
    }

    /** Runs scripts' CPU steps on plain platform threads, one per script, with no GIL: the JVM's own threads. */
    private static final class PlainThreads {
        static void run(List<Script> scripts) throws InterruptedException {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            try {
                for (Script script : scripts) {
                    threads.add(Thread.ofPlatform().name("plain-" + script.name()).start(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        for (Step step : script.steps()) {
                            if (Thread.currentThread().isInterrupted()) {
                                return;
                            }
                            ((Step.Count) step).compute();
                        }
                    }));
                }
                go.countDown();
                for (Thread thread : threads) {
                    thread.join();
                }
            } finally {
                // Cancelled: stop the threads and wait for them, so none outlives the run.
                threads.forEach(Thread::interrupt);
                for (Thread thread : threads) {
                    thread.join();
                }
            }
        }
    }
}

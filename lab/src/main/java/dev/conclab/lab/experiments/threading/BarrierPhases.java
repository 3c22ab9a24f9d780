package dev.conclab.lab.experiments.threading;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Trace;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Barrier synchronization: workers compute in phases, and none may start phase k+1 until all have finished phase k.
 *
 * <p>Two workers each run {@code phases} phases. Before a worker starts a phase it records the <em>phase skew</em>:
 * the phase it is starting minus the fewest phases any worker has finished. The order is forced, not left to the
 * scheduler: the slow worker does not start phase 0 until the fast worker has either finished all its phases or is
 * blocked at the barrier (checked with {@link CyclicBarrier#getNumberWaiting()} / {@link Phaser#getArrivedParties()}).
 * Only a version without a barrier lets the fast worker finish first, so the outcome is the same on every run.
 * <ol>
 *   <li><b>Broken — no barrier.</b> The fast worker races through every phase while the slow one has finished none:
 *       skew = phases − 1. If phase k+1 read what phase k wrote, it would read data that does not exist yet.</li>
 *   <li><b>{@link CyclicBarrier}</b> (parties = 2, with a barrier action). Each worker calls {@code await()} after a
 *       phase: skew 0. The action runs exactly once per phase, in the last thread to arrive, before any is released —
 *       the place for a "combine the results of phase k" step.</li>
 *   <li><b>{@link Phaser}</b> ({@code arriveAndAwaitAdvance}, with {@code onAdvance} as the action): skew 0. Unlike a
 *       CyclicBarrier, parties can register and deregister between phases.</li>
 *   <li><b>A broken barrier.</b> A CyclicBarrier of 3: one party waits with no timeout, a second waits with a
 *       timeout, the third never comes. The timed-out party gets {@link TimeoutException} and breaks the barrier;
 *       the waiting party gets {@link BrokenBarrierException}, and so does any later {@code await} until
 *       {@code reset()}. All-or-none: a barrier never releases some parties and strands the others.</li>
 *   <li><b>CPython</b> ({@code probes/barrier.py}): the same with {@code threading.Barrier} (its {@code action},
 *       a {@code wait(timeout)} that breaks it — there every party, the timed-out one included, gets
 *       {@code BrokenBarrierError} — and {@code abort()}).</li>
 * </ol>
 * The trace draws each worker's phases as spans, one lane per worker and variant.
 *
 * <p>Run: {@code ./conclab run barrier-phases --trace barrier.json}. Expect skew phases − 1 without a barrier and 0
 * with one, the action run once per phase, and every party of a broken barrier released with an exception.
 */
public final class BarrierPhases implements Experiment {

    static final ClaimSpec NO_BARRIER_SKEW = new ClaimSpec("no-barrier-skew",
            "Broken: without a barrier, a fast worker starts its last phase while a slow worker has not finished"
                    + " phase 0 (phase skew = phases − 1).");
    static final ClaimSpec BARRIER_IN_STEP = new ClaimSpec("barrier-in-step",
            "With a CyclicBarrier or a Phaser, no worker starts phase k+1 before every worker has finished phase k"
                    + " (phase skew 0).");
    static final ClaimSpec ACTION_ONCE = new ClaimSpec("action-once",
            "The barrier action runs exactly once per phase, after every party has finished that phase.");
    static final ClaimSpec TIMEOUT_BREAKS = new ClaimSpec("timeout-breaks",
            "A party whose await times out breaks the barrier: it gets TimeoutException, and every other waiting"
                    + " party, and any later one, gets BrokenBarrierException.");
    static final ClaimSpec PY_IN_STEP = new ClaimSpec("py-in-step",
            "threading.Barrier keeps workers in step (phase skew 0, the action once per phase); without it the"
                    + " skew is phases − 1.");
    static final ClaimSpec PY_BROKEN = new ClaimSpec("py-broken",
            "In CPython, a wait that times out breaks the barrier: the timed-out party, the waiting one and a later"
                    + " one all get BrokenBarrierError; abort() does the same.");

    private static final int WORKERS = 2;
    /** How long anything may block before the experiment gives up (a bug, never a normal outcome). */
    private static final long SAFETY_SECONDS = 10;

    @Override
    public String id() {
        return "barrier-phases";
    }

    @Override
    public String title() {
        return "Workers in phases: no barrier (broken), CyclicBarrier, Phaser, a broken barrier; threading.Barrier";
    }

    @Override
    public String description() {
        return "Two workers compute in phases; the slow one is held back until the fast one is done or blocked. Without"
                + " a barrier the fast one runs phases − 1 ahead; with a CyclicBarrier or Phaser never. Also: the"
                + " barrier action once per phase, a timed-out await breaking the barrier, and CPython's Barrier.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("phases", "phases each worker runs", 2, 10_000, 8, 5),
                new Param.IntParam("timeout-ms", "the await timeout that breaks the barrier, in ms", 1, 10_000, 50,
                        20));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(NO_BARRIER_SKEW, BARRIER_IN_STEP, ACTION_ONCE, TIMEOUT_BREAKS, PY_IN_STEP, PY_BROKEN);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int phases = ctx.intParam("phases");
        Table.Builder table = Table.builder(WORKERS + " workers, " + phases + " phases; the slow one held back",
                "runtime", "synchronization", "max phase skew", "action runs", "action saw every worker done");

        ctx.progress(0.05, "no barrier (broken)");
        PhaseRun none = runPhases(ctx, phases, Sync.none(), "no barrier");
        ctx.progress(0.2, "CyclicBarrier");
        PhaseRun cyclic = runPhases(ctx, phases, Sync.cyclicBarrier(), "CyclicBarrier");
        ctx.progress(0.35, "Phaser");
        PhaseRun phaser = runPhases(ctx, phases, Sync.phaser(), "Phaser");
        table.row("JVM", "none (broken)", none.maxSkew(), "—", "—")
                .row("JVM", "CyclicBarrier", cyclic.maxSkew(), cyclic.actionRuns(), cyclic.actionSawAllDone())
                .row("JVM", "Phaser", phaser.maxSkew(), phaser.actionRuns(), phaser.actionSawAllDone());
        ctx.claim(NO_BARRIER_SKEW, Verdict.check(none.maxSkew() == phases - 1, String.format(
                "no barrier: max skew %d with %d phases (needs %d)", none.maxSkew(), phases, phases - 1)));
        ctx.claim(BARRIER_IN_STEP, Verdict.check(cyclic.maxSkew() == 0 && phaser.maxSkew() == 0, String.format(
                "max skew: CyclicBarrier %d, Phaser %d (needs 0)", cyclic.maxSkew(), phaser.maxSkew())));
        ctx.claim(ACTION_ONCE, Verdict.check(cyclic.actionRuns() == phases && phaser.actionRuns() == phases
                && cyclic.actionSawAllDone() && phaser.actionSawAllDone(), String.format(
                "%d phases; CyclicBarrier action ran %d times (every worker done each time: %b), Phaser.onAdvance"
                        + " %d times (%b)", phases, cyclic.actionRuns(), cyclic.actionSawAllDone(),
                phaser.actionRuns(), phaser.actionSawAllDone())));

        ctx.progress(0.5, "a CyclicBarrier broken by a timeout");
        BreakOutcome broken = breakByTimeout(ctx.intParam("timeout-ms"));
        Table.Builder breaking = Table.builder("A barrier of 3 parties; the third never comes", "runtime", "party",
                "outcome");
        breaking.row("JVM", "waits with no timeout", broken.waiting())
                .row("JVM", "waits " + ctx.intParam("timeout-ms") + " ms, times out", broken.timedOut())
                .row("JVM", "arrives after the barrier broke", broken.late())
                .row("JVM", "isBroken() afterwards", Boolean.toString(broken.isBroken()));
        String timeout = TimeoutException.class.getSimpleName();
        String brokenName = BrokenBarrierException.class.getSimpleName();
        ctx.claim(TIMEOUT_BREAKS, Verdict.check(broken.timedOut().equals(timeout)
                && broken.waiting().equals(brokenName) && broken.late().equals(brokenName) && broken.isBroken(),
                String.format("timed-out party: %s; waiting party: %s; later party: %s; isBroken: %b",
                        broken.timedOut(), broken.waiting(), broken.late(), broken.isBroken())));

        ctx.progress(0.7, "CPython: threading.Barrier");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("barrier.py", List.of(), Duration.ofSeconds(60),
                "--phases", Integer.toString(phases), "--timeout-ms", Integer.toString(ctx.intParam("timeout-ms")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_IN_STEP, PY_BROKEN);
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran.json(), phases, table, breaking);
        }
        ctx.table(table.build());
        ctx.table(breaking.build());
        ctx.progress(1, "done");
    }

    private static void judgePython(RunContext ctx, JsonNode json, int phases, Table.Builder table,
                                    Table.Builder breaking) {
        JsonNode none = json.path("no_barrier");
        JsonNode barrier = json.path("barrier");
        table.row("CPython", "none (broken)", none.path("max_skew").asInt(), "—", "—")
                .row("CPython", "threading.Barrier", barrier.path("max_skew").asInt(),
                        barrier.path("action_runs").asInt(), barrier.path("action_saw_all_done").asBoolean());
        boolean inStep = none.path("max_skew").asInt() == phases - 1 && barrier.path("max_skew").asInt() == 0
                && barrier.path("action_runs").asInt() == phases && barrier.path("action_saw_all_done").asBoolean();
        ctx.claim(PY_IN_STEP, Verdict.check(inStep, String.format(
                "%d phases; max skew without a barrier %d (needs %d), with threading.Barrier %d (needs 0); action"
                        + " ran %d times (every worker done each time: %b)", phases, none.path("max_skew").asInt(),
                phases - 1, barrier.path("max_skew").asInt(), barrier.path("action_runs").asInt(),
                barrier.path("action_saw_all_done").asBoolean())));

        JsonNode timeout = json.path("timeout");
        JsonNode abort = json.path("abort");
        String error = "BrokenBarrierError";
        breaking.row("CPython", "waits with no timeout", timeout.path("waiting_party").asText())
                .row("CPython", "waits with a timeout, times out", timeout.path("timed_out_party").asText())
                .row("CPython", "arrives after the barrier broke", timeout.path("late_party").asText())
                .row("CPython", "waits while another thread calls abort()", abort.path("waiting_party").asText());
        boolean allBroken = timeout.path("waiting_party").asText().equals(error)
                && timeout.path("timed_out_party").asText().equals(error)
                && timeout.path("late_party").asText().equals(error) && timeout.path("broken").asBoolean()
                && abort.path("waiting_party").asText().equals(error) && abort.path("broken").asBoolean();
        ctx.claim(PY_BROKEN, Verdict.check(allBroken, String.format(
                "timeout: timed-out party %s, waiting party %s, later party %s, broken %b; abort(): waiting party"
                        + " %s, broken %b", timeout.path("timed_out_party").asText(),
                timeout.path("waiting_party").asText(), timeout.path("late_party").asText(),
                timeout.path("broken").asBoolean(), abort.path("waiting_party").asText(),
                abort.path("broken").asBoolean())));
    }

    // ---- phases ---------------------------------------------------------------------------------------------------

    /** What one variant measured. */
    record PhaseRun(int maxSkew, int actionRuns, boolean actionSawAllDone) {
    }

    /**
     * Phases finished per worker, the largest skew seen when a worker started a phase, and what the barrier action
     * saw. All methods are synchronized: workers and the action call them from their own threads.
     */
    static final class PhaseLog {
        private final int[] done = new int[WORKERS];
        private int maxSkew;
        private int actionRuns;
        private boolean actionSawAllDone = true;

        synchronized void starting(int phase) {
            int fewest = Integer.MAX_VALUE;
            for (int d : done) {
                fewest = Math.min(fewest, d);
            }
            maxSkew = Math.max(maxSkew, phase - fewest);
        }

        synchronized void finished(int worker) {
            done[worker]++;
        }

        /** Called by the barrier action: phase {@code actionRuns} has just completed for every party. */
        synchronized void actionRan() {
            actionRuns++;
            for (int d : done) {
                actionSawAllDone &= d == actionRuns;
            }
        }

        synchronized PhaseRun result() {
            return new PhaseRun(maxSkew, actionRuns, actionSawAllDone);
        }
    }

    /**
     * How workers wait for each other after a phase: nothing (the broken baseline), a CyclicBarrier, or a Phaser.
     * {@link #bind} makes the barrier for one run, with the log's action.
     */
    sealed interface Sync {

        /** One run's barrier. */
        interface Bound {
            /** Waits for every worker to finish the current phase. */
            void arriveAndWait() throws Exception;

            /** Whether some worker is blocked at the barrier now (lets the slow worker go on without a race). */
            boolean someoneWaiting();
        }

        Bound bind(PhaseLog log);

        static Sync none() {
            return new None();
        }

        static Sync cyclicBarrier() {
            return new Cyclic();
        }

        static Sync phaser() {
            return new PhaserSync();
        }

        /** Broken: no waiting at all. */
        record None() implements Sync {
            @Override
            public Bound bind(PhaseLog log) {
                return new Bound() {
                    @Override
                    public void arriveAndWait() {
                    }

                    @Override
                    public boolean someoneWaiting() {
                        return false;
                    }
                };
            }
        }

        record Cyclic() implements Sync {
            @Override
            public Bound bind(PhaseLog log) {
                CyclicBarrier barrier = new CyclicBarrier(WORKERS, log::actionRan);
                return new Bound() {
                    @Override
                    public void arriveAndWait() throws Exception {
                        barrier.await(SAFETY_SECONDS, TimeUnit.SECONDS);
                    }

                    @Override
                    public boolean someoneWaiting() {
                        return barrier.getNumberWaiting() > 0;
                    }
                };
            }
        }

        record PhaserSync() implements Sync {
            @Override
            public Bound bind(PhaseLog log) {
                Phaser phaser = new Phaser(WORKERS) {
                    @Override
                    protected boolean onAdvance(int phase, int registeredParties) {
                        log.actionRan();
                        return false; // keep the phaser alive; the workers simply stop using it
                    }
                };
                return new Bound() {
                    @Override
                    public void arriveAndWait() throws Exception {
                        int phase = phaser.arrive();
                        phaser.awaitAdvanceInterruptibly(phase, SAFETY_SECONDS, TimeUnit.SECONDS);
                    }

                    @Override
                    public boolean someoneWaiting() {
                        return phaser.getArrivedParties() > 0;
                    }
                };
            }
        }
    }

    private static PhaseRun runPhases(RunContext ctx, int phases, Sync sync, String name) throws Exception {
        PhaseLog log = new PhaseLog();
        Sync.Bound barrier = sync.bind(log);
        CountDownLatch fastFinished = new CountDownLatch(1);
        Trace trace = ctx.trace();
        List<Future<?>> workers = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < WORKERS; w++) {
                int me = w;
                workers.add(pool.submit(() -> {
                    String lane = name + " · " + (me == 0 ? "fast worker" : "slow worker");
                    if (me == 1) {
                        long heldFrom = System.nanoTime();
                        awaitEither(fastFinished, barrier::someoneWaiting, "the fast worker to finish or block");
                        trace.span(lane, "held back", heldFrom, System.nanoTime());
                    }
                    for (int phase = 0; phase < phases; phase++) {
                        long start = System.nanoTime();
                        log.starting(phase);
                        log.finished(me);
                        trace.span(lane, "phase " + phase, start, System.nanoTime());
                        barrier.arriveAndWait();
                    }
                    if (me == 0) {
                        fastFinished.countDown();
                    }
                    return null;
                }));
            }
        }
        for (Future<?> worker : workers) {
            try {
                worker.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException(name + ": a worker failed", e.getCause());
            }
        }
        return log.result();
    }

    /**
     * Waits until {@code latch} opens or {@code condition} holds; polls the condition every millisecond, and gives
     * up after {@value #SAFETY_SECONDS} s naming what it waited for.
     */
    private static void awaitEither(CountDownLatch latch, BooleanSupplier condition, String waitingFor)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SAFETY_SECONDS);
        while (!latch.await(1, TimeUnit.MILLISECONDS)) {
            if (condition.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up waiting for " + waitingFor);
            }
        }
    }

    // ---- a broken barrier -----------------------------------------------------------------------------------------

    /** The exception (simple class name) or "passed" for each party. */
    record BreakOutcome(String waiting, String timedOut, String late, boolean isBroken) {
    }

    private static BreakOutcome breakByTimeout(int timeoutMillis) throws Exception {
        CyclicBarrier barrier = new CyclicBarrier(3);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> waiting = pool.submit(() -> outcome(() -> barrier.await(SAFETY_SECONDS, TimeUnit.SECONDS)));
            awaitEither(new CountDownLatch(1), () -> barrier.getNumberWaiting() == 1, "the first party to wait");
            String timedOut = outcome(() -> barrier.await(timeoutMillis, TimeUnit.MILLISECONDS));
            String waited = waiting.get(SAFETY_SECONDS, TimeUnit.SECONDS);
            String late = outcome(() -> barrier.await(SAFETY_SECONDS, TimeUnit.SECONDS));
            return new BreakOutcome(waited, timedOut, late, barrier.isBroken());
        }
    }

    /** Runs one {@code await} and names how it ended. */
    private static String outcome(Await await) {
        try {
            await.run();
            return "passed";
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    @FunctionalInterface
    private interface Await {
        void run() throws Exception;
    }
}

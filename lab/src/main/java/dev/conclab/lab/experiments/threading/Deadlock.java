package dev.conclab.lab.experiments.threading;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.diagnostics.DeadlockDetector;
import dev.conclab.toolkit.diagnostics.DeadlockReport;
import dev.conclab.toolkit.diagnostics.LockRef;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A lock-ordering deadlock, forced on every round, found by the JVM's deadlock detector, broken, and then cured
 * three ways.
 *
 * <p>Two threads each need locks A and B. Thread {@code deadlock-1} wants A then B; thread {@code deadlock-2}
 * wants B then A. Every round runs one <b>schedule</b>: each thread makes its first move (acquires, or queues for,
 * its first lock); only when both have made it does a latch let them ask for their second lock.
 * <ol>
 *   <li><b>Broken — opposite orders.</b> 1 holds A and asks for B; 2 holds B and asks for A. Each waits for the
 *       other for ever: all four Coffman conditions hold (mutual exclusion, hold-and-wait, no preemption, circular
 *       wait). The latch makes this happen on every round, not now and then. The lab then asks
 *       {@code ThreadMXBean.findDeadlockedThreads()} (through the toolkit's {@link DeadlockDetector}) and checks
 *       that the cycle it reports names both threads and both locks. The locks are taken with
 *       {@code lockInterruptibly()}, so the deadlock can be broken: the lab interrupts thread 2 (the "victim", as a
 *       database would pick one), whose wait throws and releases B; thread 1 then gets B and finishes.</li>
 *   <li><b>Cure 1 — one global lock order.</b> Both threads sort their locks (A before B). Thread 2 now queues for
 *       A while holding nothing: no circular wait is possible.</li>
 *   <li><b>Cure 2 — tryLock with a timeout, and back-off.</b> The same opposite orders, but the second lock is
 *       asked for with {@code tryLock(timeout)}; a thread that times out releases its first lock, backs off and
 *       retries (no hold-and-wait for ever). The back-off differs per thread (1× and 3× the timeout): with equal
 *       back-offs the two could retry in lock-step and collide again and again — a livelock.</li>
 *   <li><b>Cure 3 — one coarser lock.</b> One lock guards both A's and B's data: no thread ever holds one and waits
 *       for another. Simple, at the price of less concurrency.</li>
 * </ol>
 * The table counts, per variant, rounds deadlocked and rounds finished; a cure round that does not finish in
 * 10 s is checked with the detector, broken by interrupts and counted as not finished. For every round that does
 * not go as its claim needs, the claim's evidence names each thread and what became of it: finished, interrupted
 * (and where), the exception it threw, or the state and frame it was still in; so a failure can be read from the
 * log alone. The trace draws the first round of each variant: one lane per thread, with spans "holds A", "waits
 * for B", "backs off", and a lane for the detector.
 *
 * <p>The threads are platform threads on purpose: {@code ThreadMXBean} does not see virtual threads, so a
 * deadlock among virtual threads is invisible to this detector (a thread dump with {@code jcmd <pid>
 * Thread.dump_to_file} still shows their stacks).
 *
 * <p>CPython, through the {@code deadlock.py} probe: the same forced deadlock with two {@code threading.Lock}s and a
 * {@code threading.Barrier}. Python has no deadlock detector, so the probe observes it the only way it can:
 * {@code acquire(timeout=...)} returns {@code False} in both threads (each keeps its first lock until both timed
 * attempts are over, so neither can succeed by the other giving up first). Then the lock-order cure finishes.
 *
 * <p>Run: {@code ./conclab run deadlock --trace deadlock.json}. Expect every broken round deadlocked and found in
 * a few tens of milliseconds (the detector looks every 10 ms), every cure round finished, a few tryLock retries,
 * and in CPython both timed acquires False on every round.
 */
public final class Deadlock implements Experiment {

    static final ClaimSpec BROKEN_DEADLOCKS = new ClaimSpec("broken-deadlocks",
            "Broken: two threads that take locks A and B in opposite orders, each asking for its second lock once"
                    + " both hold their first, deadlock on every round.");
    static final ClaimSpec DETECTED = new ClaimSpec("detected",
            "ThreadMXBean.findDeadlockedThreads() reports the deadlock within 2 s, and the cycle names both threads"
                    + " and both locks.");
    static final ClaimSpec BROKEN_BY_INTERRUPT = new ClaimSpec("broken-by-interrupt",
            "Interrupting one thread of the cycle breaks it: its lockInterruptibly() throws, its lock is released,"
                    + " and the other thread finishes.");
    static final ClaimSpec ORDER_CURE = new ClaimSpec("order-cure",
            "Taking A and B in one global order, the same schedule finishes on every round.");
    static final ClaimSpec TRYLOCK_CURE = new ClaimSpec("trylock-cure",
            "With tryLock, a timeout and a back-off that differs per thread, the same schedule finishes on every"
                    + " round.");
    static final ClaimSpec COARSE_CURE = new ClaimSpec("coarse-cure",
            "With one coarser lock guarding both A and B, the same schedule finishes on every round.");
    static final ClaimSpec PY_DEADLOCK = new ClaimSpec("py-deadlock",
            "In CPython, the same forced deadlock with threading.Lock makes acquire(timeout=...) return False in"
                    + " both threads on every round.");
    static final ClaimSpec PY_ORDER_CURE = new ClaimSpec("py-order-cure",
            "In CPython, taking the locks in one global order finishes on every round.");

    /** The claim's bound on detection, from the moment the deadlock became inevitable. */
    private static final long DETECT_WITHIN_MS = 2_000;
    /** How long the lab waits for anything that should happen in milliseconds before calling it stuck. */
    private static final Duration STUCK_AFTER = Duration.ofSeconds(10);
    /** A tryLock thread gives up after this many attempts (never reached unless it livelocks). */
    private static final int MAX_ATTEMPTS = 1_000;

    @Override
    public String id() {
        return "deadlock";
    }

    @Override
    public String title() {
        return "A lock-ordering deadlock on every round, found by the JVM, broken, and cured three ways";
    }

    @Override
    public String description() {
        return "Forces two threads to take locks A and B in opposite orders after both hold their first lock, finds"
                + " the cycle with ThreadMXBean.findDeadlockedThreads, breaks it by interrupting one thread, then runs"
                + " the same schedule with a global lock order, with tryLock and back-off, and with one coarser lock;"
                + " and the same deadlock in CPython, seen through acquire(timeout=...).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("rounds", "rounds of each variant", 1, 200, 20, 5),
                new Param.IntParam("trylock-timeout-ms", "timeout of tryLock for the second lock (back-off is 1× and"
                        + " 3× this)", 1, 200, 20, 10),
                new Param.IntParam("py-timeout-ms", "CPython acquire(timeout=...) for the second lock", 1, 500, 50,
                        20));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(BROKEN_DEADLOCKS, DETECTED, BROKEN_BY_INTERRUPT, ORDER_CURE, TRYLOCK_CURE, COARSE_CURE,
                PY_DEADLOCK, PY_ORDER_CURE);
    }

    /** The four ways of running the schedule. */
    enum Variant {
        BROKEN("broken: opposite orders"),
        ORDERED("cure 1: one global order"),
        TRY_LOCK("cure 2: tryLock + back-off"),
        COARSE("cure 3: one coarser lock");

        final String label;

        Variant(String label) {
            this.label = label;
        }
    }

    /** A ReentrantLock with a name, which can tell who holds it. Thread-safe like its superclass. */
    static final class NamedLock extends ReentrantLock {
        private final String name;

        NamedLock(String name) {
            this.name = name;
        }

        String name() {
            return name;
        }

        /** The holder, or null; like {@code getOwner}, a best-effort snapshot. */
        Thread holder() {
            return getOwner();
        }

        /** Whether {@code thread} holds this lock or is queued for it. */
        boolean heldOrAwaitedBy(Thread thread) {
            return holder() == thread || hasQueuedThread(thread);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * What one thread did in one round; {@code trouble} says what stopped a thread that did not finish (an interrupt
     * and where it landed, or an exception), and is empty otherwise.
     */
    record Outcome(boolean finished, boolean interrupted, int attempts, String trouble) {

        static Outcome done(int attempts) {
            return new Outcome(true, false, attempts, "");
        }
    }

    /**
     * What one round of one variant showed; {@code trouble} names, for a round that did not finish, each thread
     * that did not and why, so a failed claim can be diagnosed from its evidence alone.
     */
    record RoundResult(boolean deadlocked, double detectMillis, boolean cycleNamed, boolean brokenByInterrupt,
                       boolean finished, int retries, String trouble) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int rounds = ctx.intParam("rounds");
        long tryTimeoutMs = ctx.intParam("trylock-timeout-ms");
        DeadlockDetector detector = DeadlockDetector.ofThisJvm();

        Table.Builder summary = Table.builder("Rounds by variant (the same schedule every round)", "variant",
                "rounds", "deadlocked (found by the detector)", "finished", "detection ms (min–max)",
                "tryLock retries (total)", "how a round ends");
        Table.Builder cycleTable = Table.builder("The cycle the detector reported (broken variant, first round)",
                "thread", "state", "waits for", "which is lock", "held by", "waiting at");
        Map<Variant, List<RoundResult>> results = new HashMap<>();
        int step = 0;
        for (Variant variant : Variant.values()) {
            List<RoundResult> list = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                ctx.checkCancelled();
                ctx.progress(0.05 + 0.6 * (step++) / (4.0 * rounds), variant.label + ", round " + (r + 1));
                list.add(round(ctx, detector, variant, tryTimeoutMs, r == 0, r == 0 ? cycleTable : null));
            }
            results.put(variant, list);
            summary.row(summaryRow(variant, list));
        }
        ctx.table(summary.build());
        ctx.table(cycleTable.build());
        judgeJava(ctx, results, rounds);

        ctx.progress(0.7, "CPython: the same deadlock with threading.Lock");
        python(ctx, rounds);
        ctx.progress(1, "done");
    }

    private static Object[] summaryRow(Variant variant, List<RoundResult> list) {
        long deadlocked = list.stream().filter(RoundResult::deadlocked).count();
        long finished = list.stream().filter(RoundResult::finished).count();
        String detection = variant == Variant.BROKEN && deadlocked > 0 ? String.format("%.1f–%.1f",
                list.stream().filter(RoundResult::deadlocked).mapToDouble(RoundResult::detectMillis).min()
                        .orElse(0), list.stream().filter(RoundResult::deadlocked)
                        .mapToDouble(RoundResult::detectMillis).max().orElse(0)) : "—";
        String retries = variant == Variant.TRY_LOCK ? Integer.toString(list.stream()
                .mapToInt(RoundResult::retries).sum()) : "—";
        String ends = switch (variant) {
            case BROKEN -> "detector finds the cycle; thread 2 interrupted; thread 1 finishes";
            case ORDERED -> "thread 2 queues for A holding nothing, then runs";
            case TRY_LOCK -> "a timed-out thread releases its lock, backs off, retries";
            case COARSE -> "one thread at a time holds the coarse lock";
        };
        return new Object[]{variant.label, list.size(), deadlocked, finished, detection, retries, ends};
    }

    private static void judgeJava(RunContext ctx, Map<Variant, List<RoundResult>> results, int rounds) {
        List<RoundResult> broken = results.get(Variant.BROKEN);
        long deadlocked = broken.stream().filter(RoundResult::deadlocked).count();
        ctx.claim(BROKEN_DEADLOCKS, Verdict.check(deadlocked == rounds, String.format(
                "%d of %d rounds deadlocked (needs all %d)%s", deadlocked, rounds, rounds,
                troubles(broken, RoundResult::deadlocked))));
        double slowest = broken.stream().mapToDouble(RoundResult::detectMillis).max().orElse(Double.NaN);
        long named = broken.stream().filter(RoundResult::cycleNamed).count();
        ctx.claim(DETECTED, Verdict.check(deadlocked == rounds && slowest <= DETECT_WITHIN_MS && named == rounds,
                String.format("found in %d of %d rounds, %.1f–%.1f ms after the latch opened (needs ≤ %d ms); the"
                                + " cycle named both threads and both locks in %d of %d rounds", deadlocked, rounds,
                        broken.stream().mapToDouble(RoundResult::detectMillis).min().orElse(Double.NaN), slowest,
                        DETECT_WITHIN_MS, named, rounds)));
        long brokenOk = broken.stream().filter(RoundResult::brokenByInterrupt).count();
        ctx.claim(BROKEN_BY_INTERRUPT, Verdict.check(brokenOk == rounds, String.format(
                "in %d of %d rounds the interrupted thread left its wait and released its lock, and the other"
                        + " thread finished (needs all)%s", brokenOk, rounds,
                troubles(broken, RoundResult::brokenByInterrupt))));
        judgeCure(ctx, ORDER_CURE, results.get(Variant.ORDERED), rounds, "");
        List<RoundResult> tries = results.get(Variant.TRY_LOCK);
        judgeCure(ctx, TRYLOCK_CURE, tries, rounds, String.format("; %d tryLock retries in all",
                tries.stream().mapToInt(RoundResult::retries).sum()));
        judgeCure(ctx, COARSE_CURE, results.get(Variant.COARSE), rounds, "");
    }

    private static void judgeCure(RunContext ctx, ClaimSpec claim, List<RoundResult> list, int rounds,
                                  String extra) {
        long finished = list.stream().filter(RoundResult::finished).count();
        long deadlocked = list.stream().filter(RoundResult::deadlocked).count();
        ctx.claim(claim, Verdict.check(finished == rounds && deadlocked == 0, String.format(
                "%d of %d rounds finished, %d deadlocked (needs all finished, none deadlocked)%s%s", finished, rounds,
                deadlocked, extra, troubles(list, RoundResult::finished))));
    }

    /** What became of the threads in each round that did not go {@code asNeeded}; empty when every round did. */
    private static String troubles(List<RoundResult> list, Predicate<RoundResult> asNeeded) {
        StringBuilder why = new StringBuilder();
        for (int r = 0; r < list.size(); r++) {
            if (!asNeeded.test(list.get(r))) {
                why.append("; round ").append(r + 1).append(": ").append(list.get(r).trouble());
            }
        }
        return why.toString();
    }

    // ---- one round --------------------------------------------------------------------------------------------

    private static RoundResult round(RunContext ctx, DeadlockDetector detector, Variant variant, long tryTimeoutMs,
                                     boolean traced, Table.Builder cycleTable) throws Exception {
        NamedLock a = new NamedLock("A");
        NamedLock b = new NamedLock("B");
        NamedLock coarse = new NamedLock("the coarse lock");
        CountDownLatch go = new CountDownLatch(1);
        Worker one = new Worker(ctx, variant, "deadlock-1", a, b, coarse, go, tryTimeoutMs, 1, traced);
        Worker two = new Worker(ctx, variant, "deadlock-2", b, a, coarse, go, tryTimeoutMs, 3, traced);
        Thread t1 = Thread.ofPlatform().name("deadlock-1").unstarted(one);
        Thread t2 = Thread.ofPlatform().name("deadlock-2").unstarted(two);
        try {
            t1.start();
            t2.start();
            // The schedule: neither thread asks for its second lock before both made their first move.
            awaitFirstMoves(ctx, one, t1, two, t2);
            Map<LockRef, String> lockNames = variant == Variant.BROKEN ? nameLocks(detector, t1, t2)
                    : Map.of();
            long opened = System.nanoTime();
            go.countDown();

            if (variant == Variant.BROKEN) {
                return brokenRound(ctx, detector, one, t1, two, t2, lockNames, opened, traced, cycleTable);
            }
            boolean finished = join(t1, t2, STUCK_AFTER);
            boolean deadlocked = false;
            if (!finished) {
                deadlocked = detector.detect().hasCycleOf(t1, t2);
            }
            boolean bothFinished = finished && one.outcome().finished() && two.outcome().finished();
            return new RoundResult(deadlocked, Double.NaN, false, false, bothFinished,
                    one.outcome().attempts() - 1 + two.outcome().attempts() - 1,
                    bothFinished ? "" : trouble(one, t1) + "; " + trouble(two, t2));
        } finally {
            // Whatever happened, nothing is left waiting: every wait here answers interruption.
            t1.interrupt();
            t2.interrupt();
            if (!join(t1, t2, STUCK_AFTER)) {
                throw new IllegalStateException("a deadlock thread did not end after being interrupted");
            }
        }
    }

    /** Before the latch opens, each thread holds exactly its first lock: that is how the report's locks get names. */
    private static Map<LockRef, String> nameLocks(DeadlockDetector detector, Thread t1, Thread t2) {
        Map<LockRef, String> names = new HashMap<>();
        detector.locksHeldBy(t1).forEach(l -> names.put(l, "A"));
        detector.locksHeldBy(t2).forEach(l -> names.put(l, "B"));
        return names;
    }

    private static RoundResult brokenRound(RunContext ctx, DeadlockDetector detector, Worker one, Thread t1,
                                           Worker two, Thread t2, Map<LockRef, String> lockNames, long opened,
                                           boolean traced, Table.Builder cycleTable) throws Exception {
        Optional<DeadlockReport> found = detector.awaitDeadlock(STUCK_AFTER, t1, t2);
        long seen = System.nanoTime();
        if (found.isEmpty()) {
            return new RoundResult(false, Double.NaN, false, false, false, 0,
                    "no deadlock seen within " + STUCK_AFTER.toSeconds() + " s: " + trouble(one, t1) + "; "
                            + trouble(two, t2));
        }
        DeadlockReport.Cycle cycle = found.get().cycleOf(t1, t2).orElseThrow();
        if (traced) {
            ctx.trace().span("lab · DeadlockDetector", "findDeadlockedThreads every 10 ms → cycle found", opened,
                    seen);
        }
        Optional<DeadlockReport.Link> oneWaits = cycle.linkOf(t1.threadId());
        Optional<DeadlockReport.Link> twoWaits = cycle.linkOf(t2.threadId());
        boolean named = cycle.links().size() == 2 && oneWaits.isPresent() && twoWaits.isPresent()
                && "B".equals(lockNames.get(oneWaits.get().waitsFor()))
                && oneWaits.get().ownerId() == t2.threadId()
                && "A".equals(lockNames.get(twoWaits.get().waitsFor()))
                && twoWaits.get().ownerId() == t1.threadId();
        if (cycleTable != null) {
            for (DeadlockReport.Link link : cycle.links()) {
                cycleTable.row(link.threadName(), link.state().name(), link.waitsFor().toString(),
                        lockNames.getOrDefault(link.waitsFor(), "?"), link.ownerName(),
                        String.valueOf(link.waitingAt()));
            }
        }
        // Break the cycle: interrupt one thread (the victim); the other must then finish on its own.
        t2.interrupt();
        boolean ended = join(t1, t2, STUCK_AFTER);
        boolean brokenOk = ended && two.outcome().interrupted() && one.outcome().finished();
        return new RoundResult(true, (seen - opened) / 1e6, named, brokenOk, false, 0,
                brokenOk ? "" : trouble(one, t1) + "; " + trouble(two, t2));
    }

    /** One thread's part in a round, in words: finished, what stopped it, or where it still is. */
    static String trouble(Worker worker, Thread thread) {
        if (thread.isAlive()) {
            StackTraceElement[] stack = thread.getStackTrace();
            return thread.getName() + " still " + thread.getState() + (stack.length == 0 ? "" : " at " + stack[0]);
        }
        Outcome outcome = worker.outcome();
        return thread.getName() + (outcome.finished() ? " finished" : " did not finish: " + outcome.trouble());
    }

    private static void awaitFirstMoves(RunContext ctx, Worker one, Thread t1, Worker two, Thread t2)
            throws InterruptedException {
        long deadline = System.nanoTime() + STUCK_AFTER.toNanos();
        while (!(one.door().heldOrAwaitedBy(t1) && two.door().heldOrAwaitedBy(t2))) {
            ctx.checkCancelled();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the threads did not make their first move within " + STUCK_AFTER);
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            LockSupport.parkNanos(50_000); // a polled condition, not a sleep for luck: it ends when both have moved
        }
    }

    private static boolean join(Thread t1, Thread t2, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        for (Thread t : List.of(t1, t2)) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                t.join(Duration.ofNanos(left));
            }
        }
        return !t1.isAlive() && !t2.isAlive();
    }

    // ---- one thread -------------------------------------------------------------------------------------------

    /**
     * One of the two threads: wants {@code mine} then {@code theirs}, and goes about it the variant's way. Run once,
     * on one thread; its {@link #outcome()} may be read from any thread and is final once that thread has ended.
     */
    static final class Worker implements Runnable {
        private final RunContext ctx;
        private final Variant variant;
        private final NamedLock mine;
        private final NamedLock theirs;
        private final NamedLock coarse;
        private final CountDownLatch go;
        private final long tryTimeoutMs;
        private final int backOffFactor;
        private final boolean traced;
        private final String lane;
        private volatile Outcome outcome = new Outcome(false, false, 0, "ended without an outcome");

        Worker(RunContext ctx, Variant variant, String name, NamedLock mine, NamedLock theirs, NamedLock coarse,
               CountDownLatch go, long tryTimeoutMs, int backOffFactor, boolean traced) {
            this.ctx = ctx;
            this.variant = variant;
            this.mine = mine;
            this.theirs = theirs;
            this.coarse = coarse;
            this.go = go;
            this.tryTimeoutMs = tryTimeoutMs;
            this.backOffFactor = backOffFactor;
            this.traced = traced;
            this.lane = variant.label + " · " + name;
        }

        Outcome outcome() {
            return outcome;
        }

        /** The lock this worker's first move goes for. */
        NamedLock door() {
            return switch (variant) {
                case BROKEN, TRY_LOCK -> mine;
                case ORDERED -> first();
                case COARSE -> coarse;
            };
        }

        private NamedLock first() {
            return mine.name().compareTo(theirs.name()) <= 0 ? mine : theirs;
        }

        private NamedLock second() {
            return first() == mine ? theirs : mine;
        }

        private void span(String name, long from, long to) {
            if (traced) {
                ctx.trace().span(lane, name, from, to);
            }
        }

        @Override
        public void run() {
            try {
                outcome = switch (variant) {
                    case BROKEN -> nested(mine, theirs);
                    case ORDERED -> nested(first(), second());
                    case TRY_LOCK -> withTryLock();
                    case COARSE -> coarse();
                };
            } catch (InterruptedException e) {
                outcome = new Outcome(false, true, outcome.attempts(), "interrupted" + where(e));
            } catch (RuntimeException | Error e) {
                // Kept before the thread dies, so the round's evidence names it even where stderr is not kept.
                outcome = new Outcome(false, false, outcome.attempts(), e + where(e));
                throw e;
            }
        }

        /** The innermost frame of this class in {@code e}'s stack: where in the schedule it happened. */
        private static String where(Throwable e) {
            for (StackTraceElement frame : e.getStackTrace()) {
                if (frame.getClassName().startsWith(Deadlock.class.getName())) {
                    return " in " + frame.getMethodName() + " (line " + frame.getLineNumber() + ")";
                }
            }
            return "";
        }

        /** Holds {@code outer}, waits at the latch, then takes {@code inner}: the classic nested acquisition. */
        private Outcome nested(NamedLock outer, NamedLock inner) throws InterruptedException {
            long asked = System.nanoTime();
            outer.lockInterruptibly();
            long got = System.nanoTime();
            span("waits for " + outer, asked, got);
            try {
                go.await();
                long asks = System.nanoTime();
                try {
                    inner.lockInterruptibly();
                } catch (InterruptedException e) {
                    span("waits for " + inner + " — interrupted", asks, System.nanoTime());
                    throw e;
                }
                long has = System.nanoTime();
                span("waits for " + inner, asks, has);
                inner.unlock();
                span("holds " + inner, has, System.nanoTime());
                return Outcome.done(1);
            } finally {
                outer.unlock();
                span("holds " + outer, got, System.nanoTime());
            }
        }

        private Outcome withTryLock() throws InterruptedException {
            for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                ctx.checkCancelled();
                long asked = System.nanoTime();
                mine.lockInterruptibly();
                long got = System.nanoTime();
                span("waits for " + mine, asked, got);
                boolean done;
                try {
                    go.await();
                    long asks = System.nanoTime();
                    done = theirs.tryLock(tryTimeoutMs, TimeUnit.MILLISECONDS);
                    long answered = System.nanoTime();
                    span("tryLock(" + theirs + ", " + tryTimeoutMs + " ms) → " + done, asks, answered);
                    if (done) {
                        theirs.unlock();
                        span("holds " + theirs, answered, System.nanoTime());
                    }
                } finally {
                    mine.unlock();
                    span("holds " + mine, got, System.nanoTime());
                }
                if (done) {
                    return Outcome.done(attempt);
                }
                outcome = new Outcome(false, false, attempt, "");
                long pause = tryTimeoutMs * backOffFactor;
                long from = System.nanoTime();
                Thread.sleep(pause); // the back-off: different per thread, so the retries do not collide again
                span("backs off " + pause + " ms", from, System.nanoTime());
            }
            return new Outcome(false, false, MAX_ATTEMPTS, "gave up after " + MAX_ATTEMPTS + " attempts");
        }

        private Outcome coarse() throws InterruptedException {
            long asked = System.nanoTime();
            coarse.lockInterruptibly();
            long got = System.nanoTime();
            span("waits for " + coarse, asked, got);
            try {
                go.await();
                return Outcome.done(1);
            } finally {
                coarse.unlock();
                span("holds " + coarse + " (it guards A and B)", got, System.nanoTime());
            }
        }
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int rounds) throws InterruptedException {
        // Each broken round waits out one timed acquire; allow that plus thread start-up per round.
        Duration limit = Duration.ofSeconds(30).plusMillis((long) rounds * (ctx.intParam("py-timeout-ms") + 200));
        ProbeOutcome outcome = PythonProbes.of(ctx).run("deadlock.py", List.of(), limit,
                "--rounds", Integer.toString(rounds),
                "--timeout-ms", Integer.toString(ctx.intParam("py-timeout-ms")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_DEADLOCK, PY_ORDER_CURE);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode broken = json.path("broken");
                JsonNode ordered = json.path("ordered");
                int bothFalse = broken.path("rounds_both_timed_out").asInt(-1);
                int anyTrue = broken.path("rounds_any_acquired").asInt(-1);
                int finished = ordered.path("rounds_finished").asInt(-1);
                ctx.table(Table.builder("CPython " + ran.interpreter().version() + ": the same schedule with"
                                        + " threading.Lock and threading.Barrier", "variant", "rounds",
                                "both acquire(timeout) → False", "a second lock acquired", "finished",
                                "timeout ms")
                        .row("broken: opposite orders", broken.path("rounds").asInt(), bothFalse, anyTrue, "—",
                                json.path("timeout_ms").asInt())
                        .row("cure: one global order", ordered.path("rounds").asInt(), "—", "—", finished, "—")
                        .build());
                ctx.claim(PY_DEADLOCK, Verdict.check(bothFalse == rounds && anyTrue == 0, String.format(
                        "in %d of %d rounds both threads' acquire(timeout=%d ms) returned False; a second lock was"
                                + " acquired in %d rounds (needs all and none)", bothFalse, rounds,
                        json.path("timeout_ms").asInt(), anyTrue)));
                ctx.claim(PY_ORDER_CURE, Verdict.check(finished == rounds, String.format(
                        "%d of %d rounds finished with both threads taking A before B (needs all)", finished,
                        rounds)));
            }
        }
    }
}

package dev.conclab.lab.experiments.threading;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.threading.RaceStructures.CheckThenActRegister;
import dev.conclab.lab.experiments.threading.RaceStructures.ComputeMapCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.Gap;
import dev.conclab.lab.experiments.threading.RaceStructures.GetPutMapCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.LockCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.LockedRegister;
import dev.conclab.lab.experiments.threading.RaceStructures.MergeMapCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.PlainCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.PutIfAbsentRegister;
import dev.conclab.lab.experiments.threading.RaceStructures.SnapshotCounter;
import dev.conclab.lab.experiments.threading.RaceStructures.SynchronizedCounter;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * Race conditions, forced on every run, beside the cures that make them impossible.
 *
 * <p>A race condition is a result that depends on how threads interleave. Three classic shapes, each <b>Broken</b>:
 * <ol>
 *   <li><b>Lost update.</b> {@code count++} is a read, an add and a write. The broken counter is written out that
 *       way, and every thread meets the others at a {@link CyclicBarrier} between its read and its write: all read
 *       the same value, all write the same value plus one, and all but one increment per round vanish.</li>
 *   <li><b>Check-then-act.</b> "If the key is absent, put mine: I was first." On a
 *       {@code Collections.synchronizedMap}, every thread checks, meets the others, then acts: every thread sees
 *       the key absent and every thread believes it was first.</li>
 *   <li><b>A thread-safe object used non-atomically.</b> {@code get} then {@code put} on a
 *       {@code ConcurrentHashMap}, forced the same way: each call is thread-safe, the pair is not one step, and
 *       increments are lost just as on the plain field.</li>
 * </ol>
 * Beside them, the cures, each run with all threads released together by the same barrier right before every
 * operation (the worst moment for contention): {@code synchronized}, {@code ReentrantLock}, {@code AtomicLong},
 * {@code LongAdder}, confinement (a counter per thread, summed once the threads are joined), client-side locking
 * of the synchronized map, {@code ConcurrentHashMap.putIfAbsent}, {@code merge} and {@code compute}, and an
 * immutable map replaced through {@code AtomicReference.updateAndGet}. The same immutable map installed with a
 * plain {@code set} from a stale snapshot is broken again: immutability protects readers, not the replace.
 *
 * <p>The claims count what went wrong: lost updates (expected minus observed count) or extra "I was first"
 * winners (winners minus keys). Broken versions must show more than zero, correct ones exactly zero. A free-running
 * {@code count++} from the threads, with no barrier, is shown too, without a claim: how much it loses depends on
 * the scheduler and the JIT, and may be nothing. The CPython probe forces the same lost update and check-then-act
 * with a {@code threading.Barrier}, cures them with a {@code Lock} and {@code dict.setdefault}, and reports what a
 * free-running {@code counter += 1} lost.
 *
 * <p>The barrier shows one bad interleaving; {@code RaceLinearizabilityTest} (lincheck's model checker, in the
 * test suite) searches all interleavings of the same structures with nothing in the gap, and finds a
 * non-linearizable history for each broken one and none for its cure.
 *
 * <p>Stateless: each run builds its own structures and threads, and stops every thread before it returns.
 *
 * <p>Run: {@code ./conclab run race-conditions --trace races.json}. Expect each broken version to lose
 * (threads − 1) × rounds updates (one survivor per round) and each cure to lose none; the trace shows the first
 * rounds of the broken counter, both threads reading before either writes.
 */
public final class RaceConditions implements Experiment {

    static final ClaimSpec COUNTER_LOST_UPDATE = new ClaimSpec("counter-lost-update",
            "count++ on a plain field is a read then a write: when every thread reads before any writes, updates"
                    + " are lost on every run.");
    static final ClaimSpec COUNTER_FIXED = new ClaimSpec("counter-fixed",
            "synchronized, ReentrantLock, AtomicLong, LongAdder and per-thread counters summed at join lose no"
                    + " update, with all threads released together before every increment.");
    static final ClaimSpec CHECK_THEN_ACT = new ClaimSpec("check-then-act",
            "Check-then-act on a synchronized map lets more than one thread act on the same key: each sees it"
                    + " absent, each puts, each believes it was first.");
    static final ClaimSpec CHECK_THEN_ACT_FIXED = new ClaimSpec("check-then-act-fixed",
            "ConcurrentHashMap.putIfAbsent, or the check and the put under the map's own lock, lets exactly one"
                    + " thread act per key.");
    static final ClaimSpec SAFE_MAP_GET_PUT = new ClaimSpec("thread-safe-map-get-put",
            "A get then a put on a ConcurrentHashMap loses updates: each call is thread-safe, the sequence of two"
                    + " calls is not atomic.");
    static final ClaimSpec SAFE_MAP_MERGE = new ClaimSpec("thread-safe-map-merge",
            "ConcurrentHashMap.merge and compute update a key in one atomic step and lose no update.");
    static final ClaimSpec IMMUTABLE_SNAPSHOT = new ClaimSpec("immutable-snapshot",
            "An immutable map replaced through AtomicReference.updateAndGet loses no update; installed with a plain"
                    + " set from a stale snapshot, it loses updates.");
    static final ClaimSpec PY_LOST_UPDATE = new ClaimSpec("py-lost-update",
            "In CPython, x = counter then counter = x + 1 loses updates when every thread reads before any writes:"
                    + " the GIL does not make the pair atomic.");
    static final ClaimSpec PY_LOCK = new ClaimSpec("py-lock",
            "In CPython, the same read and write under a threading.Lock lose no update.");
    static final ClaimSpec PY_CHECK_THEN_ACT = new ClaimSpec("py-check-then-act",
            "In CPython, check-then-act on a dict (if key not in d: d[key] = me) lets more than one thread act on"
                    + " the same key.");
    static final ClaimSpec PY_SETDEFAULT = new ClaimSpec("py-setdefault",
            "In CPython, dict.setdefault checks and inserts in one step: exactly one thread acts per key.");

    /** A thread that has not reached the barrier by then is stuck, not slow: the run fails instead of hanging. */
    private static final long GIVE_UP_SECONDS = 30;
    /** Rounds of the broken counter drawn in the trace. */
    private static final int TRACED_ROUNDS = 3;
    private static final String KEY = "hits";

    @Override
    public String id() {
        return "race-conditions";
    }

    @Override
    public String title() {
        return "Race conditions forced every run: lost update, check-then-act, a thread-safe map used non-atomically";
    }

    @Override
    public String description() {
        return "Forces three races with a barrier between the read (or check) and the write (or act) — a plain"
                + " count++, check-then-act on a synchronized map, get-then-put on a ConcurrentHashMap — and counts"
                + " the lost updates; runs the cures (synchronized, ReentrantLock, AtomicLong, LongAdder,"
                + " confinement, putIfAbsent, merge, compute, an immutable snapshot swapped by CAS) under the same"
                + " barrier and shows they lose none; does the same in CPython.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("threads", "threads racing on each structure", 2, 16, 2, 2),
                new Param.IntParam("rounds", "forced rounds: each thread does one operation per round", 1,
                        200_000, 20_000, 1_000),
                new Param.IntParam("iterations", "free-running count++ iterations per thread (no claim)", 1,
                        100_000_000, 10_000_000, 1_000_000),
                new Param.IntParam("py-rounds", "forced rounds in CPython", 1, 100_000, 5_000, 500),
                new Param.IntParam("py-iterations", "free-running counter += 1 iterations per CPython thread"
                        + " (no claim)", 1, 100_000_000, 1_000_000, 200_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(COUNTER_LOST_UPDATE, COUNTER_FIXED, CHECK_THEN_ACT, CHECK_THEN_ACT_FIXED, SAFE_MAP_GET_PUT,
                SAFE_MAP_MERGE, IMMUTABLE_SNAPSHOT, PY_LOST_UPDATE, PY_LOCK, PY_CHECK_THEN_ACT, PY_SETDEFAULT);
    }

    /** How one version of one race came out: {@link #wrong()} is how far the observed count is from the correct. */
    record Outcome(String runtime, String race, String version, boolean broken, String unit, long expected,
                   long observed) {
        long wrong() {
            return Math.abs(expected - observed);
        }

        String ratio() {
            return String.format("%d of %d %s", wrong(), expected, unit);
        }
    }

    private static final String COUNTER = "lost update: count++";
    private static final String REGISTER = "check-then-act: if absent, put (I was first)";
    private static final String SAFE_MAP = "ConcurrentHashMap: read-modify-write of one key";
    private static final String SNAPSHOTS = "immutable map, replaced whole";
    private static final String LOST = "updates lost";
    private static final String EXTRA = "extra first-claimers";

    @Override
    public void run(RunContext ctx) throws Exception {
        int threads = ctx.intParam("threads");
        int rounds = ctx.intParam("rounds");
        List<Outcome> java = new ArrayList<>();

        ctx.progress(0.0, "lost update on a plain counter");
        java.addAll(counters(ctx, threads, rounds));
        ctx.progress(0.3, "check-then-act on a map");
        java.addAll(registers(ctx, threads, rounds));
        ctx.progress(0.5, "a thread-safe map used non-atomically");
        java.addAll(mapCounters(ctx, threads, rounds));
        ctx.progress(0.6, "immutable snapshots");
        java.addAll(snapshots(ctx, threads, rounds));
        judge(ctx, COUNTER_LOST_UPDATE, COUNTER_FIXED, java, o -> o.race().equals(COUNTER));
        judge(ctx, CHECK_THEN_ACT, CHECK_THEN_ACT_FIXED, java, o -> o.race().equals(REGISTER));
        judge(ctx, SAFE_MAP_GET_PUT, SAFE_MAP_MERGE, java, o -> o.race().equals(SAFE_MAP));
        judgeTogether(ctx, IMMUTABLE_SNAPSHOT, java, o -> o.race().equals(SNAPSHOTS));

        ctx.progress(0.7, "free-running count++ (no claim)");
        List<Outcome> freeRunning = new ArrayList<>(freeRunning(ctx, threads, ctx.intParam("iterations")));

        ctx.progress(0.8, "CPython");
        List<Outcome> python = python(ctx, threads, freeRunning);

        Table.Builder table = Table.builder("Forced races (" + threads + " threads meet at a barrier every round)"
                        + " and their cures", "runtime", "race", "version", "expected", "observed",
                "went wrong", "claim needs");
        for (List<Outcome> group : List.of(java, python)) {
            for (Outcome o : group) {
                table.row(o.runtime(), o.race(), o.version(), o.expected(), o.observed(), o.ratio(),
                        o.broken() ? "needs > 0" : "needs 0");
            }
        }
        for (Outcome o : freeRunning) {
            table.row(o.runtime(), o.race(), o.version(), o.expected(), o.observed(), o.ratio(),
                    "no claim: depends on scheduling");
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }


    // ---- the races ------------------------------------------------------------------------------------------

    /** The broken counter (read; barrier; write) and the five cures, all under the same barrier. */
    private static List<Outcome> counters(RunContext ctx, int threads, int rounds) throws Exception {
        long increments = (long) threads * rounds;
        PlainCounter plain = new PlainCounter();
        forEachRound(ctx, threads, rounds, false, (t, round, meet) -> {
            if (round < TRACED_ROUNDS) {
                traceRound(ctx, plain, t, round, meet);
            } else {
                plain.increment(meet);
            }
        });
        SynchronizedCounter sync = new SynchronizedCounter();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> sync.increment());
        LockCounter locked = new LockCounter();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> locked.increment());
        AtomicLong atomic = new AtomicLong();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> atomic.incrementAndGet());
        LongAdder adder = new LongAdder();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> adder.increment());
        long confined = Arrays.stream(together(ctx, threads, (t, meet) -> {
            long mine = 0; // confined to this thread: nothing to race on
            for (int round = 0; round < rounds; round++) {
                meet.between();
                mine++;
            }
            return mine;
        })).sum();
        return List.of(
                jvm(COUNTER, "Broken: read; barrier; write read + 1", true, LOST, increments, plain.get()),
                jvm(COUNTER, "synchronized increment", false, LOST, increments, sync.get()),
                jvm(COUNTER, "ReentrantLock around read and write", false, LOST, increments, locked.get()),
                jvm(COUNTER, "AtomicLong.incrementAndGet", false, LOST, increments, atomic.get()),
                jvm(COUNTER, "LongAdder.increment", false, LOST, increments, adder.sum()),
                jvm(COUNTER, "confinement: a counter per thread, summed at join", false, LOST, increments,
                        confined));
    }

    /** "I was first" on a fresh key per round: broken check-then-act, client-side locking, putIfAbsent. */
    private static List<Outcome> registers(RunContext ctx, int threads, int rounds) throws Exception {
        CheckThenActRegister checkThenAct = new CheckThenActRegister();
        long brokenWinners = firstClaims(ctx, threads, rounds, false, checkThenAct::claim);
        LockedRegister clientLocked = new LockedRegister();
        long lockedWinners = firstClaims(ctx, threads, rounds, true,
                (key, who, meet) -> clientLocked.claim(key, who));
        PutIfAbsentRegister putIfAbsent = new PutIfAbsentRegister();
        long putIfAbsentWinners = firstClaims(ctx, threads, rounds, true,
                (key, who, meet) -> putIfAbsent.claim(key, who));
        return List.of(
                jvm(REGISTER, "Broken: synchronizedMap containsKey; barrier; put", true, EXTRA, rounds,
                        brokenWinners),
                jvm(REGISTER, "synchronized (map) { containsKey; put }", false, EXTRA, rounds, lockedWinners),
                jvm(REGISTER, "ConcurrentHashMap.putIfAbsent", false, EXTRA, rounds, putIfAbsentWinners));
    }

    /** One key of a ConcurrentHashMap: get; barrier; put, beside merge and compute. */
    private static List<Outcome> mapCounters(RunContext ctx, int threads, int rounds) throws Exception {
        long increments = (long) threads * rounds;
        GetPutMapCounter getPut = new GetPutMapCounter();
        forEachRound(ctx, threads, rounds, false, (t, round, meet) -> getPut.increment(KEY, meet));
        MergeMapCounter merge = new MergeMapCounter();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> merge.increment(KEY));
        ComputeMapCounter compute = new ComputeMapCounter();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> compute.increment(KEY));
        return List.of(
                jvm(SAFE_MAP, "Broken: get; barrier; put get + 1", true, LOST, increments, getPut.get(KEY)),
                jvm(SAFE_MAP, "merge(key, 1, Long::sum)", false, LOST, increments, merge.get(KEY)),
                jvm(SAFE_MAP, "compute(key, (k, v) -> v + 1)", false, LOST, increments, compute.get(KEY)));
    }

    /** An immutable map swapped whole: plain set from a stale snapshot, and updateAndGet. */
    private static List<Outcome> snapshots(RunContext ctx, int threads, int rounds) throws Exception {
        long increments = (long) threads * rounds;
        SnapshotCounter stale = new SnapshotCounter();
        forEachRound(ctx, threads, rounds, false, (t, round, meet) -> stale.incrementFromStale(KEY, meet));
        SnapshotCounter swapped = new SnapshotCounter();
        forEachRound(ctx, threads, rounds, true, (t, round, meet) -> swapped.increment(KEY));
        return List.of(
                jvm(SNAPSHOTS, "Broken: get snapshot; barrier; set(snapshot + 1)", true, LOST, increments,
                        stale.get(KEY)),
                jvm(SNAPSHOTS, "AtomicReference.updateAndGet (compare-and-set)", false, LOST, increments,
                        swapped.get(KEY)));
    }

    private static Outcome jvm(String race, String version, boolean broken, String unit, long expected,
                               long observed) {
        return new Outcome("JVM", race, version, broken, unit, expected, observed);
    }

    // ---- judging --------------------------------------------------------------------------------------------

    /** The broken versions of a race must go wrong, every correct one must not. */
    private static void judge(RunContext ctx, ClaimSpec brokenClaim, ClaimSpec fixedClaim, List<Outcome> all,
                              Predicate<Outcome> race) {
        List<Outcome> broken = all.stream().filter(race).filter(Outcome::broken).toList();
        List<Outcome> fixed = all.stream().filter(race).filter(o -> !o.broken()).toList();
        ctx.claim(brokenClaim, Verdict.check(!broken.isEmpty() && broken.stream().allMatch(o -> o.wrong() > 0),
                describe(broken) + " (needs > 0)"));
        ctx.claim(fixedClaim, Verdict.check(!fixed.isEmpty() && fixed.stream().allMatch(o -> o.wrong() == 0),
                describe(fixed) + " (needs exactly 0 each)"));
    }

    /** One claim about a broken version and its cure together. */
    private static void judgeTogether(RunContext ctx, ClaimSpec claim, List<Outcome> all, Predicate<Outcome> race) {
        List<Outcome> versions = all.stream().filter(race).toList();
        boolean holds = versions.stream().anyMatch(Outcome::broken)
                && versions.stream().anyMatch(o -> !o.broken())
                && versions.stream().allMatch(o -> o.broken() ? o.wrong() > 0 : o.wrong() == 0);
        ctx.claim(claim, Verdict.check(holds, describe(versions) + " (needs > 0 for the broken version, exactly 0"
                + " for the cure)"));
    }

    private static String describe(List<Outcome> outcomes) {
        return String.join("; ", outcomes.stream().map(o -> o.version() + ": " + o.ratio()).toList());
    }

    // ---- the harness ----------------------------------------------------------------------------------------

    /** The body of one racing thread: {@code meet} returns once every thread of the race has called it. */
    @FunctionalInterface
    private interface Racer {
        long run(int thread, Gap meet) throws Exception;
    }

    /** One operation of one round. */
    @FunctionalInterface
    private interface RoundBody {
        void run(int thread, int round, Gap meet) throws Exception;
    }

    /** One "I was first" attempt on {@code key}; returns whether this thread won it. */
    @FunctionalInterface
    private interface Claim {
        boolean claim(int key, int who, Gap meet) throws Exception;
    }

    /**
     * Runs {@code body} for every round on every thread. With {@code meetFirst}, all threads meet before each
     * operation (the cures, which must not be split); otherwise the operation itself calls {@code meet} between
     * its halves (the broken versions), which keeps the threads in lock step just the same.
     */
    private static void forEachRound(RunContext ctx, int threads, int rounds, boolean meetFirst, RoundBody body)
            throws Exception {
        together(ctx, threads, (t, meet) -> {
            for (int round = 0; round < rounds; round++) {
                if (meetFirst) {
                    meet.between();
                }
                body.run(t, round, meet);
            }
            return 0;
        });
    }

    /** Every thread tries to be first on every key, one fresh key per round; returns the number of winners. */
    private static long firstClaims(RunContext ctx, int threads, int rounds, boolean meetFirst, Claim claim)
            throws Exception {
        return Arrays.stream(together(ctx, threads, (t, meet) -> {
            long won = 0;
            for (int key = 0; key < rounds; key++) {
                if (meetFirst) {
                    meet.between();
                }
                if (claim.claim(key, t, meet)) {
                    won++;
                }
            }
            return won;
        })).sum();
    }

    /**
     * Starts {@code threads} platform threads on {@code racer}, all sharing one barrier, and returns what each
     * returned. If one fails, the others are interrupted (which breaks the barrier for all) and the failure is
     * rethrown; a barrier not reached within {@value #GIVE_UP_SECONDS} s fails the run rather than hanging it.
     */
    private static long[] together(RunContext ctx, int threads, Racer racer) throws Exception {
        ctx.checkCancelled();
        CyclicBarrier barrier = new CyclicBarrier(threads);
        Gap meet = () -> {
            try {
                barrier.await(GIVE_UP_SECONDS, TimeUnit.SECONDS);
            } catch (BrokenBarrierException | TimeoutException e) {
                throw new IllegalStateException("a racing thread did not reach the barrier", e);
            }
        };
        long[] results = new long[threads];
        try (ExecutorService pool = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("racer-", 0).factory())) {
            List<Future<Long>> futures = new ArrayList<>(threads);
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> racer.run(thread, meet)));
            }
            try {
                for (int t = 0; t < threads; t++) {
                    results[t] = futures.get(t).get();
                }
            } catch (ExecutionException e) {
                pool.shutdownNow(); // the others may be waiting at the barrier for the thread that failed
                throw e.getCause() instanceof Exception cause ? cause : e;
            } catch (InterruptedException e) {
                pool.shutdownNow();
                throw e;
            }
        }
        return results;
    }

    /** One round of the broken counter, with trace spans for the read, the wait and the write. */
    private static void traceRound(RunContext ctx, PlainCounter counter, int thread, int round, Gap meet)
            throws InterruptedException {
        String lane = "racer-" + thread;
        long start = System.nanoTime();
        long[] marks = new long[2];
        long wrote = counter.increment(() -> {
            marks[0] = System.nanoTime();
            meet.between();
            marks[1] = System.nanoTime();
        });
        long end = System.nanoTime();
        ctx.trace().span(lane, "round " + (round + 1) + ": read " + (wrote - 1), start, marks[0]);
        ctx.trace().span(lane, "wait until every thread has read", marks[0], marks[1]);
        ctx.trace().span(lane, "write " + wrote, marks[1], end);
    }

    // ---- free-running count++, no claim ---------------------------------------------------------------------

    /** A plain and a volatile field for the free-running counters; each thread increments without any rendezvous. */
    private static final class Unguarded {
        long plain;
        volatile long shared;
    }

    private static List<Outcome> freeRunning(RunContext ctx, int threads, int iterations) throws Exception {
        Unguarded fields = new Unguarded();
        together(ctx, threads, (t, meet) -> {
            meet.between(); // start together, then run free
            for (int i = 0; i < iterations; i++) {
                fields.plain++;
            }
            return 0;
        });
        together(ctx, threads, (t, meet) -> {
            meet.between();
            for (int i = 0; i < iterations; i++) {
                fields.shared++; // volatile makes each read and write visible, not the pair atomic
            }
            return 0;
        });
        long expected = (long) threads * iterations;
        return List.of(
                new Outcome("JVM", "free-running count++, no barrier", "plain long field", true, "updates lost",
                        expected, fields.plain),
                new Outcome("JVM", "free-running count++, no barrier", "volatile long field", true, "updates lost",
                        expected, fields.shared));
    }

    // ---- CPython --------------------------------------------------------------------------------------------

    /** Runs the probe; returns its forced outcomes and adds its free-running one to {@code freeRunning}. */
    private static List<Outcome> python(RunContext ctx, int threads, List<Outcome> freeRunning) throws Exception {
        int rounds = ctx.intParam("py-rounds");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("races.py", List.of(), Duration.ofMinutes(5),
                "--threads", Integer.toString(threads),
                "--rounds", Integer.toString(rounds),
                "--iterations", Integer.toString(ctx.intParam("py-iterations")));
        return switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_LOST_UPDATE, PY_LOCK, PY_CHECK_THEN_ACT, PY_SETDEFAULT);
                yield List.of();
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String version = "CPython " + ran.interpreter().version();
                JsonNode counter = json.path("forced_counter");
                long increments = counter.path("expected").asLong();
                Outcome broken = new Outcome(version, "lost update: counter += 1",
                        "Broken: x = counter; barrier.wait(); counter = x + 1", true, "updates lost", increments,
                        counter.path("broken").asLong());
                Outcome lock = new Outcome(version, "lost update: counter += 1",
                        "barrier.wait(); with lock: x = counter; counter = x + 1", false, "updates lost", increments,
                        counter.path("locked").asLong());
                JsonNode register = json.path("check_then_act");
                long keys = register.path("keys").asLong();
                Outcome checkThenAct = new Outcome(version, "check-then-act on a dict",
                        "Broken: absent = key not in d; barrier.wait(); if absent: d[key] = me", true,
                        "extra first-claimers", keys, register.path("broken_winners").asLong());
                Outcome setdefault = new Outcome(version, "check-then-act on a dict",
                        "barrier.wait(); d.setdefault(key, me) == me", false, "extra first-claimers", keys,
                        register.path("setdefault_winners").asLong());
                judgeOne(ctx, PY_LOST_UPDATE, broken);
                judgeOne(ctx, PY_LOCK, lock);
                judgeOne(ctx, PY_CHECK_THEN_ACT, checkThenAct);
                judgeOne(ctx, PY_SETDEFAULT, setdefault);
                JsonNode free = json.path("free_running");
                freeRunning.add(new Outcome(version, "free-running counter += 1, no barrier",
                        free.path("threads").asInt() + " threads, switch interval "
                                + json.path("switch_interval").asDouble() * 1e3 + " ms", true, "updates lost",
                        free.path("expected").asLong(), free.path("observed").asLong()));
                yield List.of(broken, lock, checkThenAct, setdefault);
            }
        };
    }

    private static void judgeOne(RunContext ctx, ClaimSpec claim, Outcome o) {
        ctx.claim(claim, Verdict.check(o.broken() ? o.wrong() > 0 : o.wrong() == 0, o.version() + ": " + o.ratio()
                + (o.broken() ? " (needs > 0)" : " (needs exactly 0)")));
    }
}

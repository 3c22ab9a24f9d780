package dev.conclab.lab.experiments.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.pipeline.DeadLetter;
import dev.conclab.toolkit.pipeline.Pipeline;
import dev.conclab.toolkit.pipeline.PipelineBuilder;
import dev.conclab.toolkit.pipeline.RetryPolicy;
import dev.conclab.toolkit.pipeline.StageFunction;
import dev.conclab.toolkit.pipeline.StageOptions;
import dev.conclab.toolkit.pipeline.StageStats;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * A fault-tolerant pipeline on the toolkit's engine: a poison item, transient failures, a stuck item, and stopping
 * early, each beside what goes wrong without the cure.
 *
 * <p><b>BASELINE (Broken):</b> a parallel stream over the items, one of which throws: the terminal operation throws
 * and the caller gets none of the other results. <b>Variants:</b>
 * <ul>
 *   <li>the same items through the engine (4 workers): the poison item goes to the dead letters with its cause and
 *       the run completes; {@code sunk + dead-lettered == accepted} from the engine's own metrics;</li>
 *   <li>transient failures: every 10th item fails its first 2 attempts and one item always fails; the stage retries
 *       them with the engine's own option ({@code StageOptions.withRetry}: a {@code RetryPolicy} of up to 4
 *       attempts, exponential backoff capped at 4× the base, equal jitter, transient errors only); beside it the
 *       same stage without retries; attempts and retries are read from the engine's metrics;</li>
 *   <li>a stuck item (it waits on a latch nobody opens): <b>Broken</b> without a time limit, the pipeline never
 *       finishes; with the engine's 100 ms per-item timeout ({@code StageOptions.withTimeout}) the call is
 *       interrupted and the item dead-lettered with a {@code TimeoutException}, counted in the stage's metrics;</li>
 *   <li>stopping early ({@link FaultTolerantStops}): {@code drain()} (the source stops, everything it handed over
 *       is finished) vs {@code cancel()} (stops now; what was in flight is lost, and the metrics count it).</li>
 * </ul>
 * Every outcome here is forced: the poison and flaky items are fixed, the stuck item and the stops are held by
 * latches, so the same verdicts come on every run. Crash and resume (a process killed mid-run) is the ETL job's
 * checkpointing, tested apart.
 *
 * <p>CPython (probe {@code pipeline_faults.py}): multiprocessing.Pool.map with one raising item vs imap_unordered
 * over a per-item try/except into a dead-letter list; asyncio.gather with and without return_exceptions=True, and
 * TaskGroup cancelling the siblings of a failed task.
 *
 * <p>Run: {@code ./conclab run fault-tolerant-pipeline}. Expect the parallel stream to return nothing while the
 * engine sinks every item but the poison one, exactly {@code items + 2 × flaky + 3} attempts with retries, a stuck
 * item that stalls the pipeline until {@code cancel()} (or costs 100 ms with a timeout), nothing lost by
 * {@code drain()} and a handful of items lost by {@code cancel()}; no timing is judged except "within 1 s".
 */
public final class FaultTolerantPipeline implements Experiment {

    static final ClaimSpec POISON_FAILS_ALL = new ClaimSpec("poison-fails-all",
            "Broken: in a parallel stream, one item that throws fails the whole terminal operation: the caller gets"
                    + " the exception and none of the other results.");
    static final ClaimSpec DEAD_LETTER_COMPLETES = new ClaimSpec("dead-letter-completes",
            "On the pipeline engine the same poison item goes to the dead letters and the run completes: sunk +"
                    + " dead-lettered == accepted, and the dead letter carries the stage, the item and its cause.");
    static final ClaimSpec RETRY_RECOVERS = new ClaimSpec("retry-recovers",
            "Retrying transient failures with the stage's retry policy (exponential backoff with jitter) gets every"
                    + " flaky item through: each retry waited at least the least backoff its policy allows, and the"
                    + " attempts the engine counted are exactly the items plus the retries needed.");
    static final ClaimSpec RETRY_GIVES_UP = new ClaimSpec("retry-gives-up",
            "An item that keeps failing is dead-lettered after 4 attempts with its last cause, while without"
                    + " retries every flaky item is dead-lettered.");
    static final ClaimSpec STUCK_STALLS = new ClaimSpec("stuck-stalls",
            "Broken: without a time limit, one stuck item keeps the pipeline from finishing although every other"
                    + " item has reached the sink; only cancel() ends it.");
    static final ClaimSpec TIMEOUT_BOUNDS = new ClaimSpec("timeout-bounds",
            "With a 100 ms per-item timeout the stuck item is dead-lettered with a TimeoutException, its call is"
                    + " interrupted, and the run completes with every other item sunk.");
    static final ClaimSpec DRAIN_LOSES_NOTHING = new ClaimSpec("drain-loses-nothing",
            "drain() mid-run stops the source early, and every item it had accepted reaches the sink: nothing is"
                    + " lost.");
    static final ClaimSpec CANCEL_STOPS = new ClaimSpec("cancel-stops",
            "cancel() mid-run ends every worker within 1 s, and the engine's metrics show the accepted items that"
                    + " never reached the sink.");
    static final ClaimSpec PY_POOL_MAP_LOSES = new ClaimSpec("py-pool-map-loses",
            "multiprocessing.Pool.map with one raising item raises that exception in the caller after the workers"
                    + " computed every other item, and returns none of their results.");
    static final ClaimSpec PY_IMAP_DEAD_LETTERS = new ClaimSpec("py-imap-dead-letters",
            "Pool.imap_unordered over a per-item try/except returns every good result and puts the poison item,"
                    + " with its error, in a dead-letter list.");
    static final ClaimSpec PY_GATHER_POISON = new ClaimSpec("py-gather-poison",
            "asyncio.gather raises the poison task's exception while the other tasks are still pending and not"
                    + " cancelled; with return_exceptions=True it waits for all of them and returns the exception"
                    + " among the results, in argument order.");
    static final ClaimSpec PY_TASKGROUP_CANCELS = new ClaimSpec("py-taskgroup-cancels",
            "An asyncio.TaskGroup cancels every sibling of the failing task and raises an ExceptionGroup.");

    private static final int FLAKY_EVERY = 10;
    private static final int FLAKY_FAILURES = 2;
    private static final int MAX_ATTEMPTS = 4;
    private static final int ALWAYS_FAILS = 7;
    private static final long TIMEOUT_MS = 100;
    private static final int STUCK_ITEM = 3;

    @Override
    public String id() {
        return "fault-tolerant-pipeline";
    }

    @Override
    public String title() {
        return "A fault-tolerant pipeline: dead letters, retries with backoff, per-item timeouts, drain vs cancel";
    }

    @Override
    public String description() {
        return "Sends a poison item, transient failures and a stuck item through the toolkit's pipeline engine and"
                + " a parallel stream, stops pipelines with drain() and cancel(), and does the same with CPython's"
                + " multiprocessing.Pool and asyncio.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("items", "items through each pipeline", 20, 100_000, 2_000, 400),
                new Param.IntParam("backoff-us", "first retry backoff, µs (doubles per attempt)", 1, 100_000, 500,
                        200),
                new Param.IntParam("py-items", "items through the CPython pool", 10, 100_000, 200, 100));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(POISON_FAILS_ALL, DEAD_LETTER_COMPLETES, RETRY_RECOVERS, RETRY_GIVES_UP, STUCK_STALLS,
                TIMEOUT_BOUNDS, DRAIN_LOSES_NOTHING, CANCEL_STOPS, PY_POOL_MAP_LOSES, PY_IMAP_DEAD_LETTERS,
                PY_GATHER_POISON, PY_TASKGROUP_CANCELS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int items = ctx.intParam("items");
        Table.Builder table = Table.builder("Faults in a concurrent pipeline", "scenario", "runtime", "items",
                "outcome");
        ctx.progress(0.05, "JVM: a poison item, parallel stream vs the engine");
        poison(ctx, table, items);
        ctx.progress(0.2, "JVM: transient failures, with and without retries");
        retries(ctx, table, items);
        ctx.progress(0.4, "JVM: a stuck item, with and without a per-item timeout");
        stuck(ctx, table);
        ctx.progress(0.5, "JVM: drain() vs cancel() mid-run");
        stops(ctx, table, items);
        ctx.progress(0.6, "CPython: Pool.map, imap_unordered, gather, TaskGroup");
        pythonSide(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /** The work of every item; the poison item throws. */
    private static int transform(int i, int poison, AtomicInteger computed) {
        if (i == poison) {
            throw new IllegalArgumentException("poison item " + i);
        }
        computed.incrementAndGet();
        return i * 2;
    }

    private static void poison(RunContext ctx, Table.Builder table, int items) throws Exception {
        int poison = items / 3;
        AtomicInteger computed = new AtomicInteger();
        List<Integer> results = List.of();
        Throwable thrown = null;
        try (ForkJoinPool pool = new ForkJoinPool(2)) { // its own pool, so no common-pool thread outlives the run
            results = pool.submit(() -> IntStream.range(0, items).parallel()
                    .mapToObj(i -> transform(i, poison, computed)).toList()).get();
        } catch (ExecutionException e) {
            thrown = e.getCause();
        }
        table.row("Broken: parallel stream, item " + poison + " throws", "JVM", items, String.format(
                "%s thrown; %d other items computed, %d results returned", name(thrown), computed.get(),
                results.size()));
        ctx.claim(POISON_FAILS_ALL, Verdict.check(thrown instanceof IllegalArgumentException && results.isEmpty(),
                String.format("toList() threw %s; the caller got %d results, though %d of the other %d items had been"
                        + " computed", thrown, results.size(), computed.get(), items - 1)));

        AtomicInteger engineComputed = new AtomicInteger();
        AtomicInteger sunk = new AtomicInteger();
        PipelineBuilder b = Pipeline.builder();
        b.source("source", IntStream.range(0, items).boxed().toList())
                .map("transform", StageOptions.parallel(4), i -> transform(i, poison, engineComputed))
                .sink("load", i -> sunk.incrementAndGet());
        Pipeline p = b.start();
        p.await();
        long accepted = FaultTolerantStops.stage(p.metrics(), "source").itemsOut();
        List<DeadLetter> dead = p.deadLetters();
        boolean letterRight = dead.size() == 1 && dead.getFirst().stage().equals("transform")
                && Integer.valueOf(poison).equals(dead.getFirst().item())
                && dead.getFirst().cause() instanceof IllegalArgumentException;
        table.row("engine, 4 workers, item " + poison + " throws", "JVM", items, String.format(
                "accepted %d, sunk %d, dead-lettered %d: %s", accepted, sunk.get(), dead.size(),
                dead.isEmpty() ? "—" : describe(dead.getFirst())));
        ctx.claim(DEAD_LETTER_COMPLETES, Verdict.check(letterRight && sunk.get() + dead.size() == accepted
                        && accepted == items && p.failure().isEmpty(),
                String.format("accepted %d = sunk %d + dead-lettered %d; dead letters: %s", accepted, sunk.get(),
                        dead.size(), dead.stream().map(FaultTolerantPipeline::describe).toList())));
    }

    private static void retries(RunContext ctx, Table.Builder table, int items) throws Exception {
        int flaky = (items + FLAKY_EVERY - 1) / FLAKY_EVERY; // items 0, 10, 20, ...
        Duration base = Duration.ofNanos(ctx.intParam("backoff-us") * 1_000L);
        // Equal jitter: every wait is at least half its ceiling, so "it waited" is checkable; transient errors only
        RetryPolicy policy = RetryPolicy.exponential(MAX_ATTEMPTS, base, base.multipliedBy(4))
                .withJitter(RetryPolicy.Jitter.EQUAL).retryOn(Transient.class);
        FlakyCall retried = new FlakyCall(policy);
        RunOutcome with = runThrough(items, StageOptions.parallel(4).withRetry(policy), retried);
        RunOutcome without = runThrough(items, StageOptions.parallel(4), new FlakyCall(policy));
        int expectedAttempts = items + flaky * FLAKY_FAILURES + (MAX_ATTEMPTS - 1);
        long attempts = with.call().attempts();
        long retries = with.call().retries();
        double shortest = retried.shortestWaitOverLeast();
        table.row("flaky stage, retries with backoff (≤ " + MAX_ATTEMPTS + " attempts)", "JVM", items, String.format(
                "sunk %d, dead-lettered %d; %d attempts, %d retries; shortest wait %.2f× the policy's least",
                with.sunk(), with.dead().size(), attempts, retries, shortest));
        table.row("flaky stage, no retries", "JVM", items, String.format("sunk %d, dead-lettered %d", without.sunk(),
                without.dead().size()));
        ctx.claim(RETRY_RECOVERS, Verdict.check(with.sunk() == items - 1 && attempts == expectedAttempts
                        && retries == expectedAttempts - items && shortest >= 1.0,
                String.format("%d flaky items each failing %d times: sunk %d of %d (the other one always fails);"
                                + " attempts %d (expected %d = %d + %d×%d + %d), retries %d; shortest wait %.2f× the"
                                + " policy's least wait before that retry",
                        flaky, FLAKY_FAILURES, with.sunk(), items, attempts, expectedAttempts, items,
                        flaky, FLAKY_FAILURES, MAX_ATTEMPTS - 1, retries, shortest)));
        boolean gaveUp = with.dead().size() == 1 && Integer.valueOf(ALWAYS_FAILS).equals(with.dead().getFirst().item())
                && with.dead().getFirst().attempts() == MAX_ATTEMPTS
                && with.dead().getFirst().cause() instanceof Transient t
                && t.getMessage().endsWith("attempt " + MAX_ATTEMPTS + ": 503");
        ctx.claim(RETRY_GIVES_UP, Verdict.check(gaveUp && without.dead().size() == flaky + 1, String.format(
                "with retries: %s; without: %d dead-lettered (%d flaky + the failing one)",
                with.dead().stream().map(FaultTolerantPipeline::describe).toList(), without.dead().size(), flaky)));
    }

    /** A failure worth retrying (a timeout, a refused connection, HTTP 503...). */
    static final class Transient extends Exception {
        Transient(String message) {
            super(message);
        }
    }

    /**
     * A call that fails its first attempts for every 10th item, and always for one item; fresh state per instance.
     * It measures the gap between an item's failed attempt and its next one, over the least wait {@code policy}
     * allows before that retry. Thread-safe: the stage's workers share it, and an item is on one worker at a time.
     */
    private static final class FlakyCall implements StageFunction<Integer, Integer> {
        private final RetryPolicy policy;
        private final ConcurrentHashMap<Integer, long[]> lastFailure = new ConcurrentHashMap<>(); // {attempt, nanos}
        private final AtomicLong shortestPerMille = new AtomicLong(Long.MAX_VALUE);

        FlakyCall(RetryPolicy policy) {
            this.policy = policy;
        }

        @Override
        public Integer apply(Integer i) throws Transient {
            long now = System.nanoTime();
            long[] last = lastFailure.get(i);
            int attempt = last == null ? 1 : (int) last[0] + 1;
            if (last != null) {
                long least = Math.max(1, policy.minDelay(attempt - 1).toNanos());
                shortestPerMille.accumulateAndGet((now - last[1]) * 1_000 / least, Math::min);
            }
            if (i == ALWAYS_FAILS || (i % FLAKY_EVERY == 0 && attempt <= FLAKY_FAILURES)) {
                lastFailure.put(i, new long[] {attempt, System.nanoTime()});
                throw new Transient("item " + i + " attempt " + attempt + ": 503");
            }
            return i;
        }

        /** The shortest gap before a retry over the policy's least wait for it (≥ 1 if all waited); 0 if none. */
        double shortestWaitOverLeast() {
            long v = shortestPerMille.get();
            return v == Long.MAX_VALUE ? 0 : v / 1_000.0;
        }
    }

    private record RunOutcome(int sunk, List<DeadLetter> dead, StageStats call) {}

    private static RunOutcome runThrough(int items, StageOptions options, StageFunction<Integer, Integer> fn)
            throws InterruptedException {
        AtomicInteger sunk = new AtomicInteger();
        PipelineBuilder b = Pipeline.builder();
        b.source("source", IntStream.range(0, items).boxed().toList())
                .map("call", options, fn)
                .sink("load", i -> sunk.incrementAndGet());
        Pipeline p = b.start();
        p.await();
        return new RunOutcome(sunk.get(), p.deadLetters(), FaultTolerantStops.stage(p.metrics(), "call"));
    }

    private static void stuck(RunContext ctx, Table.Builder table) throws Exception {
        int n = 20;
        // Broken: no time limit
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch othersSunk = new CountDownLatch(n - 1);
        CountDownLatch brokenInterrupted = new CountDownLatch(1);
        PipelineBuilder b = Pipeline.builder();
        b.source("source", IntStream.range(0, n).boxed().toList())
                .map("call", StageOptions.parallel(2), i -> stuckCall(i, never, brokenInterrupted))
                .sink("load", i -> othersSunk.countDown());
        Pipeline p = b.start();
        boolean finished;
        boolean endedByCancel;
        try {
            boolean allOthers = othersSunk.await(5, TimeUnit.SECONDS);
            finished = p.await(300, TimeUnit.MILLISECONDS);
            p.cancel();
            endedByCancel = p.await(1, TimeUnit.SECONDS) && brokenInterrupted.await(1, TimeUnit.SECONDS);
            table.row("Broken: item " + STUCK_ITEM + " stuck, no time limit", "JVM", n, String.format(
                    "%d of %d others sunk; finished within 300 ms after that: %s; cancel() ended it: %s",
                    n - 1 - othersSunk.getCount(), n - 1, finished, endedByCancel));
            ctx.claim(STUCK_STALLS, Verdict.check(allOthers && !finished && endedByCancel, String.format(
                    "every other item sunk: %s; await(300 ms) returned %s; after cancel() every worker ended and the"
                            + " stuck call was interrupted: %s", allOthers, finished, endedByCancel)));
        } finally {
            never.countDown();
            p.close();
        }

        // With a per-item timeout
        CountDownLatch interrupted = new CountDownLatch(1);
        AtomicInteger sunk = new AtomicInteger();
        CountDownLatch stillNever = new CountDownLatch(1);
        long t0 = System.nanoTime();
        PipelineBuilder tb = Pipeline.builder();
        tb.source("source", IntStream.range(0, n).boxed().toList())
                .map("call", StageOptions.parallel(2).withTimeout(Duration.ofMillis(TIMEOUT_MS)),
                        i -> stuckCall(i, stillNever, interrupted))
                .sink("load", i -> sunk.incrementAndGet());
        Pipeline tp = tb.start();
        try {
            boolean ended = tp.await(5, TimeUnit.SECONDS);
            double ms = (System.nanoTime() - t0) / 1e6;
            boolean callInterrupted = interrupted.await(5, TimeUnit.SECONDS);
            List<DeadLetter> dead = tp.deadLetters();
            long timeouts = FaultTolerantStops.stage(tp.metrics(), "call").timeouts();
            boolean timedOut = dead.size() == 1 && Integer.valueOf(STUCK_ITEM).equals(dead.getFirst().item())
                    && dead.getFirst().cause() instanceof TimeoutException && timeouts == 1;
            table.row("item " + STUCK_ITEM + " stuck, " + TIMEOUT_MS + " ms per-item timeout", "JVM", n,
                    String.format("finished in %.0f ms; sunk %d; dead letters %s; timeouts counted %d; call"
                                    + " interrupted: %s", ms, sunk.get(),
                            dead.stream().map(FaultTolerantPipeline::describe).toList(), timeouts, callInterrupted));
            ctx.claim(TIMEOUT_BOUNDS, Verdict.check(ended && timedOut && callInterrupted && sunk.get() == n - 1,
                    String.format("run ended: %s (%.0f ms); sunk %d of %d; dead letters %s; timeouts in the stage's"
                                    + " metrics %d; stuck call interrupted: %s", ended, ms, sunk.get(), n - 1,
                            dead.stream().map(FaultTolerantPipeline::describe).toList(), timeouts,
                            callInterrupted)));
        } finally {
            stillNever.countDown();
            tp.close();
        }
    }

    /** Item {@link #STUCK_ITEM} waits for {@code never}; an interrupt is counted on {@code interrupted}. */
    private static int stuckCall(int i, CountDownLatch never, CountDownLatch interrupted) throws InterruptedException {
        if (i == STUCK_ITEM) {
            try {
                never.await();
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
        }
        return i;
    }

    private static void stops(RunContext ctx, Table.Builder table, int items) throws Exception {
        int total = 100 * items;
        int stopAfter = items / 4;
        FaultTolerantStops.Outcome drained = FaultTolerantStops.drain(total, stopAfter);
        FaultTolerantStops.Outcome cancelled = FaultTolerantStops.cancel(total, stopAfter);
        stopRow(table, "drain() after " + stopAfter + " sunk", drained);
        stopRow(table, "cancel() after " + stopAfter + " sunk", cancelled);
        ctx.claim(DRAIN_LOSES_NOTHING, Verdict.check(drained.ended() && drained.lost() == 0
                        && drained.accepted() < total && drained.sunk() >= stopAfter,
                String.format("source stopped after %d of %d items; sunk %d + dead-lettered %d = accepted %d (lost"
                        + " %d)", drained.accepted(), total, drained.sunk(), drained.failed(), drained.accepted(),
                        drained.lost())));
        ctx.claim(CANCEL_STOPS, Verdict.check(cancelled.ended() && cancelled.lost() > 0, String.format(
                "workers ended %.1f ms after cancel() (limit 1000 ms): %s; accepted %d, sunk %d, dead-lettered %d,"
                        + " so %d lost in flight", cancelled.stopMillis(), cancelled.ended(), cancelled.accepted(),
                cancelled.sunk(), cancelled.failed(), cancelled.lost())));
    }

    private static void stopRow(Table.Builder table, String scenario, FaultTolerantStops.Outcome o) {
        table.row(scenario, "JVM", o.total(), String.format(
                "accepted %d, sunk %d, dead-lettered %d, lost %d; workers ended %.1f ms after the call",
                o.accepted(), o.sunk(), o.failed(), o.lost(), o.stopMillis()));
    }

    private static void pythonSide(RunContext ctx, Table.Builder table) throws Exception {
        int pyItems = ctx.intParam("py-items");
        int poison = pyItems / 2 + 1;
        int tasks = 10;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("pipeline_faults.py", List.of(), Duration.ofSeconds(60),
                "--items", Integer.toString(pyItems), "--poison", Integer.toString(poison),
                "--tasks", Integer.toString(tasks));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_POOL_MAP_LOSES, PY_IMAP_DEAD_LETTERS,
                    PY_GATHER_POISON, PY_TASKGROUP_CANCELS);
            case ProbeOutcome.Ran ran -> {
                JsonNode j = ran.json();
                String mapRaised = j.path("pool_map_raised").asText("");
                int mapResults = j.path("pool_map_results").asInt();
                int mapComputed = j.path("pool_map_computed").asInt();
                table.row("Broken: Pool.map, item " + poison + " raises", "CPython", pyItems, String.format(
                        "%s raised; %d results returned, %d computed by the workers", mapRaised, mapResults,
                        mapComputed));
                ctx.claim(PY_POOL_MAP_LOSES, Verdict.check(mapRaised.startsWith("ValueError") && mapResults == 0
                                && mapComputed == pyItems - 1,
                        String.format("Pool.map raised %s; results returned %d; good items computed %d of %d",
                                mapRaised, mapResults, mapComputed, pyItems - 1)));
                JsonNode dead = j.path("imap_dead");
                int good = j.path("imap_good").asInt();
                table.row("Pool.imap_unordered + try/except", "CPython", pyItems, String.format(
                        "%d good results; dead letters %s", good, dead));
                boolean oneDead = dead.size() == 1 && dead.get(0).path("item").asInt() == poison
                        && dead.get(0).path("error").asText().startsWith("ValueError");
                ctx.claim(PY_IMAP_DEAD_LETTERS, Verdict.check(oneDead && good == pyItems - 1
                                && j.path("imap_good_correct").asBoolean(),
                        String.format("%d of %d good results (values right: %s); dead letters %s", good, pyItems - 1,
                                j.path("imap_good_correct").asBoolean(), dead)));
                int doneAtRaise = j.path("gather_others_done_at_raise").asInt();
                int cancelledByGather = j.path("gather_others_cancelled").asInt();
                int finishedLater = j.path("gather_others_finished_later").asInt();
                boolean rexcWaited = !j.path("gather_rexc_done_before_release").asBoolean(true);
                int rexcResults = j.path("gather_rexc_results").asInt();
                boolean rexcFirst = j.path("gather_rexc_first_is_exception").asBoolean();
                table.row("asyncio.gather, task 0 raises", "CPython", tasks, String.format(
                        "%s raised with %d of %d others done, %d cancelled, %d finished later",
                        j.path("gather_raised").asText(), doneAtRaise, tasks - 1, cancelledByGather, finishedLater));
                table.row("asyncio.gather(return_exceptions=True)", "CPython", tasks, String.format(
                        "waited for all: %s; %d results + %s (first: %s)", rexcWaited, rexcResults,
                        j.path("gather_rexc_exceptions"), rexcFirst));
                ctx.claim(PY_GATHER_POISON, Verdict.check(j.path("gather_raised").asText("").startsWith("ValueError")
                                && doneAtRaise == 0 && cancelledByGather == 0 && finishedLater == tasks - 1
                                && rexcWaited && rexcResults == tasks - 1 && rexcFirst,
                        String.format("gather raised %s with %d of %d others done and %d cancelled; %d finished"
                                        + " later; return_exceptions=True waited for all (%s) and returned %d results"
                                        + " with the exception first, in argument order (%s)",
                                j.path("gather_raised").asText(), doneAtRaise, tasks - 1, cancelledByGather,
                                finishedLater, rexcWaited, rexcResults, rexcFirst)));
                int tgCancelled = j.path("taskgroup_cancelled").asInt();
                String tgRaised = j.path("taskgroup_raised").asText("");
                table.row("asyncio.TaskGroup, one task raises", "CPython", tasks, String.format(
                        "%s; %d of %d siblings cancelled, %d finished", tgRaised, tgCancelled, tasks - 1,
                        j.path("taskgroup_finished").asInt()));
                ctx.claim(PY_TASKGROUP_CANCELS, Verdict.check(tgRaised.startsWith("ExceptionGroup")
                                && tgCancelled == tasks - 1 && j.path("taskgroup_finished").asInt() == 0,
                        String.format("TaskGroup raised %s; siblings cancelled %d of %d", tgRaised, tgCancelled,
                                tasks - 1)));
            }
        }
    }

    private static String describe(DeadLetter d) {
        return d.stage() + ": item " + d.item() + ", " + d.cause();
    }

    private static String name(Throwable t) {
        return t == null ? "nothing" : t.getClass().getSimpleName();
    }
}

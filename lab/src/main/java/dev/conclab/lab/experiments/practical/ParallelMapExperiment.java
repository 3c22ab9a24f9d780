package dev.conclab.lab.experiments.practical;

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
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.parallel.Outcome;
import dev.conclab.toolkit.parallel.Outcome.Cancelled;
import dev.conclab.toolkit.parallel.Outcome.Failure;
import dev.conclab.toolkit.parallel.Outcome.Success;
import dev.conclab.toolkit.parallel.ParallelMap;
import dev.conclab.toolkit.parallel.ParallelMap.Results;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * Running a function over a list of inputs concurrently: Python's {@code ThreadPoolExecutor.map} beside the
 * toolkit's {@link ParallelMap}.
 *
 * <ol>
 *   <li><b>BASELINE — one item at a time.</b> N items that each wait D ms (an I/O-like wait: a sleep stands for a
 *       network call) take N×D.</li>
 *   <li><b>Ordering.</b> The items are forced to finish in reverse order: item i waits on a latch that item i+1
 *       releases when it finishes. The results still come back in input order; a completion-order collector (what
 *       Python's {@code as_completed} is) sees them reversed.</li>
 *   <li><b>One failure.</b> One item throws; its outcome is a {@link Failure} at its index and every other item
 *       keeps its value. Python's {@code map} instead raises that exception from the iterator when iteration reaches
 *       the item (the probe makes the failure happen <em>first</em>, yet the earlier results still come out before
 *       it).</li>
 *   <li><b>Fail fast.</b> With {@code failFast(true)} the first failure stops the map: running items are
 *       interrupted, items not yet started never start. The failing item throws only once the other running items
 *       have started (a latch), so the counts are the same on every run.</li>
 *   <li><b>Speed-up.</b> The same N items with parallelism P: the waits overlap, so the time falls to about
 *       ⌈N/P⌉×D, a speed-up close to P and never above it (measured: the peak number of items in flight).</li>
 * </ol>
 *
 * <p>Run: {@code ./conclab run parallel-map}. Expect input order despite reverse completion, 1 failure beside N−1
 * values, the fail-fast run to start only P items and cancel the rest, and a speed-up a little under P on both
 * sides (Python's {@code time.sleep} releases the GIL).
 */
public final class ParallelMapExperiment implements Experiment {

    static final ClaimSpec INPUT_ORDER = new ClaimSpec("input-order",
            "Results come back in input order even when the items finish in reverse order.");
    static final ClaimSpec FAILURE_PER_ITEM = new ClaimSpec("failure-per-item",
            "A failing item is captured as its own failure; every other item still returns its value.");
    static final ClaimSpec FAIL_FAST = new ClaimSpec("fail-fast",
            "With fail-fast, the first failure stops the rest: running items are interrupted and the items not yet"
                    + " started never start.");
    static final ClaimSpec SPEEDUP = new ClaimSpec("speedup",
            "N items that each wait D ms finish at least 0.7×P times faster with parallelism P than one at a time,"
                    + " and never more than P run at once.");
    static final ClaimSpec PY_MAP_ORDER = new ClaimSpec("py-map-order",
            "ThreadPoolExecutor.map yields results in input order even when later items finish first;"
                    + " as_completed yields them in completion order.");
    static final ClaimSpec PY_MAP_RAISES = new ClaimSpec("py-map-raises",
            "ThreadPoolExecutor.map re-raises an item's exception only when iteration reaches that item: the"
                    + " results before it come out first.");
    static final ClaimSpec PY_MAP_TIMEOUT = new ClaimSpec("py-map-timeout",
            "map(timeout=T) raises TimeoutError once a result is not ready T seconds after the call to map.");
    static final ClaimSpec PY_SPEEDUP = new ClaimSpec("py-speedup",
            "time.sleep-style work on a ThreadPoolExecutor with P workers is at least 0.7×P times faster than on"
                    + " one worker.");

    /** The speed-up must reach this fraction of P: waits overlap almost perfectly, thread start-up costs a little. */
    private static final double SPEEDUP_FRACTION = 0.7;
    private static final int ORDER_ITEMS = 6;
    private static final int FAIL_FAST_ITEMS = 20;
    private static final long GIVE_UP_SECONDS = 30;

    @Override
    public String id() {
        return "parallel-map";
    }

    @Override
    public String title() {
        return "A function over a list with bounded parallelism: ordering, failures, fail-fast and speed-up";
    }

    @Override
    public String description() {
        return "Maps a function over a list with the toolkit's ParallelMap and with CPython's ThreadPoolExecutor.map:"
                + " results in input order though the items finish in reverse, one failure captured beside the"
                + " other values, fail-fast cancelling the rest, and the speed-up of I/O-like waits with parallelism P.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("items", "items in the speed-up run (N)", 1, 10_000, 32, 16),
                new Param.IntParam("parallelism", "items in flight at once (P)", 1, 1_000, 8, 4),
                new Param.IntParam("wait-ms", "how long each item waits (D)", 1, 10_000, 20, 10));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(INPUT_ORDER, FAILURE_PER_ITEM, FAIL_FAST, SPEEDUP, PY_MAP_ORDER, PY_MAP_RAISES,
                PY_MAP_TIMEOUT, PY_SPEEDUP);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int items = ctx.intParam("items");
        int parallelism = ctx.intParam("parallelism");
        int waitMs = ctx.intParam("wait-ms");
        Table.Builder behaviour = Table.builder("What a parallel map returns (JVM: ParallelMap; CPython:"
                + " ThreadPoolExecutor.map)", "runtime", "case", "items finished in", "results came back in",
                "outcome");

        ctx.progress(0.05, "ordering");
        ordering(ctx, behaviour);
        ctx.progress(0.15, "one failure");
        oneFailure(ctx, behaviour);
        ctx.progress(0.25, "fail fast");
        failFast(ctx, parallelism, behaviour);

        ctx.progress(0.35, "speed-up: one at a time, then " + parallelism + " at a time");
        Table.Builder speed = Table.builder(items + " items that each wait " + waitMs + " ms (best of "
                + ctx.repeats() + ")", "runtime", "in flight", "wall ms", "speed-up", "ideal (⌈N/P⌉×D) ms");
        speedup(ctx, items, parallelism, waitMs, speed);

        ctx.progress(0.7, "CPython: ThreadPoolExecutor.map");
        python(ctx, items, parallelism, waitMs, behaviour, speed);
        ctx.table(behaviour.build());
        ctx.table(speed.build());
        ctx.progress(1, "done");
    }

    // ---- ordering ---------------------------------------------------------------------------------------------

    private static void ordering(RunContext ctx, Table.Builder table) throws Exception {
        // Item i may finish only after item i+1 has: a chain of latches, so the reverse order is certain.
        List<CountDownLatch> mayFinish = IntStream.range(0, ORDER_ITEMS).mapToObj(i -> new CountDownLatch(1))
                .toList();
        Queue<Integer> finished = new ConcurrentLinkedQueue<>();
        Results<Integer> results = ParallelMap.withParallelism(ORDER_ITEMS)
                .timeout(Duration.ofSeconds(GIVE_UP_SECONDS))
                .map(range(ORDER_ITEMS), i -> {
                    if (i < ORDER_ITEMS - 1) {
                        mayFinish.get(i).await();
                    }
                    finished.add(i);
                    ctx.trace().span("item " + i, "finished (" + finished.size() + ". to finish)", System.nanoTime(),
                            System.nanoTime());
                    if (i > 0) {
                        mayFinish.get(i - 1).countDown();
                    }
                    return i;
                });
        List<Integer> returned = results.valuesOrThrow();
        List<Integer> completion = List.copyOf(finished);
        boolean holds = completion.equals(reversed(ORDER_ITEMS)) && returned.equals(range(ORDER_ITEMS));
        table.row("JVM", "items forced to finish in reverse", completion, returned, "all succeeded");
        ctx.claim(INPUT_ORDER, Verdict.check(holds, String.format(
                "%d items finished in the order %s; ParallelMap returned %s (needs: completion reversed, results in"
                        + " input order)", ORDER_ITEMS, completion, returned)));
    }

    // ---- one failure ------------------------------------------------------------------------------------------

    private static void oneFailure(RunContext ctx, Table.Builder table) throws Exception {
        int bad = 2;
        Results<Integer> results = ParallelMap.withParallelism(ORDER_ITEMS).map(range(ORDER_ITEMS), i -> {
            if (i == bad) {
                throw new IllegalStateException("item " + bad + " is bad");
            }
            return i * 10;
        });
        List<String> shown = results.outcomes().stream().map(ParallelMapExperiment::describe).toList();
        boolean holds = results.failures().size() == 1 && results.failures().getFirst().index() == bad
                && results.failures().getFirst().error() instanceof IllegalStateException
                && results.succeeded() == ORDER_ITEMS - 1
                && results.outcomes().stream().allMatch(o -> o.index() == bad
                || o instanceof Success<Integer>(int i, Integer v) && v == i * 10);
        table.row("JVM", "item " + bad + " throws", "any order", shown,
                results.succeeded() + " values, " + results.failures().size() + " failure");
        ctx.claim(FAILURE_PER_ITEM, Verdict.check(holds, String.format(
                "outcomes by index: %s (needs: one Failure at index %d with its exception, the %d others Success"
                        + " with their values)", shown, bad, ORDER_ITEMS - 1)));
    }

    // ---- fail fast --------------------------------------------------------------------------------------------

    private static void failFast(RunContext ctx, int parallelism, Table.Builder table) throws Exception {
        int inFlight = Math.min(Math.max(parallelism, 2), FAIL_FAST_ITEMS);
        // The last of the first `inFlight` items fails, but only once the others are running (they count down
        // `othersRunning` and then wait forever, until interrupted).
        int failing = inFlight - 1;
        CountDownLatch othersRunning = new CountDownLatch(failing);
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger interrupted = new AtomicInteger();
        Results<Integer> results = ParallelMap.withParallelism(inFlight).failFast(true)
                .timeout(Duration.ofSeconds(GIVE_UP_SECONDS))
                .map(range(FAIL_FAST_ITEMS), i -> {
                    started.incrementAndGet();
                    if (i == failing) {
                        if (!othersRunning.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the other items never started");
                        }
                        throw new IllegalArgumentException("item " + i + " is bad");
                    }
                    othersRunning.countDown();
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                    }
                    return i;
                });
        never.countDown();
        List<Cancelled<Integer>> cancelled = results.cancelled();
        long interruptedWhileRunning = cancelled.stream().filter(Cancelled::wasRunning).count();
        long neverStarted = cancelled.stream().filter(c -> !c.wasRunning()).count();
        int expectedNeverStarted = FAIL_FAST_ITEMS - inFlight;
        boolean holds = results.stoppedBy().orElse(null) == Outcome.Cause.FAIL_FAST
                && results.failures().size() == 1 && started.get() == inFlight
                && interrupted.get() == failing && interruptedWhileRunning == failing
                && neverStarted == expectedNeverStarted;
        table.row("JVM", "fail-fast, item " + failing + " of " + FAIL_FAST_ITEMS + " throws, " + inFlight
                        + " in flight", "-", "1 failure, " + interruptedWhileRunning + " interrupted, " + neverStarted
                        + " never started",
                "stopped by " + results.stoppedBy().map(Enum::name).orElse("nothing"));
        ctx.claim(FAIL_FAST, Verdict.check(holds, String.format(
                "%d items, %d in flight: %d started, 1 failed, %d running items interrupted (%d saw the interrupt),"
                        + " %d never started (needs: %d started, %d interrupted, %d never started)",
                FAIL_FAST_ITEMS, inFlight, started.get(), interruptedWhileRunning, interrupted.get(), neverStarted,
                inFlight, failing, expectedNeverStarted)));
    }

    // ---- speed-up ---------------------------------------------------------------------------------------------

    private static void speedup(RunContext ctx, int items, int parallelism, int waitMs, Table.Builder table)
            throws Exception {
        AtomicInteger now = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        ParallelMap.Task<Integer, Integer> ioLike = i -> {
            peak.accumulateAndGet(now.incrementAndGet(), Math::max);
            try {
                Thread.sleep(waitMs); // stands for a network call: the thread waits, the CPU is free
                return i;
            } finally {
                now.decrementAndGet();
            }
        };
        List<Integer> inputs = range(items);
        Timing one = Measure.bestOf(ctx.repeats(), ctx, () -> ParallelMap.withParallelism(1).map(inputs, ioLike)
                .valuesOrThrow());
        int peakOfOne = peak.getAndSet(0);
        Timing many = Measure.bestOf(ctx.repeats(), ctx, () -> ParallelMap.withParallelism(parallelism)
                .map(inputs, ioLike).valuesOrThrow());
        int peakOfMany = peak.get();
        double ratio = Measure.speedup(one, many);
        int effective = Math.min(parallelism, items);
        double ideal = Math.ceil((double) items / parallelism) * waitMs;
        table.row("JVM (ParallelMap, virtual threads)", 1, one.bestMillis(), 1.0, (double) items * waitMs)
                .row("JVM (ParallelMap, virtual threads)", parallelism, many.bestMillis(), ratio, ideal);
        ctx.series(new Series("Speed-up of I/O-like waits", "JVM ParallelMap", "items in flight", "× faster",
                List.of(new Series.Point(1, 1), new Series.Point(parallelism, ratio))));
        double threshold = SPEEDUP_FRACTION * effective;
        ctx.claim(SPEEDUP, Verdict.check(ratio >= threshold && peakOfMany <= parallelism && peakOfOne == 1,
                String.format("parallelism %d vs 1 over %d items of %d ms: %.2f× (needs ≥ %.2f× = %.1f×min(P, N));"
                                + " peak in flight %d (needs ≤ %d), %d at parallelism 1",
                        parallelism, items, waitMs, ratio, threshold, SPEEDUP_FRACTION, peakOfMany, parallelism,
                        peakOfOne)));
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int items, int parallelism, int waitMs, Table.Builder behaviour,
                               Table.Builder speed) throws Exception {
        double timeoutMs = 100;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("thread_pool_map.py", List.of(), Duration.ofSeconds(120),
                "--items", Integer.toString(items), "--workers", Integer.toString(parallelism),
                "--wait-ms", Integer.toString(waitMs), "--order-items", Integer.toString(ORDER_ITEMS),
                "--timeout-ms", Integer.toString((int) timeoutMs), "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_MAP_ORDER, PY_MAP_RAISES, PY_MAP_TIMEOUT, PY_SPEEDUP);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode order = json.path("order");
                List<Integer> completion = ints(order.path("completion_order"));
                List<Integer> mapOrder = ints(order.path("map_order"));
                List<Integer> futuresCompleted = ints(order.path("futures_completion_order"));
                List<Integer> asCompleted = ints(order.path("as_completed_order"));
                behaviour.row("CPython", "map, items forced to finish in reverse", completion, mapOrder,
                                "all succeeded")
                        .row("CPython", "as_completed, futures forced to complete in reverse", futuresCompleted,
                                asCompleted, "yielded as they completed");
                List<Integer> reversed = reversed(ORDER_ITEMS);
                ctx.claim(PY_MAP_ORDER, Verdict.check(completion.equals(reversed)
                                && mapOrder.equals(range(ORDER_ITEMS)) && futuresCompleted.equals(reversed)
                                && asCompleted.equals(futuresCompleted),
                        String.format("map: items finished %s, map yielded %s; as_completed: futures completed %s,"
                                        + " as_completed yielded %s (needs: map in input order, as_completed in"
                                        + " completion order)", completion, mapOrder, futuresCompleted,
                                asCompleted)));

                JsonNode exception = json.path("exception");
                List<Integer> before = ints(exception.path("yielded_before"));
                String error = exception.path("error_type").asText();
                behaviour.row("CPython", "item 2 of 3 raises ValueError first", "2, then 0 and 1",
                        before + ", then " + error, "the iterator raises at item 2");
                ctx.claim(PY_MAP_RAISES, Verdict.check(before.equals(List.of(0, 10)) && error.equals("ValueError"),
                        String.format("item 2 raised before items 0 and 1 finished; iterating map yielded %s, then"
                                + " raised %s (needs: [0, 10], then ValueError)", before, error)));

                JsonNode timeout = json.path("timeout");
                double raisedAfterMs = timeout.path("raised_after_s").asDouble() * 1e3;
                String timeoutError = timeout.path("error_type").asText();
                boolean builtin = timeout.path("is_builtin_timeout_error").asBoolean();
                behaviour.row("CPython", "map(timeout=" + timeoutMs / 1e3 + " s), item never ready", "-",
                        String.format("%s after %.1f ms", timeoutError, raisedAfterMs),
                        builtin ? "the builtin TimeoutError" : "not the builtin TimeoutError");
                ctx.claim(PY_MAP_TIMEOUT, Verdict.check(timeoutError.equals("TimeoutError")
                                && raisedAfterMs >= timeoutMs - 1 && raisedAfterMs < timeoutMs + 2_000,
                        String.format("iterating map(timeout=%.1f) raised %s after %.1f ms (needs TimeoutError after"
                                + " ≥ %.0f ms and well before the item would finish); isinstance(e, TimeoutError): %s",
                                timeoutMs / 1e3, timeoutError, raisedAfterMs, timeoutMs - 1, builtin)));

                JsonNode s = json.path("speedup");
                double oneS = s.path("one_worker_s").asDouble();
                double manyS = s.path("workers_s").asDouble();
                double ratio = oneS / manyS;
                double threshold = SPEEDUP_FRACTION * Math.min(parallelism, items);
                speed.row("CPython (ThreadPoolExecutor.map, time.sleep)", 1, oneS * 1e3, 1.0,
                                (double) items * waitMs)
                        .row("CPython (ThreadPoolExecutor.map, time.sleep)", parallelism, manyS * 1e3, ratio,
                                Math.ceil((double) items / parallelism) * waitMs);
                ctx.series(new Series("Speed-up of I/O-like waits", "CPython ThreadPoolExecutor", "items in flight",
                        "× faster", List.of(new Series.Point(1, 1), new Series.Point(parallelism, ratio))));
                ctx.claim(PY_SPEEDUP, Verdict.atLeast(parallelism + " workers vs 1, " + items + " × time.sleep("
                        + waitMs + " ms)", ratio, threshold));
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static String describe(Outcome<Integer> outcome) {
        return switch (outcome) {
            case Success<Integer>(int i, Integer value) -> i + ": " + value;
            case Failure<Integer>(int i, Throwable error) -> i + ": failed (" + error.getClass().getSimpleName()
                    + ")";
            case Cancelled<Integer>(int i, Outcome.Cause cause, boolean running) -> i + ": cancelled";
        };
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static List<Integer> reversed(int n) {
        return range(n).reversed();
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asInt()));
        return values;
    }
}

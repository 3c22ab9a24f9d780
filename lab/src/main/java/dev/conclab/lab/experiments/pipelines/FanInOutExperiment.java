package dev.conclab.lab.experiments.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.pipeline.Flow;
import dev.conclab.toolkit.pipeline.Pipeline;
import dev.conclab.toolkit.pipeline.PipelineBuilder;
import dev.conclab.toolkit.pipeline.StageOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.IntStream;

/**
 * Fan-out and fan-in on the toolkit's pipeline engine: one stage spread over N workers, N branches by key merged
 * back into one stream, ordered vs unordered output, and how many items a fan-out holds at once.
 *
 * <p><b>BASELINE:</b> an I/O-bound stage (each item waits {@code delay-ms}, a stand-in for a network call) on one
 * worker. <b>Variants:</b>
 * <ul>
 *   <li>the same stage fanned out to {@code workers} virtual-thread workers ({@code StageOptions.parallel(n)});</li>
 *   <li>fan-out by key and fan-in: {@code partition} into 4 branches, one worker each, then {@code Flow.merge};
 *       the sink counts every item id and checks each key's sequence numbers arrive in order;</li>
 *   <li>head-of-line blocking ({@link FanInOutOrdering}): a 2-worker stage whose first item is slow, unordered
 *       (later items overtake it) vs {@code inOrder()} (the finished later items wait for it); the slow item is held
 *       by a latch, not a sleep, so the order is the same on every run;</li>
 *   <li>bounded vs unbounded fan-out ({@link FanInOutInFlight}): the engine's fan-out to 4 workers with channels of
 *       8 keeps at most 22 items between source and sink, while <b>Broken</b>: submitting every item to a fixed
 *       pool of 4 threads at once queues all of them (its queue is unbounded).</li>
 * </ul>
 *
 * <p>CPython (probe {@code fan_in_out.py}): asyncio.gather, TaskGroup and as_completed over every item at once vs a
 * fan-out bounded by asyncio.Semaphore (in-flight peaks, wall time), and concurrent.futures' Executor.map (input
 * order) vs as_completed (completion order) with a slow first item.
 *
 * <p>Run: {@code ./conclab run fan-in-out}. Expect close to {@code workers}× from the fan-out (the workers wait,
 * they do not compute, so 2 cores are enough), every item exactly once, per-key order kept, and the ordering and
 * in-flight outcomes the same on every run.
 */
public final class FanInOutExperiment implements Experiment {

    static final ClaimSpec FAN_OUT_SPEEDUP = new ClaimSpec("fan-out-speedup",
            "Fanning an I/O-bound stage out to 8 workers finishes at least 4× sooner than the same stage on 1"
                    + " worker.");
    static final ClaimSpec MERGE_EXACTLY_ONCE = new ClaimSpec("merge-exactly-once",
            "A partition into 4 branches merged back into one stream delivers every item exactly once: none"
                    + " missing, none twice.");
    static final ClaimSpec KEYED_ORDER = new ClaimSpec("keyed-order",
            "Partitioning by key keeps each key's items in order through the branches and the merge.");
    static final ClaimSpec UNORDERED_OVERTAKES = new ClaimSpec("unordered-overtakes",
            "With unordered output, the later items overtake a slow first item: the sink receives all of them"
                    + " before it.");
    static final ClaimSpec ORDERED_HOLDS_BACK = new ClaimSpec("ordered-holds-back",
            "With ordered output, later items that have already finished are held back until the slow first item"
                    + " is done (head-of-line blocking), then leave in input order.");
    static final ClaimSpec BOUNDED_IN_FLIGHT = new ClaimSpec("bounded-in-flight",
            "The engine's fan-out to 4 workers never holds more items between source and sink than its channel"
                    + " capacities plus its workers (22).");
    static final ClaimSpec UNBOUNDED_HOLDS_ALL = new ClaimSpec("unbounded-holds-all",
            "Broken: submitting every item to a fixed pool of 4 threads at once holds all of them in flight, queued"
                    + " in the pool's unbounded queue.");
    static final ClaimSpec PY_SEMAPHORE_BOUND = new ClaimSpec("py-semaphore-bound",
            "An asyncio fan-out bounded by asyncio.Semaphore(10) never has more than 10 calls in flight, while"
                    + " asyncio.gather, TaskGroup and as_completed over every item start all of them at once.");
    static final ClaimSpec PY_BOUND_COSTS_TIME = new ClaimSpec("py-bound-costs-time",
            "The Semaphore(10) fan-out takes at least items/10 call times, while asyncio.gather of every item at"
                    + " once finishes in under a third of that.");
    static final ClaimSpec PY_FUTURES_ORDER = new ClaimSpec("py-futures-order",
            "concurrent.futures' Executor.map returns results in input order, so a slow first item still comes"
                    + " first, while as_completed yields that item last.");

    static final int SPEEDUP_WORKERS = 8;
    static final int BRANCHES = 4;
    static final int KEYS = 16;

    @Override
    public String id() {
        return "fan-in-out";
    }

    @Override
    public String title() {
        return "Fan-out and fan-in on the pipeline engine: speed-up, exactly once, ordering, items in flight";
    }

    @Override
    public String description() {
        return "Fans an I/O-bound stage out to N workers and merges keyed branches back on the toolkit's pipeline"
                + " engine, forces head-of-line blocking with a latch, measures the items a bounded and an"
                + " unbounded fan-out hold at once, and runs the same patterns in asyncio and concurrent.futures.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("items", "items through the fan-out and the merge", 16, 100_000, 2_000, 400),
                new Param.IntParam("io-items", "items through the I/O-bound stage", 8, 10_000, 96, 48),
                new Param.IntParam("delay-ms", "simulated latency of the I/O-bound stage, ms", 1, 1_000, 5, 5),
                new Param.IntParam("py-items", "coroutines in the CPython fan-out (at least 5 rounds of 10)", 50,
                        20_000, 200, 100),
                new Param.IntParam("py-delay-ms", "simulated latency of each CPython call, ms", 5, 1_000, 20, 10));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(FAN_OUT_SPEEDUP, MERGE_EXACTLY_ONCE, KEYED_ORDER, UNORDERED_OVERTAKES, ORDERED_HOLDS_BACK,
                BOUNDED_IN_FLIGHT, UNBOUNDED_HOLDS_ALL, PY_SEMAPHORE_BOUND, PY_BOUND_COSTS_TIME, PY_FUTURES_ORDER);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int items = ctx.intParam("items");
        Table.Builder table = Table.builder("Fan-out and fan-in", "pattern", "runtime", "items", "measured",
                "expected");

        ctx.progress(0.05, "JVM: an I/O-bound stage on 1 worker and on " + SPEEDUP_WORKERS);
        fanOutSpeedup(ctx, table);

        ctx.progress(0.3, "JVM: partition by key into " + BRANCHES + " branches, merge, count");
        mergeKeyed(ctx, table, items);

        ctx.progress(0.4, "JVM: a slow first item, unordered vs ordered output");
        FanInOutOrdering.Outcome unordered = FanInOutOrdering.unordered();
        FanInOutOrdering.Outcome ordered = FanInOutOrdering.ordered();
        table.row("unordered, 2 workers, slow item 0", "JVM", FanInOutOrdering.ITEMS, "sink order " + unordered.order(),
                "item 0 last");
        table.row("inOrder(), 2 workers, slow item 0", "JVM", FanInOutOrdering.ITEMS, "sink order " + ordered.order()
                + "; " + ordered.heldBack() + " finished, " + ordered.deliveredWhileHeld()
                + " delivered while item 0 ran", "0 delivered, then input order");
        ctx.claim(UNORDERED_OVERTAKES, Verdict.check(unordered.slowItemLast(), "unordered sink order "
                + unordered.order() + " (item 0 was released only after the sink had the other "
                + (FanInOutOrdering.ITEMS - 1) + ")"));
        ctx.claim(ORDERED_HOLDS_BACK, Verdict.check(ordered.heldBackAll() && ordered.inInputOrder(), String.format(
                "while item 0 was stuck, %d later items had finished and %d had reached the sink; final order %s",
                ordered.heldBack(), ordered.deliveredWhileHeld(), ordered.order())));

        ctx.progress(0.5, "JVM: items in flight, bounded pipeline vs an executor given everything");
        FanInOutInFlight.Peaks peaks = FanInOutInFlight.measure(items);
        table.row("engine fan-out, 4 workers, channels of " + FanInOutInFlight.CAPACITY, "JVM", items,
                "peak in flight " + peaks.engine(), "≤ " + FanInOutInFlight.BOUND);
        table.row("Broken: fixed pool of 4, everything submitted", "JVM", items, "peak in flight " + peaks.executor(),
                "= " + items);
        ctx.claim(BOUNDED_IN_FLIGHT, Verdict.check(peaks.engine() <= FanInOutInFlight.BOUND && peaks.engineSunk() == items,
                String.format("peak %d items between source and sink (bound %d: 2 channels of %d + 4 workers + the"
                                + " source's and the sink's item); %d of %d sunk", peaks.engine(),
                        FanInOutInFlight.BOUND, FanInOutInFlight.CAPACITY, peaks.engineSunk(), items)));
        ctx.claim(UNBOUNDED_HOLDS_ALL, Verdict.check(peaks.executor() == items, String.format(
                "peak %d of %d items in flight in the executor (submit never waits)", peaks.executor(), items)));

        ctx.progress(0.6, "CPython: asyncio fan-outs and concurrent.futures ordering");
        pythonSide(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void fanOutSpeedup(RunContext ctx, Table.Builder table) throws Exception {
        int n = ctx.intParam("io-items");
        long delay = ctx.intParam("delay-ms");
        List<Integer> input = IntStream.range(0, n).boxed().toList();
        StageOptions one = StageOptions.serial().withVirtualThreads();
        StageOptions many = StageOptions.parallel(SPEEDUP_WORKERS).withVirtualThreads();
        ioStage(input, many, delay); // start the threads' code paths once before timing
        Timing serial = Measure.bestOf(ctx.repeats(), ctx, () -> ioStage(input, one, delay));
        Timing fanned = Measure.bestOf(ctx.repeats(), ctx, () -> ioStage(input, many, delay));
        double speedup = Measure.speedup(serial, fanned);
        table.row("I/O-bound stage, 1 worker", "JVM", n, String.format("%.1f ms", serial.bestMillis()),
                String.format("≈ %d ms", n * delay));
        table.row("I/O-bound stage, " + SPEEDUP_WORKERS + " workers", "JVM", n,
                String.format("%.1f ms (%.2f×)", fanned.bestMillis(), speedup),
                String.format("≈ %d ms (%d×)", n * delay / SPEEDUP_WORKERS, SPEEDUP_WORKERS));
        ctx.claim(FAN_OUT_SPEEDUP, Verdict.atLeast(SPEEDUP_WORKERS + " workers vs 1, " + n + " items of " + delay
                + " ms (best of " + ctx.repeats() + ")", speedup, 4.0));
    }

    /** Source → one I/O-bound stage with {@code options} → a counting sink; fails loudly if an item went missing. */
    private static void ioStage(List<Integer> input, StageOptions options, long delayMs) throws Exception {
        PipelineBuilder b = Pipeline.builder();
        int[] sunk = new int[1]; // one sink worker
        b.source("items", input)
                .map("call", options, i -> {
                    Thread.sleep(delayMs); // the stand-in for a network call: the worker waits, the CPU is free
                    return i;
                })
                .sink("count", i -> sunk[0]++);
        Pipeline p = b.start();
        p.await();
        if (sunk[0] != input.size() || !p.deadLetters().isEmpty()) {
            throw new IllegalStateException("the I/O stage lost items: " + sunk[0] + " of " + input.size());
        }
    }

    private static void mergeKeyed(RunContext ctx, Table.Builder table, int items) throws Exception {
        record Keyed(int id, int key, int seq) {}
        List<Keyed> input = new ArrayList<>(items);
        int[] nextSeq = new int[KEYS];
        for (int i = 0; i < items; i++) {
            int key = (i * 7 + i / 3) % KEYS; // keys interleaved irregularly
            input.add(new Keyed(i, key, nextSeq[key]++));
        }
        AtomicIntegerArray seen = new AtomicIntegerArray(items);
        ConcurrentHashMap<Integer, Integer> lastSeq = new ConcurrentHashMap<>();
        int[] outOfOrder = new int[1]; // one sink worker
        PipelineBuilder b = Pipeline.builder();
        List<Flow<Keyed>> branches = b.source("items", input).partition("by-key", BRANCHES, Keyed::key);
        List<Flow<Keyed>> worked = new ArrayList<>();
        for (int i = 0; i < BRANCHES; i++) {
            int branch = i;
            worked.add(branches.get(i).map("work-" + i, k -> {
                if ((k.id() + branch) % 5 == 0) {
                    Thread.sleep(0, 200_000); // branches run at different speeds, so the merge interleaves them
                }
                return k;
            }));
        }
        @SuppressWarnings("unchecked") Flow<Keyed>[] toMerge = worked.toArray(Flow[]::new);
        Flow.merge("merge", toMerge).sink("check", k -> {
            seen.incrementAndGet(k.id());
            Integer prev = lastSeq.put(k.key(), k.seq());
            if (k.seq() != (prev == null ? 0 : prev + 1)) {
                outOfOrder[0]++;
            }
        });
        Pipeline p = b.start();
        p.await();
        int missing = 0;
        int twice = 0;
        for (int i = 0; i < items; i++) {
            missing += seen.get(i) == 0 ? 1 : 0;
            twice += seen.get(i) > 1 ? 1 : 0;
        }
        int delivered = IntStream.range(0, items).map(seen::get).sum();
        table.row("partition(" + BRANCHES + ") → merge", "JVM", items, String.format(
                "%d delivered, %d missing, %d twice; %d keys, %d out of order", delivered, missing, twice, lastSeq.size(),
                outOfOrder[0]), "each once, each key in order");
        ctx.claim(MERGE_EXACTLY_ONCE, Verdict.check(missing == 0 && twice == 0 && p.deadLetters().isEmpty(),
                String.format("%d items in, %d delivered: %d missing, %d delivered twice, %d dead letters", items,
                        delivered, missing, twice, p.deadLetters().size())));
        long keysIn = input.stream().map(Keyed::key).distinct().count();
        ctx.claim(KEYED_ORDER, Verdict.check(outOfOrder[0] == 0 && lastSeq.size() == keysIn, String.format(
                "%d of %d keys seen over %d branches: %d items arrived out of their key's order", lastSeq.size(),
                keysIn, BRANCHES, outOfOrder[0])));
    }

    private static void pythonSide(RunContext ctx, Table.Builder table) throws Exception {
        int pyItems = ctx.intParam("py-items");
        int pyDelay = ctx.intParam("py-delay-ms");
        int bound = 10;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("fan_in_out.py", List.of(), Duration.ofSeconds(60),
                "--items", Integer.toString(pyItems), "--bound", Integer.toString(bound),
                "--delay-ms", Integer.toString(pyDelay), "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_SEMAPHORE_BOUND, PY_BOUND_COSTS_TIME,
                    PY_FUTURES_ORDER);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                boolean allStarted = true;
                boolean allDelivered = true;
                for (String v : List.of("gather", "taskgroup", "as_completed", "semaphore")) {
                    int peak = json.path("peak_" + v).asInt();
                    double wallMs = json.path("wall_" + v + "_s").asDouble() * 1e3;
                    allDelivered &= json.path("count_" + v).asInt() == pyItems;
                    if (!v.equals("semaphore")) {
                        allStarted &= peak == pyItems;
                    }
                    table.row("asyncio " + v + (v.equals("semaphore") ? "(" + bound + ")" : ""), "CPython", pyItems,
                            String.format("peak in flight %d; %.1f ms; argument order: %s", peak, wallMs,
                                    json.path("ordered_" + v).asBoolean()),
                            v.equals("semaphore") ? "≤ " + bound + " in flight" : "all " + pyItems + " in flight");
                }
                int semPeak = json.path("peak_semaphore").asInt();
                ctx.claim(PY_SEMAPHORE_BOUND, Verdict.check(semPeak <= bound && allStarted && allDelivered,
                        String.format("in-flight peaks: Semaphore(%d) %d; gather %d, TaskGroup %d, as_completed %d"
                                        + " of %d", bound, semPeak, json.path("peak_gather").asInt(),
                                json.path("peak_taskgroup").asInt(), json.path("peak_as_completed").asInt(),
                                pyItems)));
                double semMs = json.path("wall_semaphore_s").asDouble() * 1e3;
                double gatherMs = json.path("wall_gather_s").asDouble() * 1e3;
                double rounds = Math.ceil(pyItems / (double) bound);
                // the bound is physics (each round waits one call); gather's margin covers starting every coroutine
                ctx.claim(PY_BOUND_COSTS_TIME, Verdict.check(semMs >= rounds * pyDelay && gatherMs < semMs / 3,
                        String.format("Semaphore(%d): %.1f ms (needs ≥ %.0f ms = %.0f rounds of %d ms); gather:"
                                + " %.1f ms (needs < %.1f ms, a third of it)", bound, semMs, rounds * pyDelay, rounds,
                                pyDelay, gatherMs, semMs / 3)));
                List<Integer> mapOrder = ints(json.path("map_order"));
                List<Integer> completedOrder = ints(json.path("as_completed_order"));
                table.row("ThreadPoolExecutor.map, slow item 0", "CPython", mapOrder.size(), "order " + mapOrder,
                        "input order");
                table.row("concurrent.futures.as_completed, slow item 0", "CPython", completedOrder.size(),
                        "order " + completedOrder, "item 0 last");
                boolean mapInOrder = mapOrder.equals(IntStream.range(0, mapOrder.size()).boxed().toList());
                boolean slowLast = !completedOrder.isEmpty() && completedOrder.getLast() == 0
                        && completedOrder.size() == mapOrder.size();
                ctx.claim(PY_FUTURES_ORDER, Verdict.check(mapInOrder && slowLast, "Executor.map order " + mapOrder
                        + "; as_completed order " + completedOrder + " (item 0 finished after all the others)"));
            }
        }
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }
}

package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A memory leak in an asynchronous system, found from the heap measured after GC round by round, and fixed.
 *
 * <ol>
 *   <li><b>Broken — listeners never removed.</b> Each request, on its own virtual thread, subscribes a listener to a
 *       long-lived event bus to hear its reply, and the listener captures the request's payload. Nobody unsubscribes:
 *       the bus keeps every listener, so every payload stays reachable. <b>Fixed:</b> the request unsubscribes in a
 *       {@code finally} once its reply came.</li>
 *   <li><b>Broken — an unbounded queue.</b> A producer offers R items a round to a {@link LinkedBlockingQueue}; the
 *       consumer, slower, takes a quarter of them. The backlog (and its payloads) grows every round. <b>Fixed:</b> an
 *       {@link ArrayBlockingQueue} of that quarter's capacity: {@code offer} returns false when full, so the producer
 *       learns at once and sheds the excess (or could slow down with {@code put}).</li>
 * </ol>
 * After each round the heap used is read from {@link java.lang.management.MemoryMXBean} after {@code System.gc()}
 * (a full collection with the JDK's default G1 unless explicit GC is disabled). The growth from the first round to
 * the last is compared with the payload bytes the broken version keeps by construction: what it keeps is strongly
 * reachable, so no collector can free it; what the fixed one drops is unreachable, so a full collection frees it.
 * CPython (probe {@code async_leak.py}) does the same with a set of background tasks never discarded and an unbounded
 * {@code asyncio.Queue}, measured with {@code tracemalloc} and two snapshots diffed.
 *
 * <p>Stateless: every executor and thread is closed or joined, and the leaked structures are dropped, before
 * {@code run} returns.
 *
 * <p>Run: {@code ./conclab run async-leak}. Expect the broken versions to grow by about one round's payload per round
 * and the fixed ones to stay flat; the snapshot diff points at the probe's payload line.
 */
public final class AsyncLeak implements Experiment {

    static final ClaimSpec LISTENERS_LEAK = new ClaimSpec("listeners-leak",
            "Broken: listeners that requests subscribe and never remove keep their payloads alive: the heap after GC"
                    + " grows every round by at least 0.8× the payload of a round's requests; unsubscribing in finally"
                    + " keeps the whole growth under 0.2× of the broken version's.");
    static final ClaimSpec QUEUE_LEAKS = new ClaimSpec("unbounded-queue-leaks",
            "Broken: an unbounded queue in front of a slower consumer grows every round, and so does the heap after"
                    + " GC (each round by at least 0.8× the payload of that round's backlog); a bounded queue that"
                    + " refuses when full stays flat (under 0.2× of the broken version's growth).");
    static final ClaimSpec PY_TRACEMALLOC = new ClaimSpec("py-tracemalloc-diff",
            "In asyncio a set of background tasks never discarded, and an unbounded asyncio.Queue in front of a"
                    + " slower consumer, grow traced memory every round (by at least 0.8× the payload they keep), and a"
                    + " tracemalloc snapshot diff names the payload's allocation line; the fixed versions stay flat.");

    /** Broken must keep at least this share of what it holds by construction (GC cannot free it). */
    static final double BROKEN_AT_LEAST = 0.8;
    /** Fixed may keep at most this share of the broken version's expected growth. */
    static final double FIXED_AT_MOST = 0.2;
    private static final long GIVE_UP_SECONDS = 20;

    @Override
    public String id() {
        return "async-leak";
    }

    @Override
    public String title() {
        return "A memory leak in an async system: retained listeners and an unbounded queue";
    }

    @Override
    public String description() {
        return "Leaks payloads through event-bus listeners never removed and through an unbounded queue in front of a"
                + " slow consumer, measures the heap after GC round by round, and fixes both; beside asyncio's"
                + " background-task set and unbounded Queue found with tracemalloc snapshots diffed.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("rounds", "rounds of requests", 3, 20, 6, 4),
                new Param.IntParam("requests", "requests (or queue items) per round", 8, 2_000, 200, 100),
                new Param.IntParam("payload-kib", "payload each request holds, in KiB", 1, 256, 32, 32));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(LISTENERS_LEAK, QUEUE_LEAKS, PY_TRACEMALLOC);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int rounds = ctx.intParam("rounds");
        int requests = ctx.intParam("requests");
        int payload = ctx.intParam("payload-kib") * 1024;
        Table.Builder table = Table.builder("Heap after GC, round by round", "runtime", "variant",
                "retained after each round (MiB)", "growth first → last (MiB)", "held at the end");

        ctx.progress(0.05, "listeners: broken");
        Rounds brokenBus = listeners(rounds, requests, payload, false);
        ctx.progress(0.25, "listeners: fixed");
        Rounds fixedBus = listeners(rounds, requests, payload, true);
        double busExpected = (double) (rounds - 1) * requests * payload;
        brokenBus.row(table, "JVM", "Broken: listeners never unsubscribed", "listeners");
        fixedBus.row(table, "JVM", "Fixed: unsubscribe in finally", "listeners");
        judge(ctx, LISTENERS_LEAK, brokenBus, fixedBus, busExpected);

        ctx.progress(0.45, "queue: broken");
        Rounds brokenQueue = queue(rounds, requests, payload, false);
        ctx.progress(0.6, "queue: fixed");
        Rounds fixedQueue = queue(rounds, requests, payload, true);
        double queueExpected = (double) (rounds - 1) * (requests - requests / 4) * payload;
        brokenQueue.row(table, "JVM", "Broken: LinkedBlockingQueue (unbounded)", "queued items");
        fixedQueue.row(table, "JVM", "Fixed: ArrayBlockingQueue(" + requests / 4 + "), offer refuses when full",
                "queued items; " + fixedQueue.refused + " refused");
        judge(ctx, QUEUE_LEAKS, brokenQueue, fixedQueue, queueExpected);

        ctx.progress(0.75, "CPython: async_leak.py");
        python(ctx, rounds, requests, payload, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /** The heap after GC after each round, what is still held at the end, and how many items were refused. */
    private record Rounds(List<Long> retained, int held, int refused) {
        double growth() {
            return retained.getLast() - retained.getFirst();
        }

        void row(Table.Builder table, String runtime, String variant, String heldWhat) {
            table.row(runtime, variant, retained.stream().map(b -> String.format("%.1f", b / 1048576.0)).toList()
                    .toString(), String.format("%+.1f", growth() / 1048576.0), held + " " + heldWhat);
        }
    }

    private static void judge(RunContext ctx, ClaimSpec claim, Rounds broken, Rounds fixed, double expected) {
        int steps = broken.retained().size() - 1;
        double smallestStep = smallestStep(broken.retained());
        ctx.claim(claim, Verdict.check(smallestStep >= BROKEN_AT_LEAST * expected / steps
                        && fixed.growth() <= FIXED_AT_MOST * expected, String.format(
                "broken grew %.1f MiB over the rounds, at least %.2f MiB each round, fixed %+.1f MiB; the broken"
                        + " version holds %.2f MiB more each round by construction (needs each round ≥ %.2f, fixed"
                        + " ≤ %.2f)", broken.growth() / 1048576.0, smallestStep / 1048576.0,
                fixed.growth() / 1048576.0, expected / steps / 1048576.0,
                BROKEN_AT_LEAST * expected / steps / 1048576.0, FIXED_AT_MOST * expected / 1048576.0)));
    }

    /** The smallest growth from one round to the next. */
    private static double smallestStep(List<Long> retained) {
        double smallest = Double.POSITIVE_INFINITY;
        for (int i = 1; i < retained.size(); i++) {
            smallest = Math.min(smallest, retained.get(i) - retained.get(i - 1));
        }
        return smallest;
    }

    // ---- 1. listeners --------------------------------------------------------------------------------------------

    /** A long-lived publisher: listeners are called in subscription order on the publishing thread. Thread-safe. */
    private static final class EventBus {
        private final List<Consumer<Integer>> listeners = new CopyOnWriteArrayList<>();

        void subscribe(Consumer<Integer> listener) {
            listeners.add(listener);
        }

        void unsubscribe(Consumer<Integer> listener) {
            listeners.remove(listener);
        }

        void publish(int requestId) {
            listeners.forEach(l -> l.accept(requestId));
        }

        int size() {
            return listeners.size();
        }
    }

    private static Rounds listeners(int rounds, int requests, int payload, boolean fixed) throws Exception {
        EventBus bus = new EventBus();
        List<Long> retained = new ArrayList<>();
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int r = 0; r < rounds; r++) {
                CountDownLatch subscribed = new CountDownLatch(requests);
                List<CompletableFuture<Integer>> handled = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    int id = r * requests + i;
                    handled.add(CompletableFuture.supplyAsync(() -> request(bus, id, payload, subscribed, fixed),
                            exec));
                }
                await(subscribed);
                for (int i = 0; i < requests; i++) {
                    bus.publish(r * requests + i);
                }
                for (CompletableFuture<Integer> f : handled) {
                    f.get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
                }
                retained.add(heapAfterGc());
            }
        }
        return new Rounds(retained, bus.size(), 0);
    }

    /** One request: subscribes a listener that holds the request's payload, and waits for its reply. */
    private static int request(EventBus bus, int id, int payload, CountDownLatch subscribed, boolean fixed) {
        byte[] context = new byte[payload]; // the request's state, captured by its listener
        CompletableFuture<Integer> reply = new CompletableFuture<>();
        Consumer<Integer> listener = event -> {
            if (event == id) {
                reply.complete(context.length);
            }
        };
        bus.subscribe(listener);
        subscribed.countDown();
        try {
            return reply.get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("request " + id + " got no reply", e);
        } finally {
            if (fixed) {
                bus.unsubscribe(listener);
            }
        }
    }

    // ---- 2. the queue ------------------------------------------------------------------------------------------------

    private static Rounds queue(int rounds, int requests, int payload, boolean fixed) throws Exception {
        int drain = requests / 4; // the consumer manages a quarter of what arrives each round
        BlockingQueue<byte[]> queue = fixed ? new ArrayBlockingQueue<>(drain) : new LinkedBlockingQueue<>();
        List<Long> retained = new ArrayList<>();
        int refused = 0;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < requests; i++) {
                if (!queue.offer(new byte[payload])) {
                    refused++; // the fix: the producer learns at once, and sheds
                }
            }
            Thread consumer = Thread.ofVirtual().name("slow-consumer").start(() -> {
                for (int i = 0; i < drain; i++) {
                    queue.poll();
                }
            });
            consumer.join(TimeUnit.SECONDS.toMillis(GIVE_UP_SECONDS));
            retained.add(heapAfterGc());
        }
        return new Rounds(retained, queue.size(), refused);
    }

    // ---- CPython -------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int rounds, int requests, int payload, Table.Builder table)
            throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("async_leak.py", List.of(), Duration.ofSeconds(60),
                String.valueOf(rounds), String.valueOf(requests), String.valueOf(payload));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_TRACEMALLOC);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                double tasksExpected = (double) (rounds - 1) * requests * payload;
                double queueExpected = (double) (rounds - 1) * (requests - requests / 4) * payload;
                List<String> verdicts = new ArrayList<>();
                boolean holds = true;
                for (String[] c : new String[][] {
                        {"tasks_broken", "Broken: background tasks kept in a set, never discarded", "tasks"},
                        {"tasks_fixed", "Fixed: task.add_done_callback(tasks.discard)", "tasks"},
                        {"queue_broken", "Broken: asyncio.Queue() (unbounded)", "queue"},
                        {"queue_fixed", "Fixed: asyncio.Queue(maxsize), put_nowait raises QueueFull", "queue"}}) {
                    JsonNode n = json.path(c[0]);
                    List<Long> traced = new ArrayList<>();
                    n.path("traced").forEach(v -> traced.add(v.asLong()));
                    double growth = traced.isEmpty() ? Double.NaN : traced.getLast() - traced.getFirst();
                    double expected = c[2].equals("tasks") ? tasksExpected : queueExpected;
                    JsonNode top = n.path("top");
                    boolean broken = c[0].endsWith("broken");
                    double step = traced.size() < 2 ? Double.NaN : smallestStep(traced);
                    boolean ok = broken
                            ? step >= BROKEN_AT_LEAST * expected / (rounds - 1)
                                    && top.path("is_payload_line").asBoolean()
                            : growth <= FIXED_AT_MOST * expected;
                    holds &= ok;
                    verdicts.add(String.format("%s grew %.1f MiB, %s (needs %s), top diff line %s%s", c[0],
                            growth / 1048576.0, broken ? String.format("at least %.2f MiB each round", step / 1048576.0)
                                    : "in all", broken ? String.format("≥ %.2f each round",
                                    BROKEN_AT_LEAST * expected / (rounds - 1) / 1048576.0)
                                    : String.format("≤ %.2f", FIXED_AT_MOST * expected / 1048576.0),
                            top.path("line").asText(),
                            top.path("is_payload_line").asBoolean() ? " (the payload line)" : ""));
                    table.row(py, c[1], traced.stream().map(b -> String.format("%.1f", b / 1048576.0)).toList()
                                    .toString(), String.format("%+.1f", growth / 1048576.0),
                            n.path("held").asInt() + " held" + (n.has("rejected") ? "; " + n.path("rejected").asInt()
                                    + " refused" : "") + "; snapshot diff top: line " + top.path("line").asText()
                                    + String.format(" %+.1f MiB", top.path("size_diff").asDouble() / 1048576.0));
                }
                ctx.claim(PY_TRACEMALLOC, Verdict.check(holds, String.join("; ", verdicts) + "; " + py));
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    /** The heap in use after a full collection: what is still reachable, plus a little noise. */
    private static long heapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        System.gc(); // a second pass frees what the first one's reference processing released
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("gave up waiting for the requests to subscribe");
        }
    }
}

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
import dev.conclab.toolkit.channel.BoundedChannel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Producer–consumer over a bounded queue: fast producers, deliberately slow consumers, and what the bound buys.
 *
 * <ol>
 *   <li><b>BASELINE — {@code ArrayBlockingQueue(capacity)}, one poison pill per consumer.</b> Producers
 *       {@code put} items as fast as they can; each consumer {@code take}s one and then works {@code consume-us}
 *       on it. The queue fills up, and from then on every {@code put} waits for a {@code take}: the producers are
 *       held to the consumers' pace (backpressure). When the producers are done, the main thread puts one pill
 *       (a reserved {@code Item} compared by identity) per consumer, and each consumer stops at its pill.</li>
 *   <li><b>{@link BoundedChannel}(capacity), stopped by {@code close()}.</b> The same bound, but the end of the
 *       stream is part of the channel: after {@code close()} consumers drain what is left and then receive
 *       "empty", however many consumers there are, with no sentinel value.</li>
 *   <li><b>Broken — an unbounded {@code LinkedBlockingQueue()}</b> (its default capacity is
 *       {@code Integer.MAX_VALUE}). Nothing holds the producers back: they finish at once, and every item not yet
 *       consumed waits in the queue. With a consumer that never catches up, that is a memory leak.</li>
 *   <li><b>Broken — one poison pill for several consumers.</b> The first consumer to take the pill stops; the
 *       others block in {@code take()} on an empty queue that nobody will ever fill. The experiment waits until
 *       each of them is parked ({@code Thread.State.WAITING}) with every item consumed, which is final, records it,
 *       and interrupts them to recover.</li>
 * </ol>
 * Peak sizes are sampled by every producer right after each {@code put}; "backlog" is how many items the
 * consumers had not yet taken when the last producer's last {@code put} returned. Every item carries an id, and
 * each id must be taken exactly once. Each variant runs {@code repeats} times; the table gives the worst case for
 * the bounded claims and the range for the rest.
 *
 * <p>The CPython probe {@code producer_consumer.py} does the same with {@code queue.Queue(maxsize=N)} and
 * {@code queue.Queue()}, uses {@code task_done()}/{@code join()} to wait for the work to be processed, stops its
 * consumers with one {@code None} per consumer, and reports whether {@code Queue.shutdown()} (3.13+) exists.
 *
 * <p>Run: {@code ./conclab run producer-consumer}. Expect peak = capacity and a backlog of at most capacity plus
 * one item per consumer for both bounded queues; a peak near {@code items} for the unbounded one; every item
 * delivered once; and one consumer stopped per pill.
 */
public final class ProducerConsumer implements Experiment {

    static final ClaimSpec BOUNDED_PEAK = new ClaimSpec("bounded-peak",
            "With a slow consumer, a bounded queue fills up to its capacity and never holds more: the peak size of"
                    + " an ArrayBlockingQueue and of a BoundedChannel equals the bound.");
    static final ClaimSpec PRODUCER_HELD = new ClaimSpec("producer-held",
            "A bounded queue holds the producers to the consumers' pace: when the last put returns, at most"
                    + " capacity items (plus one in each consumer's hands) are still unconsumed.");
    static final ClaimSpec UNBOUNDED_GROWS = new ClaimSpec("unbounded-grows",
            "Broken: with an unbounded LinkedBlockingQueue the producers run ahead, and the queue grows to at"
                    + " least half of all items produced.");
    static final ClaimSpec EXACTLY_ONCE = new ClaimSpec("exactly-once",
            "With several producers and consumers, every item is taken exactly once, from every queue.");
    static final ClaimSpec SHUTDOWN = new ClaimSpec("shutdown",
            "One poison pill per consumer, or closing the BoundedChannel, stops every consumer after the last item;"
                    + " a single pill for several consumers leaves the others blocked in take() for good.");
    static final ClaimSpec PY_BOUNDED = new ClaimSpec("py-bounded-peak",
            "queue.Queue(maxsize=N) with a slow consumer never holds more than N items, while an unbounded"
                    + " queue.Queue() grows to at least half of all items.");
    static final ClaimSpec PY_JOIN = new ClaimSpec("py-task-done-join",
            "Queue.join() returns only after task_done() has been called for every item put.");
    static final ClaimSpec PY_PILLS = new ClaimSpec("py-poison-pills",
            "With one None pill per consumer, every consumer thread exits and every item is consumed exactly once.");
    static final ClaimSpec PY_SHUTDOWN = new ClaimSpec("py-shutdown",
            "Queue.shutdown() exists only from Python 3.13; before it, consumers are stopped with sentinels.");

    /** How long to wait for a thread that should finish soon, before treating it as stuck. */
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    /** One unit of work; {@link #POISON} is the sentinel, told apart by identity. */
    private record Item(int id) {
        static final Item POISON = new Item(-1);
    }

    @Override
    public String id() {
        return "producer-consumer";
    }

    @Override
    public String title() {
        return "Producers and a slow consumer over ArrayBlockingQueue, BoundedChannel and an unbounded queue";
    }

    @Override
    public String description() {
        return "Fast producers feed slow consumers through a bounded ArrayBlockingQueue (poison pills), a"
                + " BoundedChannel (close) and, Broken, an unbounded LinkedBlockingQueue; measures the peak queue"
                + " size, how far the producers ran ahead, exactly-once delivery, shutdown and throughput, and runs"
                + " the same with CPython's queue.Queue.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("items", "items produced in total", 10, 1_000_000, 2_000, 400),
                new Param.IntParam("capacity", "bound of the bounded queues", 1, 100_000, 16, 16),
                new Param.IntParam("producers", "producer threads", 1, 64, 2, 2),
                new Param.IntParam("consumers", "consumer threads (at least 2, to show the lone pill)", 2, 64, 2, 2),
                new Param.IntParam("consume-us", "how long a consumer works on each item, in µs", 1, 100_000, 500,
                        250));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(BOUNDED_PEAK, PRODUCER_HELD, UNBOUNDED_GROWS, EXACTLY_ONCE, SHUTDOWN, PY_BOUNDED, PY_JOIN,
                PY_PILLS, PY_SHUTDOWN);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Shape shape = new Shape(ctx.intParam("items"), ctx.intParam("capacity"), ctx.intParam("producers"),
                ctx.intParam("consumers"), TimeUnit.MICROSECONDS.toNanos(ctx.intParam("consume-us")));
        int repeats = ctx.repeats();
        List<Variant> variants = List.of(
                new Variant("ArrayBlockingQueue(" + shape.capacity + ")",
                        () -> new QueueBuffer(new ArrayBlockingQueue<>(shape.capacity))),
                new Variant("BoundedChannel(" + shape.capacity + ")",
                        () -> new ChannelBuffer(new BoundedChannel<>(shape.capacity))),
                new Variant("Broken: LinkedBlockingQueue() (unbounded)",
                        () -> new QueueBuffer(new LinkedBlockingQueue<>())));

        List<Summary> summaries = new ArrayList<>();
        for (int v = 0; v < variants.size(); v++) {
            Variant variant = variants.get(v);
            List<Outcome> outcomes = new ArrayList<>();
            for (int r = 0; r < repeats; r++) {
                ctx.checkCancelled();
                ctx.progress((v * repeats + r) / (double) (variants.size() * repeats + 2), variant.name);
                Buffer buffer = variant.buffer.get();
                outcomes.add(runOnce(ctx, buffer, shape, shape.consumers));
            }
            summaries.add(new Summary(variant, outcomes));
        }
        ctx.progress(0.75, "Broken: one poison pill for " + shape.consumers + " consumers");
        Outcome lonePill = runOnce(ctx, new QueueBuffer(new ArrayBlockingQueue<>(shape.capacity)), shape, 1);

        Table.Builder table = Table.builder("Producer–consumer, " + shape.items + " items, " + shape.producers
                        + " producers, " + shape.consumers + " consumers working " + ctx.intParam("consume-us")
                        + " µs per item (" + repeats + " runs each; worst case or range)",
                "queue", "stopped by", "peak size", "backlog when producers done", "producers done ms",
                "consumers done ms", "items/s (best)", "each item taken once", "consumers stopped");
        for (Summary s : summaries) {
            table.row(s.variant.name, s.outcomes.getFirst().stoppedBy, s.peakRange(), s.backlogRange(),
                    s.range(Outcome::producersDoneMs), s.range(Outcome::consumersDoneMs), (long) s.bestThroughput(),
                    s.allExactlyOnce() ? "yes" : "NO: " + s.deliveryProblems(),
                    s.minStopped() + " of " + shape.consumers);
        }
        table.row("Broken: ArrayBlockingQueue(" + shape.capacity + "), one pill", "1 poison pill for "
                        + shape.consumers + " consumers", lonePill.peak, lonePill.backlog,
                String.format("%.1f", lonePill.producersDoneMs()), "never: " + lonePill.leftBlocked + " blocked",
                "", lonePill.exactlyOnce() ? "yes" : "NO: " + lonePill.deliveryProblems(),
                lonePill.stopped + " of " + shape.consumers + " (+" + lonePill.leftBlocked
                        + " blocked in take(), then interrupted)");

        judgeJvm(ctx, shape, summaries, lonePill);
        ctx.progress(0.8, "CPython: queue.Queue");
        runProbe(ctx, shape, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void judgeJvm(RunContext ctx, Shape shape, List<Summary> summaries, Outcome lonePill) {
        Summary abq = summaries.get(0);
        Summary channel = summaries.get(1);
        Summary unbounded = summaries.get(2);
        boolean peakHolds = abq.minPeak() == shape.capacity && abq.maxPeak() == shape.capacity
                && channel.minPeak() == shape.capacity && channel.maxPeak() == shape.capacity;
        ctx.claim(BOUNDED_PEAK, Verdict.check(peakHolds, String.format(
                "peak size over %d runs: ArrayBlockingQueue %s, BoundedChannel %s (needs = %d every run); the"
                        + " unbounded queue peaked at %s",
                abq.outcomes.size(), abq.peakRange(), channel.peakRange(), shape.capacity, unbounded.peakRange())));

        int allowedBacklog = shape.capacity + shape.consumers;
        boolean heldHolds = abq.maxBacklog() <= allowedBacklog && channel.maxBacklog() <= allowedBacklog;
        ctx.claim(PRODUCER_HELD, Verdict.check(heldHolds, String.format(
                "items not yet consumed when the last put returned: ArrayBlockingQueue %s, BoundedChannel %s"
                        + " (needs ≤ %d = capacity %d + %d consumers); unbounded: %s of %d; producers finished"
                        + " after %s ms (bounded) vs %s ms (unbounded)",
                abq.backlogRange(), channel.backlogRange(), allowedBacklog, shape.capacity, shape.consumers,
                unbounded.backlogRange(), shape.items, abq.range(Outcome::producersDoneMs),
                unbounded.range(Outcome::producersDoneMs))));

        int half = (shape.items + 1) / 2;
        ctx.claim(UNBOUNDED_GROWS, Verdict.check(unbounded.maxPeak() >= half, String.format(
                "unbounded LinkedBlockingQueue peak size %s of %d items over %d runs (needs ≥ %d at best); the"
                        + " bounded queues stayed at %d",
                unbounded.peakRange(), shape.items, unbounded.outcomes.size(), half, shape.capacity)));

        boolean once = summaries.stream().allMatch(Summary::allExactlyOnce) && lonePill.exactlyOnce();
        StringBuilder delivery = new StringBuilder();
        for (Summary s : summaries) {
            delivery.append(s.variant.name).append(": ").append(s.allExactlyOnce() ? "all " + shape.items
                    + " once in " + s.outcomes.size() + " runs" : s.deliveryProblems()).append("; ");
        }
        ctx.claim(EXACTLY_ONCE, Verdict.check(once, delivery + "lone-pill run: "
                + (lonePill.exactlyOnce() ? "all once" : lonePill.deliveryProblems())));

        boolean pillsStopAll = summaries.stream().allMatch(s -> s.minStopped() == shape.consumers
                && s.outcomes.stream().allMatch(o -> o.leftBlocked == 0));
        boolean lonePillStrands = lonePill.stopped == 1 && lonePill.leftBlocked == shape.consumers - 1;
        ctx.claim(SHUTDOWN, Verdict.check(pillsStopAll && lonePillStrands, String.format(
                "pill per consumer (ArrayBlockingQueue, LinkedBlockingQueue) and close() (BoundedChannel): %s of"
                        + " %d consumers stopped in every run; one pill for %d consumers: %d stopped, %d parked in"
                        + " take() with all %d items consumed and the queue empty (needs %d)",
                summaries.stream().mapToInt(Summary::minStopped).min().orElse(0), shape.consumers,
                shape.consumers, lonePill.stopped, lonePill.leftBlocked, shape.items, shape.consumers - 1)));
    }

    private static void runProbe(RunContext ctx, Shape shape, Table.Builder table) throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("producer_consumer.py", List.of(), Duration.ofSeconds(120),
                "--items", Integer.toString(shape.items),
                "--maxsize", Integer.toString(shape.capacity),
                "--producers", Integer.toString(shape.producers),
                "--consumers", Integer.toString(shape.consumers),
                "--consume-us", Long.toString(TimeUnit.NANOSECONDS.toMicros(shape.consumeNanos)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_BOUNDED, PY_JOIN, PY_PILLS, PY_SHUTDOWN);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String version = ran.interpreter().version();
                JsonNode bounded = json.path("bounded");
                JsonNode unbounded = json.path("unbounded");
                for (JsonNode run : List.of(bounded, unbounded)) {
                    table.row("CPython " + version + ": " + run.path("queue").asText(), run.path("stopped_by")
                                    .asText(), run.path("peak_qsize").asInt(), run.path("backlog").asInt(),
                            String.format("%.1f", run.path("producers_done_s").asDouble() * 1e3),
                            String.format("%.1f", run.path("consumers_done_s").asDouble() * 1e3),
                            (long) run.path("items_per_s").asDouble(),
                            run.path("exactly_once").asBoolean() ? "yes" : "NO",
                            run.path("consumers_exited").asInt() + " of " + shape.consumers);
                }
                int peak = bounded.path("peak_qsize").asInt();
                int grown = unbounded.path("peak_qsize").asInt();
                int half = (shape.items + 1) / 2;
                ctx.claim(PY_BOUNDED, Verdict.check(peak <= shape.capacity && grown >= half, String.format(
                        "queue.Queue(maxsize=%d) peak qsize() %d (needs ≤ %d); queue.Queue() peak %d of %d items"
                                + " (needs ≥ %d), CPython %s",
                        shape.capacity, peak, shape.capacity, grown, shape.items, half, version)));
                int processedAtJoin = bounded.path("processed_at_join").asInt();
                ctx.claim(PY_JOIN, Verdict.check(processedAtJoin == shape.items, String.format(
                        "when q.join() returned, consumers had called task_done() for %d of %d items (needs all)",
                        processedAtJoin, shape.items)));
                boolean pills = bounded.path("exactly_once").asBoolean() && unbounded.path("exactly_once")
                        .asBoolean() && bounded.path("consumers_exited").asInt() == shape.consumers
                        && unbounded.path("consumers_exited").asInt() == shape.consumers;
                ctx.claim(PY_PILLS, Verdict.check(pills, String.format(
                        "%d None pills: %d and %d of %d consumer threads exited (bounded, unbounded); each of %d"
                                + " items consumed once: %s, %s",
                        shape.consumers, bounded.path("consumers_exited").asInt(),
                        unbounded.path("consumers_exited").asInt(), shape.consumers, shape.items,
                        bounded.path("exactly_once").asBoolean(), unbounded.path("exactly_once").asBoolean())));
                JsonNode shutdown = json.path("shutdown");
                boolean has = shutdown.path("available").asBoolean();
                boolean is313 = shutdown.path("python_at_least_3_13").asBoolean();
                boolean behaves = !has || shutdown.path("drained_then_raised").asBoolean();
                ctx.claim(PY_SHUTDOWN, Verdict.check(has == is313 && behaves, String.format(
                        "CPython %s: hasattr(queue.Queue, 'shutdown') = %s; %s",
                        version, has, has ? "after shutdown() get() drained " + shutdown.path("drained").asInt()
                                + " items, then raised queue.ShutDown: " + shutdown.path("drained_then_raised")
                                .asBoolean() : "not available before 3.13, so the probe stopped its consumers"
                                + " with None pills")));
                table.row("CPython " + version + ": Queue.shutdown()", has ? "shutdown()" : "not available (3.13+)",
                        "", "", "", "", "", "", "");
            }
        }
    }

    // ---- one run ------------------------------------------------------------------------------------------------

    /**
     * Runs {@code shape.producers} producers and {@code shape.consumers} consumers over {@code buffer}, then stops
     * the consumers with {@code pills} pills (or a close). Consumers that a pill never reaches are found parked,
     * counted, and interrupted, so nothing is left running.
     */
    private static Outcome runOnce(RunContext ctx, Buffer buffer, Shape shape, int pills) throws Exception {
        AtomicIntegerArray taken = new AtomicIntegerArray(shape.items);
        AtomicInteger consumed = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger producersLeft = new AtomicInteger(shape.producers);
        AtomicInteger backlog = new AtomicInteger(-1);
        AtomicLong producersDone = new AtomicLong();
        AtomicLong consumersDone = new AtomicLong();
        AtomicInteger stopped = new AtomicInteger();
        List<Thread> producers = new ArrayList<>();
        List<Thread> consumers = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (int c = 0; c < shape.consumers; c++) {
                consumers.add(Thread.ofPlatform().name("consumer-" + c).start(() -> {
                    try {
                        for (Item item; (item = buffer.take()) != null; ) {
                            taken.incrementAndGet(item.id());
                            consumed.incrementAndGet();
                            Thread.sleep(Duration.ofNanos(shape.consumeNanos)); // the slow part: the work
                        }
                        stopped.incrementAndGet();
                        consumersDone.accumulateAndGet(System.nanoTime(), Math::max);
                    } catch (InterruptedException e) {
                        // stuck consumer recovered by the experiment, or a cancelled run
                    }
                }));
            }
            for (int p = 0; p < shape.producers; p++) {
                int first = p;
                producers.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
                    try {
                        for (int id = first; id < shape.items; id += shape.producers) {
                            buffer.put(new Item(id));
                            peak.accumulateAndGet(buffer.size(), Math::max);
                        }
                        if (producersLeft.decrementAndGet() == 0) {
                            backlog.set(shape.items - consumed.get());
                            producersDone.set(System.nanoTime());
                        }
                    } catch (InterruptedException e) {
                        // cancelled run
                    }
                }));
            }
            for (Thread t : producers) {
                join(ctx, t);
            }
            buffer.finish(pills);
            int leftBlocked = 0;
            if (pills < shape.consumers) {
                leftBlocked = awaitParked(ctx, consumers, consumed, shape.items, buffer);
            }
            for (Thread t : consumers) {
                if (leftBlocked > 0 && t.getState() == Thread.State.WAITING) {
                    t.interrupt(); // recover the consumers a pill never reached
                }
                join(ctx, t);
            }
            return new Outcome(buffer.shutdownBy(pills), peak.get(), backlog.get(),
                    (producersDone.get() - start) / 1e6, (consumersDone.get() - start) / 1e6, shape.items,
                    snapshot(taken), stopped.get(), leftBlocked);
        } finally {
            for (Thread t : producers) {
                t.interrupt();
            }
            for (Thread t : consumers) {
                t.interrupt();
            }
            for (Thread t : producers) {
                t.join(PATIENCE);
            }
            for (Thread t : consumers) {
                t.join(PATIENCE);
            }
        }
    }

    /**
     * Waits until every item is consumed, the queue is empty and every consumer that has not stopped is parked in
     * {@code take()}: with no producer left, that state can only end by interruption. Returns how many are parked.
     */
    private static int awaitParked(RunContext ctx, List<Thread> consumers, AtomicInteger consumed, int items,
                                   Buffer buffer) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            ctx.checkCancelled();
            int parked = 0;
            int alive = 0;
            for (Thread t : consumers) {
                if (t.isAlive()) {
                    alive++;
                    if (t.getState() == Thread.State.WAITING) {
                        parked++;
                    }
                }
            }
            if (consumed.get() == items && buffer.size() == 0 && alive == parked) {
                return parked;
            }
            Thread.sleep(1); // polling an end state, not forcing an order
        }
        throw new IllegalStateException("consumers neither stopped nor parked within " + PATIENCE.toSeconds() + " s");
    }

    private static void join(RunContext ctx, Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!t.join(Duration.ofMillis(50))) {
            ctx.checkCancelled();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(t.getName() + " did not finish within " + PATIENCE.toSeconds()
                        + " s");
            }
        }
    }

    private static int[] snapshot(AtomicIntegerArray counts) {
        int[] copy = new int[counts.length()];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = counts.get(i);
        }
        return copy;
    }

    // ---- the buffers under test, behind one face ----------------------------------------------------------------

    /** What producers and consumers need from a buffer; {@code take} returns null at the end of the stream. */
    private sealed interface Buffer permits QueueBuffer, ChannelBuffer {
        void put(Item item) throws InterruptedException;

        Item take() throws InterruptedException;

        int size();

        /** Tells the consumers there is no more: {@code pills} sentinels, or a close. */
        void finish(int pills) throws InterruptedException;

        String shutdownBy(int pills);
    }

    /** A {@link BlockingQueue} ended by poison pills. */
    private record QueueBuffer(BlockingQueue<Item> queue) implements Buffer {
        @Override
        public void put(Item item) throws InterruptedException {
            queue.put(item);
        }

        @Override
        public Item take() throws InterruptedException {
            Item item = queue.take();
            return item == Item.POISON ? null : item;
        }

        @Override
        public int size() {
            return queue.size();
        }

        @Override
        public void finish(int pills) throws InterruptedException {
            for (int i = 0; i < pills; i++) {
                queue.put(Item.POISON);
            }
        }

        @Override
        public String shutdownBy(int pills) {
            return pills == 1 ? "1 poison pill" : "a poison pill per consumer";
        }
    }

    /** A {@link BoundedChannel} ended by {@code close()}. */
    private record ChannelBuffer(BoundedChannel<Item> channel) implements Buffer {
        @Override
        public void put(Item item) throws InterruptedException {
            channel.send(item);
        }

        @Override
        public Item take() throws InterruptedException {
            return channel.receive().orElse(null);
        }

        @Override
        public int size() {
            return channel.size();
        }

        @Override
        public void finish(int pills) {
            channel.close();
        }

        @Override
        public String shutdownBy(int pills) {
            return "close()";
        }
    }

    // ---- results ------------------------------------------------------------------------------------------------

    private record Shape(int items, int capacity, int producers, int consumers, long consumeNanos) {
    }

    private record Variant(String name, java.util.function.Supplier<Buffer> buffer) {
    }

    private record Outcome(String stoppedBy, int peak, int backlog, double producersDoneMs, double consumersDoneMs,
                           int items, int[] takenCounts, int stopped, int leftBlocked) {

        long missing() {
            return java.util.Arrays.stream(takenCounts).filter(n -> n == 0).count();
        }

        long duplicated() {
            return java.util.Arrays.stream(takenCounts).filter(n -> n > 1).count();
        }

        boolean exactlyOnce() {
            return missing() == 0 && duplicated() == 0;
        }

        String deliveryProblems() {
            return missing() + " never taken, " + duplicated() + " taken twice or more";
        }

        double itemsPerSecond() {
            return items / (consumersDoneMs / 1e3);
        }
    }

    private record Summary(Variant variant, List<Outcome> outcomes) {
        int minPeak() {
            return outcomes.stream().mapToInt(Outcome::peak).min().orElseThrow();
        }

        int maxPeak() {
            return outcomes.stream().mapToInt(Outcome::peak).max().orElseThrow();
        }

        int maxBacklog() {
            return outcomes.stream().mapToInt(Outcome::backlog).max().orElseThrow();
        }

        String peakRange() {
            return minPeak() == maxPeak() ? Integer.toString(maxPeak()) : minPeak() + "–" + maxPeak();
        }

        String backlogRange() {
            int min = outcomes.stream().mapToInt(Outcome::backlog).min().orElseThrow();
            return min == maxBacklog() ? Integer.toString(min) : min + "–" + maxBacklog();
        }

        String range(java.util.function.ToDoubleFunction<Outcome> f) {
            double min = outcomes.stream().mapToDouble(f).min().orElseThrow();
            double max = outcomes.stream().mapToDouble(f).max().orElseThrow();
            return String.format("%.1f–%.1f", min, max);
        }

        double bestThroughput() {
            return outcomes.stream().mapToDouble(Outcome::itemsPerSecond).max().orElseThrow();
        }

        boolean allExactlyOnce() {
            return outcomes.stream().allMatch(Outcome::exactlyOnce);
        }

        String deliveryProblems() {
            return outcomes.stream().filter(o -> !o.exactlyOnce()).map(Outcome::deliveryProblems).findFirst()
                    .orElse("none");
        }

        int minStopped() {
            return outcomes.stream().mapToInt(Outcome::stopped).min().orElseThrow();
        }
    }
}

package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Backpressure: a fast producer, a slow consumer, and the signal that makes the producer wait (or drop) instead of
 * piling work up in memory.
 *
 * <p>JVM, every outcome forced: the consumer is held back until the producer has either finished or is observed
 * parked ({@code Thread.State.WAITING}) with its buffer full, so the slow consumer is as slow as can be on every run.
 * <ol>
 *   <li><b>BASELINE — {@code ArrayBlockingQueue(capacity)}</b> between two virtual threads. {@code put} on a full
 *       queue parks the producer: it is held at {@code capacity} items ahead of the consumer, and its peak size (sampled
 *       by the producer after every {@code put}) is the capacity.</li>
 *   <li><b>Broken — an unbounded {@code LinkedBlockingQueue()}</b>: nothing ever parks the producer; it finishes and
 *       every item waits in the queue (peak = items). Heap is not measured: {@code MemoryMXBean} readings swing with
 *       the collector's timing and would be noise at these sizes; the CPython side measures memory exactly.</li>
 *   <li><b>{@code SubmissionPublisher.submit}</b> (Reactive Streams' {@link Flow} API, Java 9): the subscriber
 *       {@code request(1)}s at a time and its buffer holds a bounded number of items ({@code maxBufferCapacity},
 *       rounded up to a power of two; {@link Flow#defaultBufferSize()} by default). When the buffer is full,
 *       {@code submit} blocks: the producer parks after the buffer plus the item in {@code onNext}, counted by
 *       the experiment itself. The lag {@code submit} returns is shown too, but it is an estimate (it may read the
 *       consumer's position late and overshoot by an item or two under load), so the claim does not rest on it.
 *       While a {@code submit} blocks it holds the publisher's lock, so the experiment reads the lag from
 *       {@code submit}'s return value, not from {@code estimateMaximumLag()} on another thread, which would wait
 *       for it.</li>
 *   <li><b>{@code SubmissionPublisher.offer(item, onDrop)}</b>: never blocks; what does not fit is handed to the drop
 *       handler (which returns {@code false}: no retry). Every item is delivered or dropped, none lost silently.</li>
 * </ol>
 * CPython, in the probe {@code backpressure.py}: an unbounded {@code asyncio.Queue()} (Broken: peak = every item,
 * traced memory with it) vs {@code asyncio.Queue(maxsize=N)} ({@code await put} suspends; peak ≤ N, memory flat,
 * both measured with {@code tracemalloc}); {@code asyncio.Semaphore(k)} capping tasks in flight; and stream
 * backpressure: {@code StreamWriter.write} without {@code await drain()} grows the transport's user-space buffer to
 * nearly every byte written, while with {@code drain()} it stays within the high-water mark (64 KiB by default) plus
 * one write; the peer's {@code StreamReader}, not being read, stops reading its socket ({@code is_reading()} False).
 * These are forced too: the producer awaits nothing that suspends, and the peer does not read until told.
 *
 * <p>Run: {@code ./conclab run backpressure -p items=100000}. Expect peak = capacity for the bounded queues,
 * peak = items for the unbounded ones, a lag of at most buffer + 1 for {@code submit}, items − (buffer + 1) or so
 * dropped by {@code offer}, and a write buffer of megabytes without drain vs about 64 KiB with it.
 */
public final class Backpressure implements Experiment {

    static final ClaimSpec BOUNDED_HOLDS = new ClaimSpec("bounded-holds",
            "A bounded ArrayBlockingQueue never holds more than its capacity: when it is full, put() parks the"
                    + " producer until the slow consumer takes an item.");
    static final ClaimSpec UNBOUNDED_GROWS = new ClaimSpec("unbounded-grows",
            "Broken: an unbounded LinkedBlockingQueue never holds the producer back: with a slow consumer it grows to"
                    + " at least half of all items.");
    static final ClaimSpec SUBMIT_BLOCKS = new ClaimSpec("submit-blocks",
            "SubmissionPublisher.submit blocks when the subscriber's buffer is full: the producer parks after at"
                    + " most the buffer capacity plus the one item in onNext.");
    static final ClaimSpec OFFER_DROPS = new ClaimSpec("offer-drops",
            "SubmissionPublisher.offer with a drop handler never blocks: what does not fit in the full buffer is"
                    + " dropped, and every item is either delivered or dropped.");
    static final ClaimSpec DEFAULT_BUFFER = new ClaimSpec("default-buffer",
            "Flow.defaultBufferSize() is 256, and a SubmissionPublisher rounds a requested buffer capacity up to a"
                    + " power of two.");
    static final ClaimSpec PY_UNBOUNDED = new ClaimSpec("py-unbounded-grows",
            "Broken: with an unbounded asyncio.Queue() the producer never suspends; the queue grows to at least half"
                    + " of all items and the traced memory grows with it.");
    static final ClaimSpec PY_BOUNDED = new ClaimSpec("py-bounded-holds",
            "asyncio.Queue(maxsize=N) never holds more than N items, because await put() suspends the producer;"
                    + " its peak traced memory is under a tenth of the unbounded queue's.");
    static final ClaimSpec PY_SEMAPHORE = new ClaimSpec("py-semaphore-caps",
            "asyncio.Semaphore(k) caps the tasks in flight at k; without it every item is in flight at once.");
    static final ClaimSpec PY_DRAIN = new ClaimSpec("py-drain",
            "Without await writer.drain(), the transport's write buffer grows to at least half of the bytes written;"
                    + " with drain() it never exceeds the high-water mark plus one write.");
    static final ClaimSpec PY_PAUSE_READING = new ClaimSpec("py-pause-reading",
            "A StreamReader that nobody reads stops reading its socket (transport.is_reading() is False), which is"
                    + " what fills the kernel buffers and stalls the writer.");

    /** How long to wait for a step that should take milliseconds, before calling it stuck. */
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    /**
     * Items per slot of the bound, at least: the bounded runs must fill their bound many times over, or a bounded
     * and an unbounded queue look alike (and tracemalloc's few KiB of fixed overhead would hide the difference).
     */
    static final int ITEMS_PER_SLOT = 20;
    /** Asked of a publisher to show the rounding; not a power of two on purpose. */
    private static final int UNROUNDED_CAPACITY = 100;

    @Override
    public String id() {
        return "backpressure";
    }

    @Override
    public String title() {
        return "Backpressure: bounded vs unbounded queues, SubmissionPublisher, asyncio queues, semaphores and"
                + " StreamWriter.drain";
    }

    @Override
    public String description() {
        return "A fast producer and a slow consumer over a bounded ArrayBlockingQueue, Broken an unbounded"
                + " LinkedBlockingQueue, and a SubmissionPublisher (submit blocks, offer drops); in CPython an"
                + " unbounded vs a bounded asyncio.Queue with tracemalloc, a Semaphore capping tasks in flight, and"
                + " StreamWriter.write with and without drain() against a peer that does not read.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("items", "items the producer makes (at least " + ITEMS_PER_SLOT
                        + "× capacity)", 200, 1_000_000, 20_000, 2_000),
                new Param.IntParam("capacity", "bound of the bounded queues and the publisher's buffer", 1, 50_000,
                        16, 16),
                new Param.IntParam("consume-us", "how long the JVM consumer works on each item, in µs", 0, 10_000,
                        20, 10),
                new Param.IntParam("workers", "the asyncio Semaphore's permits (k)", 1, 10_000, 8, 8),
                new Param.IntParam("stream-kib", "bytes the asyncio writer writes, in KiB", 1_024, 262_144, 16_384,
                        4_096));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(BOUNDED_HOLDS, UNBOUNDED_GROWS, SUBMIT_BLOCKS, OFFER_DROPS, DEFAULT_BUFFER, PY_UNBOUNDED,
                PY_BOUNDED, PY_SEMAPHORE, PY_DRAIN, PY_PAUSE_READING);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(10);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int items = ctx.intParam("items");
        int capacity = ctx.intParam("capacity");
        long consumeNanos = TimeUnit.MICROSECONDS.toNanos(ctx.intParam("consume-us"));
        int half = (items + 1) / 2;
        if ((long) items < (long) ITEMS_PER_SLOT * capacity) {
            throw new IllegalArgumentException("items (" + items + ") must be at least " + ITEMS_PER_SLOT
                    + "× capacity (" + capacity + "), so that the bounded queues fill up many times over");
        }

        ctx.progress(0.02, "JVM: bounded and unbounded queues");
        Table.Builder jvm = Table.builder("JVM: a producer and a slow consumer (" + items + " items, capacity "
                        + capacity + ", " + consumeNanos / 1000 + " µs per item)", "variant", "peak size or lag",
                "producer when the consumer started", "delivered", "dropped");
        QueueRun bounded = queue(ctx, new ArrayBlockingQueue<>(capacity), items, consumeNanos);
        QueueRun unbounded = queue(ctx, new LinkedBlockingQueue<>(), items, consumeNanos);
        jvm.row("BASELINE ArrayBlockingQueue(" + capacity + ")", bounded.peak(), bounded.producerState(),
                        bounded.consumed(), 0)
                .row("Broken: LinkedBlockingQueue()", unbounded.peak(), unbounded.producerState(),
                        unbounded.consumed(), 0);
        boolean heldAtCapacity = bounded.parked() && bounded.produced() == capacity;
        ctx.claim(BOUNDED_HOLDS, Verdict.check(bounded.peak() <= capacity && heldAtCapacity
                && bounded.consumed() == items, String.format(
                "ArrayBlockingQueue(%d): peak size %d (needs ≤ %d); the consumer started when the producer was"
                        + " %s (needs parked in put after exactly %d items); %d of %d consumed",
                capacity, bounded.peak(), capacity, bounded.producerState(), capacity, bounded.consumed(), items)));
        ctx.claim(UNBOUNDED_GROWS, Verdict.check(unbounded.peak() >= half && unbounded.consumed() == items,
                String.format("LinkedBlockingQueue(): peak size %d of %d items (needs ≥ %d); the producer was %s"
                                + " when the consumer started", unbounded.peak(), items, half,
                        unbounded.producerState())));

        ctx.progress(0.15, "JVM: SubmissionPublisher.submit and offer");
        int defaultBuffer = Flow.defaultBufferSize();
        int rounded;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
             SubmissionPublisher<Integer> publisher = new SubmissionPublisher<>(executor, UNROUNDED_CAPACITY)) {
            rounded = publisher.getMaxBufferCapacity();
        }
        ctx.claim(DEFAULT_BUFFER, Verdict.check(defaultBuffer == 256 && Integer.bitCount(rounded) == 1
                && rounded >= UNROUNDED_CAPACITY, String.format(
                "Flow.defaultBufferSize() = %d (needs 256); new SubmissionPublisher<>(executor, %d)"
                        + ".getMaxBufferCapacity() = %d (needs a power of two ≥ %d)",
                defaultBuffer, UNROUNDED_CAPACITY, rounded, UNROUNDED_CAPACITY)));

        PublisherRun submit = publish(ctx, items, capacity, consumeNanos, false);
        PublisherRun offer = publish(ctx, items, capacity, consumeNanos, true);
        jvm.row("SubmissionPublisher(" + submit.buffer() + ").submit", submit.maxLag(), submit.producerState(),
                        submit.delivered(), submit.dropped())
                .row("SubmissionPublisher(" + offer.buffer() + ").offer(item, drop)", offer.maxLag(),
                        offer.producerState(), offer.delivered(), offer.dropped());
        ctx.claim(SUBMIT_BLOCKS, Verdict.check(submit.parked() && submit.producedThen() <= submit.buffer() + 1
                && submit.delivered() == items && submit.dropped() == 0, String.format(
                "submit into a buffer of %d: the producer was %s (needs parked in submit after ≤ %d = buffer + 1);"
                        + " %d of %d delivered; largest lag submit returned %d (an estimate: it may read the"
                        + " consumer's position late)", submit.buffer(), submit.producerState(), submit.buffer() + 1,
                submit.delivered(), items, submit.maxLag())));
        ctx.claim(OFFER_DROPS, Verdict.check(offer.dropped() > 0 && offer.delivered() + offer.dropped() == items
                && offer.delivered() <= offer.buffer() + 1 && !offer.parked(), String.format(
                "offer into a buffer of %d with a stalled subscriber: the producer %s; %d delivered (needs ≤ %d ="
                        + " buffer + 1), %d dropped (needs > 0), %d + %d of %d items (needs all)",
                offer.buffer(), offer.producerState(), offer.delivered(), offer.buffer() + 1, offer.dropped(),
                offer.delivered(), offer.dropped(), items)));
        ctx.table(jvm.build());

        ctx.progress(0.4, "CPython: backpressure.py");
        python(ctx, items, capacity, ctx.intParam("workers"), ctx.intParam("stream-kib"));
        ctx.progress(1, "done");
    }

    // ---- JVM: queues ------------------------------------------------------------------------------------------

    /** What one queue run saw. {@code parked}: the producer was parked in put when the consumer was let go. */
    private record QueueRun(int peak, int produced, boolean parked, String producerState, int consumed) {
    }

    private static QueueRun queue(RunContext ctx, BlockingQueue<Integer> queue, int items, long consumeNanos)
            throws Exception {
        AtomicInteger produced = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        Thread producer = Thread.ofVirtual().name("producer").start(() -> {
            try {
                for (int i = 0; i < items; i++) {
                    queue.put(i);
                    peak.accumulateAndGet(queue.size(), Math::max);
                    produced.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // stopped by a failed run
            }
        });
        try {
            Gate gate = awaitDoneOrParked(ctx, producer, produced, items);
            // The consumer starts only now: as slow as a consumer can be, on every run.
            int consumed = 0;
            while (consumed < items) {
                Integer item = queue.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                if (item == null) {
                    throw new TimeoutException("the queue stayed empty for " + PATIENCE.toSeconds() + " s after "
                            + consumed + " items");
                }
                consumed++;
                work(consumeNanos);
            }
            producer.join(PATIENCE.toMillis());
            return new QueueRun(peak.get(), gate.producedThen(), gate.parked(), gate.describe(items), consumed);
        } finally {
            producer.interrupt();
            producer.join(PATIENCE.toMillis());
        }
    }

    /** Where the producer was when the consumer was let go: parked, or done; and how many items it had made. */
    private record Gate(boolean parked, int producedThen) {
        String describe(int items) {
            return parked ? "parked after " + producedThen + " of " + items + " items" : "done with all " + items;
        }
    }

    /**
     * Waits until the producer has made every item, or is parked ({@code WAITING}) before that. Polling every
     * 100 µs only decides when to look; the state it waits for is final until the consumer moves.
     */
    private static Gate awaitDoneOrParked(RunContext ctx, Thread producer, AtomicInteger produced, int items)
            throws TimeoutException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            ctx.checkCancelled();
            int made = produced.get();
            if (made == items || !producer.isAlive()) {
                return new Gate(false, made);
            }
            if (producer.getState() == Thread.State.WAITING && produced.get() == made) {
                return new Gate(true, made);
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the producer neither finished nor parked within " + PATIENCE.toSeconds()
                        + " s");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private static void work(long nanos) {
        if (nanos > 0) {
            LockSupport.parkNanos(nanos);
        }
    }

    // ---- JVM: SubmissionPublisher ---------------------------------------------------------------------------

    /** What one publisher run saw. */
    private record PublisherRun(int buffer, int maxLag, boolean parked, int producedThen, String producerState,
                                int delivered, int dropped) {
    }

    /** A subscriber that takes one item at a time and does not take the first until {@code go} opens. */
    private static final class SlowSubscriber implements Flow.Subscriber<Integer> {
        private final CountDownLatch go;
        private final long consumeNanos;
        private final AtomicInteger delivered = new AtomicInteger();
        private final CountDownLatch completed = new CountDownLatch(1);
        private Flow.Subscription subscription; // set in onSubscribe, used by onNext: one signal at a time

        SlowSubscriber(CountDownLatch go, long consumeNanos) {
            this.go = go;
            this.consumeNanos = consumeNanos;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1); // demand: one item, and one more after each
        }

        @Override
        public void onNext(Integer item) {
            try {
                go.await();
            } catch (InterruptedException e) {
                subscription.cancel();
                Thread.currentThread().interrupt();
                return;
            }
            delivered.incrementAndGet();
            work(consumeNanos);
            subscription.request(1);
        }

        @Override
        public void onError(Throwable failure) {
            completed.countDown();
        }

        @Override
        public void onComplete() {
            completed.countDown();
        }
    }

    private static PublisherRun publish(RunContext ctx, int items, int capacity, long consumeNanos, boolean offer)
            throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        SlowSubscriber subscriber = new SlowSubscriber(go, consumeNanos);
        AtomicInteger produced = new AtomicInteger();
        AtomicInteger maxLag = new AtomicInteger();
        AtomicInteger dropped = new AtomicInteger();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
             SubmissionPublisher<Integer> publisher = new SubmissionPublisher<>(executor, capacity)) {
            publisher.subscribe(subscriber);
            Thread producer = Thread.ofVirtual().name("publisher").start(() -> {
                for (int i = 0; i < items; i++) {
                    int lag = offer
                            ? publisher.offer(i, (s, item) -> {
                                dropped.incrementAndGet();
                                return false; // drop, do not retry
                            })
                            : publisher.submit(i);
                    // submit returns the lag; offer returns it too, or minus the drops
                    maxLag.accumulateAndGet(Math.max(lag, 0), Math::max);
                    produced.incrementAndGet();
                }
            });
            Gate gate;
            try {
                gate = awaitDoneOrParked(ctx, producer, produced, items);
            } finally {
                go.countDown(); // let the subscriber run, whatever happened
            }
            producer.join(PATIENCE.toMillis());
            if (producer.isAlive()) {
                throw new TimeoutException("the publisher was still submitting after " + PATIENCE.toSeconds() + " s");
            }
            publisher.close(); // onComplete after the buffered items
            if (!subscriber.completed.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TimeoutException("the subscriber did not complete within " + PATIENCE.toSeconds() + " s");
            }
            String state = gate.parked() ? "parked in submit after " + gate.producedThen() + " of " + items + " items"
                    : "never blocked: " + (offer ? "offered" : "submitted") + " all " + items;
            return new PublisherRun(publisher.getMaxBufferCapacity(), maxLag.get(), gate.parked(),
                    gate.producedThen(), state, subscriber.delivered.get(), dropped.get());
        }
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int items, int capacity, int workers, int streamKib)
            throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("backpressure.py", List.of(), Duration.ofSeconds(120),
                "--items", Integer.toString(items),
                "--maxsize", Integer.toString(capacity),
                "--workers", Integer.toString(workers),
                "--stream-bytes", Long.toString(streamKib * 1024L));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_UNBOUNDED, PY_BOUNDED, PY_SEMAPHORE, PY_DRAIN, PY_PAUSE_READING);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                int itemBytes = json.path("item_bytes").asInt();
                JsonNode unbounded = json.path("unbounded");
                JsonNode bounded = json.path("bounded");
                JsonNode sem = json.path("semaphore");
                JsonNode noDrain = json.path("stream").path("no_drain");
                JsonNode drain = json.path("stream").path("drain");
                int half = (items + 1) / 2;

                ctx.table(Table.builder(py + ": asyncio queues (" + items + " items of " + itemBytes + " bytes)"
                                        + " and a Semaphore(" + workers + ")", "variant", "peak size / in flight",
                                "puts that suspended", "consumed", "peak traced memory, KiB")
                        .row("Broken: asyncio.Queue()", unbounded.path("peak_qsize").asInt(),
                                unbounded.path("puts_suspended").asInt(), unbounded.path("consumed").asInt(),
                                unbounded.path("peak_traced_bytes").asLong() / 1024.0)
                        .row("asyncio.Queue(maxsize=" + capacity + ")", bounded.path("peak_qsize").asInt(),
                                bounded.path("puts_suspended").asInt(), bounded.path("consumed").asInt(),
                                bounded.path("peak_traced_bytes").asLong() / 1024.0)
                        .row("a task per item, no cap", sem.path("peak_in_flight_uncapped").asInt(), "—", "—", "—")
                        .row("a task per item, Semaphore(" + workers + ")", sem.path("peak_in_flight_capped").asInt(),
                                "—", "—", "—")
                        .build());
                long high = drain.path("high_water").asLong();
                long chunk = drain.path("chunk").asLong();
                ctx.table(Table.builder(py + ": StreamWriter.write to a loopback peer (" + streamKib + " KiB in "
                                        + chunk / 1024 + " KiB writes; limits low " + drain.path("low_water").asLong()
                                        / 1024 + " KiB, high " + high / 1024 + " KiB)", "variant",
                                "peak write buffer, KiB", "write buffer after the loop, KiB",
                                "peer's reader paused its socket", "peer received, KiB")
                        .row("Broken: write() in a loop, no drain()", noDrain.path("peak_write_buffer").asLong()
                                        / 1024.0, noDrain.path("write_buffer_after_loop").asLong() / 1024.0,
                                noDrain.path("peer_paused_reading").asBoolean() ? "yes" : "no",
                                noDrain.path("peer_resumed_and_received").asLong() / 1024)
                        .row("write() + await drain(), slow reader", drain.path("peak_write_buffer").asLong() / 1024.0,
                                drain.path("write_buffer_after_loop").asLong() / 1024.0, "— (it reads)",
                                drain.path("peer_resumed_and_received").asLong() / 1024)
                        .build());

                long unboundedBytes = unbounded.path("peak_traced_bytes").asLong();
                long boundedBytes = bounded.path("peak_traced_bytes").asLong();
                int unboundedPeak = unbounded.path("peak_qsize").asInt();
                ctx.claim(PY_UNBOUNDED, Verdict.check(unboundedPeak >= half
                        && unboundedBytes >= (long) half * itemBytes, String.format(
                        "asyncio.Queue(): peak qsize %d of %d items (needs ≥ %d), %d puts suspended; peak traced"
                                + " memory %.0f KiB (needs ≥ %.0f KiB = half the items × %d bytes); %s",
                        unboundedPeak, items, half, unbounded.path("puts_suspended").asInt(), unboundedBytes / 1024.0,
                        (double) half * itemBytes / 1024, itemBytes, py)));
                int boundedPeak = bounded.path("peak_qsize").asInt();
                ctx.claim(PY_BOUNDED, Verdict.check(boundedPeak <= capacity && boundedBytes * 10 < unboundedBytes
                        && bounded.path("consumed").asInt() == items, String.format(
                        "asyncio.Queue(maxsize=%d): peak qsize %d (needs ≤ %d), %d puts found it full and"
                                + " suspended, %d of %d consumed; peak traced memory %.1f KiB vs %.0f KiB unbounded"
                                + " (needs under a tenth)", capacity, boundedPeak, capacity,
                        bounded.path("puts_suspended").asInt(), bounded.path("consumed").asInt(), items,
                        boundedBytes / 1024.0, unboundedBytes / 1024.0)));
                int capped = sem.path("peak_in_flight_capped").asInt();
                int uncapped = sem.path("peak_in_flight_uncapped").asInt();
                ctx.claim(PY_SEMAPHORE, Verdict.check(capped <= workers && capped >= 1 && uncapped == items,
                        String.format("Semaphore(%d): peak %d tasks in flight (needs 1..%d); without it: %d (needs"
                                + " all %d)", workers, capped, workers, uncapped, items)));
                long total = noDrain.path("bytes").asLong();
                long grown = noDrain.path("peak_write_buffer").asLong();
                long held = drain.path("peak_write_buffer").asLong();
                ctx.claim(PY_DRAIN, Verdict.check(grown >= total / 2 && held <= high + chunk
                        && drain.path("peer_resumed_and_received").asLong() == total
                        && noDrain.path("peer_resumed_and_received").asLong() == total, String.format(
                        "%d KiB written in %d KiB writes: without drain() the write buffer peaked at %.0f KiB (needs ≥"
                                + " %d KiB = half); with drain() at %.0f KiB (needs ≤ %d KiB = high-water %d KiB +"
                                + " one write); the peer got every byte both times",
                        total / 1024, chunk / 1024, grown / 1024.0, total / 2048, held / 1024.0, (high + chunk) / 1024,
                        high / 1024)));
                boolean paused = noDrain.path("peer_paused_reading").asBoolean();
                ctx.claim(PY_PAUSE_READING, Verdict.check(paused, String.format(
                        "with %d KiB sent and nobody reading, the peer's transport.is_reading() turned %s (needs"
                                + " False); once the peer read, it received all %d KiB", total / 1024,
                        paused ? "False" : "never False", noDrain.path("peer_resumed_and_received").asLong() / 1024)));
            }
        }
    }
}

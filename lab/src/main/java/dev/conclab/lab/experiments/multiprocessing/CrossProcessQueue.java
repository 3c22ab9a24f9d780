package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Producer–consumer across processes: a producer JVM and consumer JVMs joined by a small broker in the lab process,
 * with a bound on the items in flight, poison-pill shutdown, and every item delivered exactly once.
 *
 * <p>The JVM has no {@code multiprocessing.Queue}; a cross-process queue is bytes over a socket and a protocol. Here
 * the broker listens on a Unix-domain socket; the children ({@link QueueChild}, started through
 * {@code ctx.children()}) speak one text line per message:
 * <pre>
 *   producer  → broker   ITEM id … DONE waitedNanos runNanos    broker → producer  CREDIT n … BYE
 *   broker → consumer   ITEM id … POISON                       consumer → broker  ACK id … BYE count
 * </pre>
 * <ol>
 *   <li><b>BASELINE — credit-based flow control.</b> The broker grants the producer {@code capacity} credits at the
 *       start and one more for every item a consumer acknowledges. The producer sends an item only with a credit in
 *       hand, and otherwise blocks reading the next {@code CREDIT} line; so the items in flight (received by the
 *       broker, not yet acknowledged) never exceed the capacity, whatever the consumers' pace. Consumers work
 *       {@code consume-us} per item (the slow side). When the producer says {@code DONE}, the broker queues one
 *       {@code POISON} per consumer behind the last item; each consumer exits at its pill.</li>
 *   <li><b>Broken — no credits.</b> The producer sends as fast as it can. To make the outcome certain, the broker
 *       hands nothing to the consumers until the producer is done (the slowest consumers possible): every item piles
 *       up in the broker, which is what an unbounded queue between processes does with slow consumers.</li>
 * </ol>
 * Each id must be acknowledged exactly once; the consumers' counts must add up to the items.
 *
 * <p>The CPython probe {@code mp_queue.py} does it with {@code multiprocessing.Queue(maxsize=N)} (the producer
 * process samples {@code qsize()}, which works on Linux), one {@code None} pill per consumer, a
 * {@code JoinableQueue} with {@code task_done()}/{@code join()}, and the classic pitfall: a child that still has an
 * item in its queue's feeder buffer cannot exit, so joining it before draining the queue hangs (shown with a
 * timeout), while draining first, or {@code cancel_join_thread()} (which may lose the item), lets it exit.
 *
 * <p>Run: {@code ./conclab run cross-process-queue}. Expect a peak in flight equal to the capacity with credits and
 * equal to every item without, a producer that spends most of its time waiting for credit, each item once, and
 * every child exiting with status 0.
 */
public final class CrossProcessQueue implements Experiment {

    static final ClaimSpec BOUNDED = new ClaimSpec("bounded-in-flight",
            "With credit-based flow control between a producer JVM and consumer JVMs, at most capacity items are in"
                    + " flight at any time, and with a slow consumer the bound is reached.");
    static final ClaimSpec PRODUCER_HELD = new ClaimSpec("producer-held",
            "The slow consumers hold the producer back: it spends at least half of its run blocked waiting for"
                    + " credit.");
    static final ClaimSpec UNBOUNDED = new ClaimSpec("no-credit-piles-up",
            "Broken: without credits the producer never waits, and with consumers slower than it every item piles up"
                    + " in the broker.");
    static final ClaimSpec EXACTLY_ONCE = new ClaimSpec("exactly-once",
            "Every item is delivered to exactly one consumer process and acknowledged exactly once.");
    static final ClaimSpec POISON = new ClaimSpec("poison-pill-shutdown",
            "One poison pill per consumer, queued behind the last item, stops every consumer process after the last"
                    + " item: all children exit with status 0.");
    static final ClaimSpec PY_BOUNDED = new ClaimSpec("py-bounded-queue",
            "multiprocessing.Queue(maxsize=N) between processes never holds more than N items (qsize() peaks at N"
                    + " with a slow consumer), every item is consumed exactly once, and one None pill per consumer"
                    + " stops every consumer process.");
    static final ClaimSpec PY_JOINABLE = new ClaimSpec("py-joinable-queue",
            "JoinableQueue.join() returns only after task_done() has been called for every item put.");
    static final ClaimSpec PY_JOIN_PITFALL = new ClaimSpec("py-join-pitfall",
            "A process that has put a large item on a queue nobody reads cannot exit: join() times out with it"
                    + " alive; draining the queue first lets it exit, and cancel_join_thread() lets it exit at once.");

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    static final String PRODUCER = "producer";
    static final String CONSUMER = "consumer";

    @Override
    public String id() {
        return "cross-process-queue";
    }

    @Override
    public String title() {
        return "A bounded producer–consumer queue between processes: a JVM broker with credits, and"
                + " multiprocessing.Queue";
    }

    @Override
    public String description() {
        return "A producer JVM and consumer JVMs over a broker on a Unix-domain socket, with credit-based flow"
                + " control (at most capacity items in flight), poison pills and exactly-once checks, beside a Broken"
                + " version without credits; in CPython multiprocessing.Queue(maxsize), JoinableQueue and the"
                + " join-before-drain deadlock.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("items", "items produced", 10, 1_000_000, 2_000, 200),
                new Param.IntParam("capacity", "items allowed in flight (credits)", 1, 100_000, 16, 8),
                new Param.IntParam("consumers", "consumer processes", 1, 16, 2, 2),
                // 2 ms a item in quick mode: the consumers' wait then outweighs a cold producer on a loaded machine
                new Param.IntParam("consume-us", "how long a consumer works on each item, in µs", 1, 100_000, 500,
                        2_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(BOUNDED, PRODUCER_HELD, UNBOUNDED, EXACTLY_ONCE, POISON, PY_BOUNDED, PY_JOINABLE,
                PY_JOIN_PITFALL);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int items = ctx.intParam("items");
        int capacity = ctx.intParam("capacity");
        int consumers = ctx.intParam("consumers");
        int consumeUs = ctx.intParam("consume-us");
        if (items <= capacity) {
            throw new IllegalArgumentException("items (" + items + ") must exceed capacity (" + capacity
                    + "), or the bound is never tested");
        }
        ctx.progress(0.05, "JVMs: credit-based flow control");
        Outcome credit = Broker.run(ctx, items, capacity, consumers, consumeUs, true);
        ctx.progress(0.35, "JVMs, Broken: no credits");
        Outcome free = Broker.run(ctx, items, capacity, consumers, consumeUs, false);

        Table.Builder table = Table.builder("Producer–consumer between processes: " + items + " items, " + consumers
                        + " consumers working " + consumeUs + " µs each", "runtime", "queue", "peak in flight",
                "producer waited", "each item once", "consumers stopped", "exit codes", "ms");
        for (Outcome o : List.of(credit, free)) {
            table.row("JVMs (Unix socket)", o.credit ? "broker, " + capacity + " credits" : "Broken: broker, no credits",
                    o.peakInFlight, String.format("%.0f%% of %.0f ms", 100 * o.waitedShare(), o.producerRunNanos / 1e6),
                    o.exactlyOnce() ? "yes" : "NO: " + o.deliveryProblems(), o.pillsStopped + " of " + consumers,
                    o.exitCodes.toString(), o.wallNanos / 1e6);
        }

        ctx.claim(BOUNDED, Verdict.check(credit.peakInFlight == capacity, String.format(
                "peak items in flight with %d credits: %d (needs ≤ %d and the bound reached)", capacity,
                credit.peakInFlight, capacity)));
        ctx.claim(PRODUCER_HELD, Verdict.check(credit.waitedShare() >= 0.5, String.format(
                "the producer waited for credit %.0f ms of its %.0f ms run: %.0f%% (needs ≥ 50%%); without credits"
                        + " it waited %.0f ms", credit.producerWaitedNanos / 1e6, credit.producerRunNanos / 1e6,
                100 * credit.waitedShare(), free.producerWaitedNanos / 1e6)));
        ctx.claim(UNBOUNDED, Verdict.check(free.peakInFlight == items && free.producerWaitedNanos == 0,
                String.format("without credits: peak in flight %d of %d items (needs all), producer waited %d ns"
                        + " (needs 0)", free.peakInFlight, items, free.producerWaitedNanos)));
        ctx.claim(EXACTLY_ONCE, Verdict.check(credit.exactlyOnce() && free.exactlyOnce(), String.format(
                "with credits: %s; without: %s", credit.deliverySummary(), free.deliverySummary())));
        boolean allStopped = credit.cleanExit(consumers) && free.cleanExit(consumers);
        ctx.claim(POISON, Verdict.check(allStopped, String.format(
                "with credits: %d of %d consumers stopped at their pill, exit codes %s; without: %d of %d, %s",
                credit.pillsStopped, consumers, credit.exitCodes, free.pillsStopped, consumers, free.exitCodes)));

        ctx.progress(0.7, "CPython: multiprocessing.Queue, JoinableQueue, the join pitfall");
        runProbe(ctx, items, capacity, consumers, consumeUs, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void runProbe(RunContext ctx, int items, int capacity, int consumers, int consumeUs,
                                 Table.Builder table) throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("mp_queue.py", List.of(), Duration.ofSeconds(120),
                "--items", Integer.toString(items), "--maxsize", Integer.toString(capacity),
                "--consumers", Integer.toString(consumers), "--consume-us", Integer.toString(consumeUs),
                "--pitfall-kib", "1024", "--join-timeout-ms", "300");
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_BOUNDED, PY_JOINABLE, PY_JOIN_PITFALL);
            case ProbeOutcome.Ran ran -> {
                JsonNode b = ran.json().path("bounded");
                JsonNode j = ran.json().path("joinable");
                JsonNode p = ran.json().path("pitfall");
                String method = ran.json().path("start_method").asText();
                List<Integer> codes = new ArrayList<>();
                b.path("consumers_exitcodes").forEach(c -> codes.add(c.isNull() ? null : c.asInt()));
                boolean codesZero = codes.size() == consumers && codes.stream().allMatch(c -> c != null && c == 0);
                table.row("CPython (" + method + ")", "multiprocessing.Queue(maxsize=" + capacity + ")",
                        b.path("peak_qsize").asInt() + " (qsize)", "", b.path("exactly_once").asBoolean() ? "yes"
                                : "NO", codes.size() + " of " + consumers, codes.toString(),
                        b.path("seconds").asDouble() * 1e3);
                int peak = b.path("peak_qsize").asInt();
                ctx.claim(PY_BOUNDED, Verdict.check(peak == capacity && b.path("exactly_once").asBoolean() && codesZero
                        && b.path("producer_exitcode").asInt(-1) == 0, String.format(
                        "peak qsize() %d (needs = maxsize %d); each item once: %s; consumer exit codes %s; producer"
                                + " exit code %s", peak, capacity, b.path("exactly_once").asBoolean(), codes,
                        b.path("producer_exitcode"))));
                int atJoin = j.path("processed_at_join").asInt();
                table.row("CPython (" + method + ")", "JoinableQueue()", "", "", j.path("exactly_once").asBoolean()
                        ? "yes" : "NO", "processed at join(): " + atJoin + " of " + items, "", "");
                ctx.claim(PY_JOINABLE, Verdict.check(atJoin == items && j.path("exactly_once").asBoolean(),
                        String.format("task_done() calls counted when join() returned: %d of %d; each item once: %s",
                                atJoin, items, j.path("exactly_once").asBoolean())));
                boolean alive = p.path("alive_after_join_timeout").asBoolean();
                int drainedExit = p.path("exitcode_after_drain").asInt(-1);
                double cancelExit = p.path("cancel_join_thread_exit_s").asDouble();
                int cancelCode = p.path("cancel_join_thread_exitcode").asInt(-1);
                table.row("CPython (" + method + ")", "pitfall: join() before draining a 1 MiB item", "", "",
                        "", alive ? "alive after join(" + p.path("join_timeout_s").asDouble() + " s)" : "exited?!",
                        "after drain: " + drainedExit + "; cancel_join_thread: " + cancelCode,
                        cancelExit * 1e3);
                ctx.claim(PY_JOIN_PITFALL, Verdict.check(alive && drainedExit == 0 && cancelCode == 0
                        && cancelExit < 1.0, String.format(
                        "alive after join(timeout=%.1f s): %s (needs true); exit code after draining %d bytes: %d;"
                                + " with cancel_join_thread(): exited in %.0f ms with code %d (needs < 1000 ms)",
                        p.path("join_timeout_s").asDouble(), alive, p.path("drained_bytes").asInt(), drainedExit,
                        cancelExit * 1e3, cancelCode)));
            }
        }
    }

    /** What one broker run saw. */
    private record Outcome(boolean credit, int items, int peakInFlight, long producerWaitedNanos,
                           long producerRunNanos, int[] acks, int reportedByConsumers, int pillsStopped,
                           List<Integer> exitCodes, long wallNanos) {

        double waitedShare() {
            return producerRunNanos == 0 ? 0 : producerWaitedNanos / (double) producerRunNanos;
        }

        long missing() {
            return java.util.Arrays.stream(acks).filter(n -> n == 0).count();
        }

        long duplicated() {
            return java.util.Arrays.stream(acks).filter(n -> n > 1).count();
        }

        boolean exactlyOnce() {
            return missing() == 0 && duplicated() == 0 && reportedByConsumers == items;
        }

        String deliveryProblems() {
            return missing() + " never acknowledged, " + duplicated() + " twice or more, consumers counted "
                    + reportedByConsumers;
        }

        String deliverySummary() {
            return exactlyOnce() ? "all " + items + " acknowledged once, consumers counted " + reportedByConsumers
                    : deliveryProblems();
        }

        boolean cleanExit(int consumers) {
            return pillsStopped == consumers && exitCodes.size() == consumers + 1
                    && exitCodes.stream().allMatch(c -> c == 0);
        }
    }

    /**
     * The broker: one thread reads the producer, one thread per consumer hands it items from an in-memory queue and
     * reads its acknowledgements. Credits go to the producer on the consumer threads, one per acknowledgement,
     * under the producer writer's lock. Every thread it starts is joined before {@link #run} returns.
     */
    private static final class Broker {
        private static final int POISON_ID = -1;

        private final int items;
        private final int consumers;
        private final boolean credit;
        private final BlockingQueue<Integer> queue = new LinkedBlockingQueue<>();
        private final AtomicIntegerArray acks;
        private final CountDownLatch producerDone = new CountDownLatch(1);
        private final Object inFlightLock = new Object();
        private int inFlight;
        private int peakInFlight;
        private volatile long waitedNanos;
        private volatile long runNanos;
        private int reported;
        private int pillsStopped;
        private OutputStream producerOut;

        private Broker(int items, int consumers, boolean credit) {
            this.items = items;
            this.consumers = consumers;
            this.credit = credit;
            this.acks = new AtomicIntegerArray(items);
        }

        static Outcome run(RunContext ctx, int items, int capacity, int consumers, int consumeUs, boolean credit)
                throws Exception {
            Broker broker = new Broker(items, consumers, credit);
            Path dir = Files.createTempDirectory("conclab-xpq-");
            Path socket = dir.resolve("broker.sock");
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            List<Process> children = new ArrayList<>();
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(socket));
                JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx32m",
                        "-XX:TieredStopAtLevel=1");
                children.add(ctx.children().track(launcher.start(QueueChild.class, PRODUCER, socket.toString(),
                        Integer.toString(items), Boolean.toString(credit))));
                for (int c = 0; c < consumers; c++) {
                    children.add(ctx.children().track(launcher.start(QueueChild.class, CONSUMER, socket.toString(),
                            Integer.toString(consumeUs))));
                }
                List<SocketChannel> consumerChannels = new ArrayList<>();
                SocketChannel producer = null;
                for (int i = 0; i < consumers + 1; i++) {
                    SocketChannel ch = server.accept();
                    BufferedReader in = reader(ch);
                    String role = in.readLine();
                    if (PRODUCER.equals(role)) {
                        producer = ch;
                        SocketChannel p = ch;
                        threads.add(Thread.ofPlatform().name("broker-producer").start(() ->
                                broker.serveProducer(p, in, capacity)));
                    } else if (CONSUMER.equals(role)) {
                        consumerChannels.add(ch);
                        threads.add(Thread.ofPlatform().name("broker-consumer-" + i).start(() ->
                                broker.serveConsumer(ch, in)));
                    } else {
                        throw new IOException("a child introduced itself as '" + role + "'");
                    }
                }
                for (Thread t : threads) {
                    if (!t.join(PATIENCE)) {
                        throw new IllegalStateException(t.getName() + " did not finish within "
                                + PATIENCE.toSeconds() + " s");
                    }
                }
                broker.sendToProducer("BYE");
                List<Integer> codes = new ArrayList<>();
                for (Process p : children) {
                    if (!p.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException("child JVM " + p.pid() + " did not exit");
                    }
                    codes.add(p.exitValue());
                }
                for (SocketChannel ch : consumerChannels) {
                    ch.close();
                }
                if (producer != null) {
                    producer.close();
                }
                int[] acks = new int[items];
                for (int i = 0; i < items; i++) {
                    acks[i] = broker.acks.get(i);
                }
                synchronized (broker.inFlightLock) {
                    return new Outcome(credit, items, broker.peakInFlight, broker.waitedNanos, broker.runNanos, acks,
                            broker.reported, broker.pillsStopped, codes, System.nanoTime() - start);
                }
            } finally {
                for (Process p : children) {
                    p.destroyForcibly();
                }
                for (Thread t : threads) {
                    t.interrupt();
                    t.join(PATIENCE);
                }
                Files.deleteIfExists(socket);
                Files.deleteIfExists(dir);
            }
        }

        private void serveProducer(SocketChannel ch, BufferedReader in, int capacity) {
            try {
                synchronized (this) {
                    producerOut = Channels.newOutputStream(ch);
                }
                if (credit) {
                    sendToProducer("CREDIT " + capacity);
                }
                for (String line; (line = in.readLine()) != null; ) {
                    String[] parts = line.split(" ");
                    if (parts[0].equals("ITEM")) {
                        synchronized (inFlightLock) {
                            inFlight++;
                            peakInFlight = Math.max(peakInFlight, inFlight);
                        }
                        queue.add(Integer.parseInt(parts[1]));
                    } else if (parts[0].equals("DONE")) {
                        waitedNanos = Long.parseLong(parts[1]);
                        runNanos = Long.parseLong(parts[2]);
                        for (int c = 0; c < consumers; c++) {
                            queue.add(POISON_ID); // behind the last item: the queue is FIFO
                        }
                        producerDone.countDown();
                        return;
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private void serveConsumer(SocketChannel ch, BufferedReader in) {
            try {
                OutputStream out = Channels.newOutputStream(ch);
                if (!credit) {
                    producerDone.await(); // Broken variant: the consumers start only after the producer is done
                }
                while (true) {
                    int id = queue.take();
                    if (id == POISON_ID) {
                        send(out, "POISON");
                        String[] bye = in.readLine().split(" ");
                        synchronized (inFlightLock) {
                            reported += Integer.parseInt(bye[1]);
                            pillsStopped++;
                        }
                        return;
                    }
                    send(out, "ITEM " + id);
                    String ack = in.readLine();
                    int acked = Integer.parseInt(ack.substring("ACK ".length()));
                    acks.incrementAndGet(acked);
                    synchronized (inFlightLock) {
                        inFlight--;
                    }
                    if (credit) {
                        sendToProducer("CREDIT 1"); // after the decrement: in flight never exceeds the credits
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private synchronized void sendToProducer(String line) throws IOException {
            send(producerOut, line);
        }

        private static void send(OutputStream out, String line) throws IOException {
            out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }

    private static BufferedReader reader(SocketChannel ch) {
        return new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.US_ASCII));
    }

    /**
     * A child JVM of this experiment: {@code producer socket items credit} or {@code consumer socket consumeUs}.
     * Connects to the broker's Unix-domain socket, introduces itself with its role, and speaks the line protocol in
     * the class comment of {@link CrossProcessQueue}. Exits with its parent.
     */
    public static final class QueueChild {
        private QueueChild() {
        }

        public static void main(String[] args) throws Exception {
            ParentWatch.exitWithParent();
            try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(args[1]))) {
                BufferedReader in = reader(ch);
                OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch));
                send(out, args[0]);
                out.flush();
                if (args[0].equals(PRODUCER)) {
                    produce(in, out, Integer.parseInt(args[2]), Boolean.parseBoolean(args[3]));
                } else {
                    consume(in, out, Integer.parseInt(args[2]));
                }
            }
        }

        private static void produce(BufferedReader in, OutputStream out, int items, boolean credit)
                throws IOException {
            long credits = 0;
            long waited = 0;
            long start = System.nanoTime();
            for (int id = 0; id < items; id++) {
                while (credit && credits == 0) {
                    out.flush();
                    long t = System.nanoTime();
                    String line = in.readLine(); // blocks until a consumer has acknowledged an item
                    waited += System.nanoTime() - t;
                    credits += Long.parseLong(line.substring("CREDIT ".length()));
                }
                send(out, "ITEM " + id);
                credits--;
                if (credit) {
                    out.flush();
                }
            }
            send(out, "DONE " + waited + " " + (System.nanoTime() - start));
            out.flush();
            for (String line; (line = in.readLine()) != null && !line.equals("BYE"); ) {
                // late credits: nothing more to send
            }
        }

        private static void consume(BufferedReader in, OutputStream out, int consumeUs) throws IOException {
            int count = 0;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("POISON")) {
                    send(out, "BYE " + count);
                    out.flush();
                    return;
                }
                long until = System.nanoTime() + consumeUs * 1_000L;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait(); // the slow work: µs-precise, where a sleep would round up
                }
                count++;
                send(out, "ACK " + line.substring("ITEM ".length()));
                out.flush();
            }
        }

        private static void send(OutputStream out, String line) throws IOException {
            out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        }
    }
}

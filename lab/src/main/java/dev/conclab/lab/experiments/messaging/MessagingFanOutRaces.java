package dev.conclab.lab.experiments.messaging;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two ways a messaging fan-out goes wrong, each forced with latches or a barrier so the broken version fails on
 * every run and the correct one never does. No network: the lesson is the shape of the code.
 *
 * <ol>
 *   <li><b>Broken: fan-out in the sender's path.</b> A room of four whose fan-out writes to each member in turn on
 *       the sender's thread; the first member's write blocks (on a latch: a client that does not read) for
 *       {@code hold-ms}. The three healthy members receive only after it returns — every one of them pays the
 *       stalled member's delay. <b>Correct, beside it</b> — the design of the chat's models: fan-out only offers
 *       the message to a bounded queue per member, and a writer per member writes at its client's pace. The latch
 *       is opened only after the three healthy members have received, so "they got it while the stalled write was
 *       still blocked" holds by construction; a member whose queue is full is disconnected (the chat closes it
 *       with 1008), never waited for.</li>
 *   <li><b>Broken: per-node ids.</b> Two chat nodes that stamp a room's messages with their own counters and
 *       deliver their own message to local members first, then forward it to the other node. A barrier holds both
 *       forwards until each node has delivered its own: node A's members see A's message first, node B's see B's,
 *       and both carry id 1. The cure (one sequencer for the room, ids taken in Redis) runs for real in
 *       {@code messaging-design}.</li>
 * </ol>
 *
 * <p>Run: {@code ./conclab run fanout-races}. Expect the synchronous fan-out's healthy members to receive about
 * {@code hold-ms} after the send, the queued fan-out's within a fraction of a millisecond, and opposite orders on the
 * two nodes.
 */
public final class MessagingFanOutRaces implements Experiment {

    static final ClaimSpec BROKEN_SYNC_FANOUT = new ClaimSpec("broken-sync-fanout",
            "Broken: a fan-out that writes to each member in the sender's path holds every member behind a stalled"
                    + " one: the healthy members receive the message only after the stalled write returns.");
    static final ClaimSpec QUEUED_FANOUT_ISOLATES = new ClaimSpec("queued-fanout-isolates",
            "With a bounded queue and a writer per member, the healthy members receive the message while the"
                    + " stalled member's write is still blocked.");
    static final ClaimSpec PER_NODE_DISAGREE = new ClaimSpec("per-node-disagree",
            "Broken: with per-node ids and local delivery first, two nodes show the same two concurrent messages in"
                    + " opposite orders.");

    private static final int HEALTHY_MEMBERS = 3;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Override
    public String id() {
        return "fanout-races";
    }

    @Override
    public String title() {
        return "Fan-out gone wrong, forced: a stalled member in a synchronous fan-out, and per-node ids";
    }

    @Override
    public String description() {
        return "Holds one member's write in a fan-out done in the sender's path (everyone waits) and in a fan-out"
                + " with a bounded queue and a writer per member (nobody waits); then two nodes with their own"
                + " ids deliver the same two messages in opposite orders.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("hold-ms", "how long the stalled member's write is held", 10, 5_000, 200,
                50));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(BROKEN_SYNC_FANOUT, QUEUED_FANOUT_ISOLATES, PER_NODE_DISAGREE);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.1, "a stalled member");
        fanOutDemo(ctx, ctx.intParam("hold-ms"));
        ctx.progress(0.6, "per-node ids");
        perNodeIds(ctx);
        ctx.progress(1, "done");
    }

    // ---- 4. fan-out in the sender's path vs a queue per member ----------------------------------------------

    /** What one fan-out variant did: when the stalled write was released and when each healthy member received. */
    private record FanOut(long startNanos, long releaseNanos, long[] receivedNanos) {
        double latestMillis() {
            long latest = 0;
            for (long r : receivedNanos) {
                latest = Math.max(latest, r);
            }
            return (latest - startNanos) / 1e6;
        }

        boolean allAfterRelease() {
            for (long r : receivedNanos) {
                if (r == 0 || r < releaseNanos) {
                    return false;
                }
            }
            return true;
        }

        boolean allBeforeRelease() {
            for (long r : receivedNanos) {
                if (r == 0 || r >= releaseNanos) {
                    return false;
                }
            }
            return true;
        }
    }

    private static void fanOutDemo(RunContext ctx, int holdMillis) throws Exception {
        FanOut sync = synchronousFanOut(holdMillis);
        FanOut queued = queuedFanOut();
        Table.Builder t = Table.builder("One message to a room of " + (HEALTHY_MEMBERS + 1) + " whose first member's"
                        + " write is stalled", "fan-out", "stalled write released after ms",
                "last healthy member received after ms", "healthy members received before the release");
        t.row("Broken: writes in the sender's path", (sync.releaseNanos - sync.startNanos) / 1e6, sync.latestMillis(),
                sync.allBeforeRelease() ? "all" : "none");
        t.row("bounded queue + writer per member", (queued.releaseNanos - queued.startNanos) / 1e6,
                queued.latestMillis(), queued.allBeforeRelease() ? "all" : "not all");
        ctx.table(t.build());
        ctx.claim(BROKEN_SYNC_FANOUT, Verdict.check(sync.allAfterRelease(), String.format("the stalled write was"
                        + " held %.1f ms; the last healthy member received %.1f ms after the send, after the release",
                (sync.releaseNanos - sync.startNanos) / 1e6, sync.latestMillis())));
        ctx.claim(QUEUED_FANOUT_ISOLATES, Verdict.check(queued.allBeforeRelease(), String.format("all %d healthy"
                        + " members received within %.2f ms while the stalled write was blocked (released at %.2f ms,"
                        + " only after they had)", HEALTHY_MEMBERS, queued.latestMillis(),
                (queued.releaseNanos - queued.startNanos) / 1e6)));
    }

    /** Broken: the sender's thread writes to every member in turn; the stalled member is first in join order. */
    private static FanOut synchronousFanOut(int holdMillis) throws Exception {
        CountDownLatch stalledEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        long[] received = new long[HEALTHY_MEMBERS];
        AtomicLong start = new AtomicLong();
        Thread sender = Thread.ofVirtual().name("sync-fanout-sender").start(() -> {
            start.set(System.nanoTime());
            // member 0: a write that does not return until the client reads (here: until released)
            stalledEntered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                return;
            }
            for (int m = 0; m < HEALTHY_MEMBERS; m++) {
                received[m] = System.nanoTime();      // a healthy member's write completes at once
            }
        });
        try {
            if (!stalledEntered.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the sender never reached the stalled write");
            }
            Thread.sleep(holdMillis);                 // how long the stalled client does not read
            long releaseAt = System.nanoTime();
            release.countDown();
            sender.join(Duration.ofSeconds(10));
            return new FanOut(start.get(), releaseAt, received);
        } finally {
            sender.interrupt();
            sender.join(Duration.ofSeconds(10));
        }
    }

    /** Fan-out offers to a bounded queue per member; a writer per member writes at its client's pace. */
    private static FanOut queuedFanOut() throws Exception {
        CountDownLatch stalledEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch healthyGot = new CountDownLatch(HEALTHY_MEMBERS);
        long[] received = new long[HEALTHY_MEMBERS];
        List<BlockingQueue<String>> queues = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int m = 0; m <= HEALTHY_MEMBERS; m++) {
            BlockingQueue<String> q = new ArrayBlockingQueue<>(16);
            queues.add(q);
            int member = m;
            writers.add(Thread.ofVirtual().name("writer-" + m).start(() -> {
                try {
                    q.take();
                    if (member == 0) {
                        stalledEntered.countDown();
                        release.await();              // the stalled client's write
                    } else {
                        received[member - 1] = System.nanoTime();
                        healthyGot.countDown();
                    }
                } catch (InterruptedException e) {
                    // stopped
                }
            }));
        }
        try {
            long start = System.nanoTime();
            for (BlockingQueue<String> q : queues) {
                if (!q.offer("message")) {
                    throw new IllegalStateException("a fresh queue refused a message");   // would be: slow consumer
                }
            }
            boolean entered = stalledEntered.await(10, TimeUnit.SECONDS);
            boolean got = healthyGot.await(10, TimeUnit.SECONDS);   // opened only after they all received
            long releaseAt = System.nanoTime();
            release.countDown();
            if (!entered || !got) {
                return new FanOut(start, releaseAt, new long[HEALTHY_MEMBERS]);
            }
            return new FanOut(start, releaseAt, received);
        } finally {
            for (Thread w : writers) {
                w.interrupt();
            }
            for (Thread w : writers) {
                w.join(Duration.ofSeconds(10));
            }
        }
    }

    /**
     * Broken: each node stamps with its own counter, delivers its own message at once, then forwards it. A barrier
     * holds both forwards until both nodes have delivered their own: the interleaving of a real race, forced.
     */
    private static void perNodeIds(RunContext ctx) throws Exception {
        CyclicBarrier bothStamped = new CyclicBarrier(2);
        BlockingQueue<String> toA = new LinkedBlockingQueue<>();
        BlockingQueue<String> toB = new LinkedBlockingQueue<>();
        List<String> viewA = Collections.synchronizedList(new ArrayList<>());
        List<String> viewB = Collections.synchronizedList(new ArrayList<>());
        Thread a = Thread.ofVirtual().name("node-a").start(() -> node("A", bothStamped, toB, toA, viewA));
        Thread b = Thread.ofVirtual().name("node-b").start(() -> node("B", bothStamped, toA, toB, viewB));
        if (!a.join(WAIT) | !b.join(WAIT)) {
            a.interrupt();
            b.interrupt();
            a.join();
            b.join();
        }
        boolean opposite = viewA.size() == 2 && viewB.size() == 2 && viewA.get(0).equals(viewB.get(1))
                && viewA.get(1).equals(viewB.get(0));
        Table.Builder t = Table.builder("Broken: per-node ids, each node delivering its own message first",
                "node", "its members saw, in order");
        t.row("node A", String.join(", ", viewA));
        t.row("node B", String.join(", ", viewB));
        ctx.table(t.build());
        ctx.claim(PER_NODE_DISAGREE, Verdict.check(opposite, "node A saw " + viewA + ", node B saw " + viewB
                + (opposite ? ": opposite orders, and both messages carry id 1" : "")));
    }

    private static void node(String name, CyclicBarrier bothStamped, BlockingQueue<String> out,
                             BlockingQueue<String> in, List<String> view) {
        try {
            long localId = 1;                          // each node's own counter
            String mine = "#" + localId + " from " + name;
            view.add(mine);                            // local members first
            bothStamped.await(10, TimeUnit.SECONDS);
            out.put(mine);                             // then forward to the other node
            String theirs = in.poll(10, TimeUnit.SECONDS);
            if (theirs != null) {
                view.add(theirs);
            }
        } catch (Exception e) {
            view.add("failed: " + e);
        }
    }
}

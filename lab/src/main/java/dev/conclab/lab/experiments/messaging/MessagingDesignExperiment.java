package dev.conclab.lab.experiments.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.core.ChatHub;
import dev.conclab.chat.core.Session;
import dev.conclab.chat.core.Transport;
import dev.conclab.chat.protocol.CloseCode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XReadParams;
import redis.clients.jedis.resps.StreamEntry;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Three design choices of a real-time messaging system, each measured: what the bus promises about delivery, who
 * decides the order of a room, and what fan-out on write costs as a room grows.
 *
 * <ol>
 *   <li><b>Delivery semantics — at-most-once vs catch-up.</b> A real {@code redis-server} on a loopback port.
 *       <em>Pub/sub</em>: a subscriber receives {@code events} events, unsubscribes ("goes away": confirmed by
 *       {@code PUBSUB NUMSUB} = 0), {@code events} more are published, it subscribes again and {@code events} more
 *       follow. Redis keeps nothing for a channel nobody listens to: {@code PUBLISH} returns 0 receivers and the
 *       middle events are gone. <em>Stream</em>: the same three phases with {@code XADD}, and a reader that
 *       remembers the last id it saw and resumes {@code XREAD} from it: nothing is lost. The chat's room history
 *       ({@code history}) is the same idea, bounded: a reconnecting client asks for what it missed. Without
 *       {@code redis-server} these claims are skipped, naming why.</li>
 *   <li><b>Ordering — one sequencer vs per-node ids.</b> Two chat servers (the event-loop model) in this JVM joined
 *       by the same Redis ({@code RedisBroadcaster}: one Lua script takes every room event's id and publishes it on
 *       one channel). A sender on each node posts {@code messages} messages at once; an observer on each node
 *       records the room. Both observers must see one sequence, ids increasing. The broken alternative, per-node
 *       ids with local delivery first, is forced in {@code fanout-races}.</li>
 *   <li><b>Fan-out cost.</b> The chat's hub without a network ({@code ChatHub} with transports that only count):
 *       one member posts {@code fanout-messages} messages to rooms of 10, 100 and 1,000 members. Fan-out on write
 *       does one queue operation per member per message, so a message's cost grows with the room while the cost
 *       per delivery stays roughly flat.</li>
 * </ol>
 *
 * <p>Run: {@code ./conclab run messaging-design}. Expect exactly {@code events} events lost by pub/sub and none by
 * the stream, the same order on both nodes, and a message to 1,000 members costing
 * tens of times one to 10.
 */
public final class MessagingDesignExperiment implements Experiment {

    static final ClaimSpec PUBSUB_AT_MOST_ONCE = new ClaimSpec("pubsub-at-most-once",
            "Redis pub/sub is at-most-once: a subscriber that is away misses every event published meanwhile, and"
                    + " nothing replays them.");
    static final ClaimSpec STREAM_CATCHES_UP = new ClaimSpec("stream-catches-up",
            "A client that resumes reading a Redis Stream (XREAD) from the last id it saw gets every event it"
                    + " missed, in order.");
    static final ClaimSpec ONE_SEQUENCER = new ClaimSpec("one-sequencer",
            "With one sequencer for the room (ids taken in Redis), two nodes show the messages sent on both in the"
                    + " same order, with increasing ids.");
    static final ClaimSpec FANOUT_GROWS = new ClaimSpec("fanout-grows",
            "Fan-out on write: one message to a room of 1000 members costs at least 5× one to a room of 10.");

    private static final String CHANNEL = "conclab:design:events";
    private static final String STREAM = "conclab:design:stream";
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int[] ROOM_SIZES = {10, 100, 1_000};
    /** 100× the deliveries; 5× leaves room for a noisy machine (measured 11–109× in quick runs). */
    private static final double FANOUT_RATIO = 5;
    private static final int FANOUT_ROUNDS = 10;

    @Override
    public String id() {
        return "messaging-design";
    }

    @Override
    public String title() {
        return "Messaging design measured: at-most-once pub/sub vs a stream, one sequencer vs per-node ids, fan-out cost";
    }

    @Override
    public String description() {
        return "Loses events with Redis pub/sub and replays them from a Redis Stream, orders a room across two chat"
                + " nodes with one sequencer (and shows per-node ids disagree), and measures fan-out on write as"
                + " rooms grow from 10 to 1000 members.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("events", "events in each of the three phases (before, while away, after)", 1,
                        100_000, 1_000, 100),
                new Param.IntParam("messages", "messages each node's sender posts in the ordering test", 1, 10_000,
                        500, 100),
                new Param.IntParam("fanout-messages", "messages posted to each room size", 10, 100_000, 2_000, 200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PUBSUB_AT_MOST_ONCE, STREAM_CATCHES_UP, ONE_SEQUENCER, FANOUT_GROWS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Optional<Path> redisServer = MessagingRedis.find();
        if (redisServer.isEmpty()) {
            String why = "redis-server is not installed (apt-get install -y redis-server)";
            ctx.claim(PUBSUB_AT_MOST_ONCE, Verdict.skipped(why));
            ctx.claim(STREAM_CATCHES_UP, Verdict.skipped(why));
            ctx.claim(ONE_SEQUENCER, Verdict.skipped(why));
        } else {
            try (MessagingRedis redis = MessagingRedis.start(redisServer.get())) {
                ctx.progress(0.05, "pub/sub vs stream");
                deliverySemantics(ctx, redis, ctx.intParam("events"));
                ctx.progress(0.3, "one sequencer across two nodes");
                oneSequencer(ctx, redis, ctx.intParam("messages"));
            }
        }
        ctx.progress(0.7, "fan-out cost");
        fanOutCost(ctx, ctx.intParam("fanout-messages"));
        ctx.progress(1, "done");
    }

    // ---- 1. delivery semantics ----------------------------------------------------------------------------------

    private static void deliverySemantics(RunContext ctx, MessagingRedis redis, int events) throws Exception {
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        long receiversWhileAway = 0;
        long numSubWhileAway;
        try (Jedis publisher = redis.client()) {
            Subscriber first = Subscriber.start(redis, received);
            publish(publisher, 1, events);
            awaitCount(received, events);
            first.stop();                               // the subscriber goes away
            numSubWhileAway = publisher.pubsubNumSub(CHANNEL).getOrDefault(CHANNEL, 0L);
            for (int i = events + 1; i <= 2 * events; i++) {
                receiversWhileAway += publisher.publish(CHANNEL, String.valueOf(i));
            }
            Subscriber again = Subscriber.start(redis, received);   // it comes back
            try {
                publish(publisher, 2 * events + 1, 3 * events);
                awaitCount(received, 2 * events);
            } finally {
                again.stop();
            }
        }
        List<Integer> got = received.stream().map(Integer::parseInt).toList();
        long missedMiddle = 0;
        for (int i = events + 1; i <= 2 * events; i++) {
            missedMiddle += got.contains(i) ? 0 : 1;
        }
        int lost = 3 * events - got.size();

        // The stream: XADD everything; the reader remembers the last id it saw.
        List<Integer> streamed = new ArrayList<>();
        StreamEntryID last = new StreamEntryID(0, 0);
        try (Jedis j = redis.client()) {
            xadd(j, 1, events);
            last = readFrom(j, last, streamed);
            xadd(j, events + 1, 2 * events);            // the reader is away: nothing reads
            xadd(j, 2 * events + 1, 3 * events);
            last = readFrom(j, last, streamed);          // back: resume from the remembered id
            j.del(STREAM);
        }
        boolean inOrder = true;
        for (int i = 0; i < streamed.size(); i++) {
            inOrder &= streamed.get(i) == i + 1;
        }

        Table.Builder t = Table.builder("Three phases of " + events + " events: before, while the reader is away,"
                        + " after it is back", "bus", "published", "received", "lost", "of the middle phase lost",
                "receivers PUBLISH reported while away", "in order");
        t.row("Redis pub/sub (PUBLISH/SUBSCRIBE)", 3 * events, got.size(), lost, missedMiddle, receiversWhileAway,
                "—");
        t.row("Redis Stream (XADD, XREAD from the last id seen)", 3 * events, streamed.size(),
                3 * events - streamed.size(), 0, "—", inOrder ? "yes" : "NO");
        ctx.table(t.build());
        ctx.claim(PUBSUB_AT_MOST_ONCE, Verdict.check(numSubWhileAway == 0 && missedMiddle == events
                        && lost == events && receiversWhileAway == 0,
                String.format("while away (PUBSUB NUMSUB = %d) %d events were published, PUBLISH reported %d"
                                + " receivers; the subscriber received %d of %d, missing %d of the middle %d",
                        numSubWhileAway, events, receiversWhileAway, got.size(), 3 * events, missedMiddle, events)));
        ctx.claim(STREAM_CATCHES_UP, Verdict.check(streamed.size() == 3 * events && inOrder,
                String.format("the reader got %d of %d entries%s, resuming after id %s", streamed.size(), 3 * events,
                        inOrder ? " in order" : " OUT OF ORDER", last)));
    }

    private static void publish(Jedis j, int from, int to) {
        for (int i = from; i <= to; i++) {
            j.publish(CHANNEL, String.valueOf(i));
        }
    }

    private static void xadd(Jedis j, int from, int to) {
        for (int i = from; i <= to; i++) {
            j.xadd(STREAM, StreamEntryID.NEW_ENTRY, Map.of("n", String.valueOf(i)));
        }
    }

    /** XREAD everything after {@code after}; returns the last id read. */
    private static StreamEntryID readFrom(Jedis j, StreamEntryID after, List<Integer> into) {
        StreamEntryID last = after;
        while (true) {
            List<Map.Entry<String, List<StreamEntry>>> batch = j.xread(XReadParams.xReadParams().count(500),
                    Map.of(STREAM, last));
            if (batch == null || batch.isEmpty() || batch.getFirst().getValue().isEmpty()) {
                return last;
            }
            for (StreamEntry e : batch.getFirst().getValue()) {
                into.add(Integer.parseInt(e.getFields().get("n")));
                last = e.getID();
            }
        }
    }

    private static void awaitCount(List<String> received, int count) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (received.size() < count) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the subscriber received " + received.size() + " of " + count + " events");
            }
            Thread.sleep(2);
        }
    }

    /** A subscriber on its own virtual thread (SUBSCRIBE blocks); {@link #stop} unsubscribes and joins it. */
    private record Subscriber(JedisPubSub pubSub, Thread thread, Jedis jedis) {
        static Subscriber start(MessagingRedis redis, List<String> into) throws Exception {
            CountDownLatch subscribed = new CountDownLatch(1);
            JedisPubSub ps = new JedisPubSub() {
                @Override
                public void onSubscribe(String channel, int subscribedChannels) {
                    subscribed.countDown();
                }

                @Override
                public void onMessage(String channel, String message) {
                    into.add(message);
                }
            };
            Jedis j = redis.client();
            Thread t = Thread.ofVirtual().name("design-subscriber").start(() -> j.subscribe(ps, CHANNEL));
            if (!subscribed.await(10, TimeUnit.SECONDS)) {
                j.close();
                t.join(Duration.ofSeconds(5));
                throw new IOException("SUBSCRIBE was not confirmed within 10 s");
            }
            return new Subscriber(ps, t, j);
        }

        void stop() throws InterruptedException {
            pubSub.unsubscribe();
            if (!thread.join(Duration.ofSeconds(10))) {
                jedis.close();                          // closing the socket ends SUBSCRIBE
                thread.join(Duration.ofSeconds(5));
            }
            jedis.close();
        }
    }

    // ---- 2. ordering ------------------------------------------------------------------------------------------

    private static void oneSequencer(RunContext ctx, MessagingRedis redis, int messages) throws Exception {
        ChatConfig config = ChatConfig.defaults().withPort(0).withIoThreads(2).withRate(100_000, 100_000)
                .withOutboundLimit(100_000).withRedis(new ChatConfig.RedisAddress("127.0.0.1", redis.port()));
        List<String> names = List.of("obsA", "obsB", "sendA", "sendB");
        try (ChatServer a = ChatModel.EVENTLOOP.start(config); ChatServer b = ChatModel.EVENTLOOP.start(config);
             MessagingWsClient obsA = MessagingWsClient.connect(a.uri(), "obsA");
             MessagingWsClient obsB = MessagingWsClient.connect(b.uri(), "obsB");
             MessagingWsClient sendA = MessagingWsClient.connect(a.uri(), "sendA");
             MessagingWsClient sendB = MessagingWsClient.connect(b.uri(), "sendB")) {
            obsA.join("ord", "obsA");
            obsB.join("ord", "obsB");
            sendA.join("ord", "sendA");
            sendB.join("ord", "sendB");
            for (MessagingWsClient obs : List.of(obsA, obsB)) {   // presence lists all four on both nodes
                awaitPresence(obs, names.size());
            }
            Thread ta = Thread.ofVirtual().name("sender-node-a").start(() -> sendAll(sendA, "A", messages));
            Thread tb = Thread.ofVirtual().name("sender-node-b").start(() -> sendAll(sendB, "B", messages));
            ta.join();
            tb.join();
            List<String> viewA = roomView(obsA, 2 * messages);
            List<String> viewB = roomView(obsB, 2 * messages);
            List<Long> idsA = viewA.stream().map(v -> Long.parseLong(v.substring(0, v.indexOf(' ')))).toList();
            boolean same = viewA.equals(viewB);
            boolean increasing = true;
            for (int i = 1; i < idsA.size(); i++) {
                increasing &= idsA.get(i) > idsA.get(i - 1);
            }
            int switches = 0;
            for (int i = 1; i < viewA.size(); i++) {
                switches += viewA.get(i).charAt(viewA.get(i).indexOf(' ') + 1)
                        != viewA.get(i - 1).charAt(viewA.get(i - 1).indexOf(' ') + 1) ? 1 : 0;
            }
            Table.Builder t = Table.builder("A room on two nodes: " + messages + " messages sent on each at once",
                    "ordering", "node A saw", "node B saw", "same sequence", "ids increasing",
                    "A/B interleavings in the sequence", "first 6 on node A (id sender#n)");
            t.row("one sequencer (Redis INCR in a Lua script)", viewA.size(), viewB.size(), same ? "yes" : "NO",
                    increasing ? "yes" : "NO", switches, String.join(", ", viewA.subList(0, Math.min(6,
                            viewA.size()))));
            ctx.table(t.build());
            ctx.claim(ONE_SEQUENCER, Verdict.check(same && increasing && viewA.size() == 2 * messages,
                    String.format("node A saw %d messages, node B %d, %s sequence, ids %s; the senders' messages"
                                    + " interleave %d times", viewA.size(), viewB.size(), same ? "the same" : "a DIFFERENT",
                            increasing ? "increasing" : "NOT increasing", switches)));
        }
    }

    /** Asks {@code who} until the room lists {@code members} names (joins of the other node arrive via Redis). */
    private static void awaitPresence(MessagingWsClient obs, int members) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            obs.send("{\"type\":\"who\",\"room\":\"ord\",\"ref\":\"who\"}");
            JsonNode p = obs.await(m -> "presence".equals(m.path("type").asText()), WAIT).getLast();
            if (p.path("members").size() >= members) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the room lists " + p.path("members") + ", not " + members + " members");
            }
            Thread.sleep(10);                          // the other node's joins are on their way through Redis
        }
    }

    private static void sendAll(MessagingWsClient client, String node, int messages) {
        try {
            for (int i = 1; i <= messages; i++) {
                client.send("{\"type\":\"send\",\"room\":\"ord\",\"text\":\"" + node + "#" + i + "\"}");
            }
        } catch (IOException e) {
            throw new IllegalStateException("node " + node + "'s sender failed", e);
        }
    }

    /** The room's messages as one observer saw them: {@code "id text"} in arrival order. */
    private static List<String> roomView(MessagingWsClient obs, int count) throws Exception {
        List<String> view = new ArrayList<>();
        obs.await(m -> {
            if ("message".equals(m.path("type").asText())) {
                view.add(m.path("id").asLong() + " " + m.path("text").asText());
            }
            return view.size() == count;
        }, WAIT);
        return view;
    }

    // ---- 3. fan-out cost --------------------------------------------------------------------------------------

    private static void fanOutCost(RunContext ctx, int messages) throws Exception {
        int rounds = Math.max(ctx.repeats(), FANOUT_ROUNDS);
        Table.Builder t = Table.builder("Fan-out on write in the chat's hub (no network): " + messages
                        + " messages, best of " + rounds + " rounds taken in turn", "room members",
                "µs per message", "ns per delivery", "deliveries/s");
        List<ChatHub> hubs = new ArrayList<>();
        try {
            List<List<Session>> rooms = new ArrayList<>();
            for (int members : ROOM_SIZES) {
                ChatConfig config = ChatConfig.defaults().withPort(0).withRate(1_000_000, 1_000_000)
                        .withOutboundLimit(members + 4 * messages + 16).withMaxStrikes(1_000_000);
                ChatHub hub = new ChatHub(config);
                hubs.add(hub);
                List<Session> sessions = new ArrayList<>();
                for (int i = 0; i < members; i++) {
                    Session session = hub.open(CountingTransport.INSTANCE, "m" + i);
                    session.onText("{\"type\":\"join\",\"room\":\"big\"}");
                    sessions.add(session);
                }
                drainAll(sessions);
                rooms.add(sessions);
            }
            String frame = "{\"type\":\"send\",\"room\":\"big\",\"text\":\"hello, room\"}";
            double[] best = new double[ROOM_SIZES.length];
            java.util.Arrays.fill(best, Double.MAX_VALUE);
            for (int r = 0; r < rounds; r++) {          // sizes in turn, so JIT warm-up and noise hit them alike
                for (int s = 0; s < ROOM_SIZES.length; s++) {
                    ctx.checkCancelled();
                    List<Session> sessions = rooms.get(s);
                    Session sender = sessions.getFirst();
                    long t0 = System.nanoTime();
                    for (int m = 0; m < messages; m++) {
                        sender.onText(frame);
                    }
                    drainAll(sessions);                // what the writers would take, so queues start empty
                    best[s] = Math.min(best[s], (System.nanoTime() - t0) / 1e9);
                }
            }
            double[] perMessage = new double[ROOM_SIZES.length];
            for (int s = 0; s < ROOM_SIZES.length; s++) {
                perMessage[s] = best[s] * 1e6 / messages;
                t.row(ROOM_SIZES[s], perMessage[s], perMessage[s] * 1000 / ROOM_SIZES[s],
                        ROOM_SIZES[s] * (double) messages / best[s]);
            }
            ctx.table(t.build());
            double ratio = perMessage[ROOM_SIZES.length - 1] / perMessage[0];
            ctx.claim(FANOUT_GROWS, Verdict.check(ratio >= FANOUT_RATIO, String.format("%.2f µs per message to 1000"
                            + " members vs %.2f µs to 10: %.1f× (needs ≥ %.0f×)", perMessage[ROOM_SIZES.length - 1],
                    perMessage[0], ratio, FANOUT_RATIO)));
            for (List<Session> sessions : rooms) {
                for (Session session : sessions) {
                    session.onClosed();
                }
            }
        } finally {
            for (ChatHub hub : hubs) {
                hub.close();
            }
        }
    }

    private static void drainAll(List<Session> sessions) {
        for (Session s : sessions) {
            while (s.poll() != null) {
                // a writer would send it
            }
        }
    }

    /** A transport that writes nothing: the experiment drains the outboxes itself. Stateless, so thread-safe. */
    private enum CountingTransport implements Transport {
        INSTANCE;

        @Override
        public void wake() {
            // drained by the experiment after each batch
        }

        @Override
        public void close(CloseCode code, String reason) {
            // nothing to close
        }
    }
}

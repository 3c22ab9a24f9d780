package dev.conclab.chat.contract;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The protocol contract of {@code chat/PROTOCOL.md}, written once and run against every serving model: a subclass
 * says how to {@link #start} its model. Clients are the JDK's standard {@link java.net.http.WebSocket}, except
 * where a misbehaving client is needed ({@link RawClient}: stops reading, never answers pings, sends invalid UTF-8).
 *
 * <p>After each test the server and every client are closed and no platform thread started by the test may remain.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class ChatProtocolContract {

    /** Starts a server of the model under test. */
    protected abstract ChatServer start(ChatConfig config);

    /** Small limits, so each one is reached with a few messages. */
    protected static ChatConfig testConfig() {
        return ChatConfig.defaults().withPort(0).withIoThreads(2).withMaxFrameBytes(16 << 10).withMaxTextChars(8_000)
                .withOutboundLimit(128).withHistorySize(5).withRate(1_000, 1_000).withMaxRoomsPerClient(3)
                .withDrainTimeout(Duration.ofSeconds(3));
    }

    private Set<Thread> threadsBefore;
    private ExecutorService clientExecutor;
    private HttpClient http;
    private ChatServer server;
    private final List<AutoCloseable> clients = new ArrayList<>();

    /**
     * A failure carries what a later reader needs to find its cause: the server's counters and a dump of every thread,
     * virtual ones included, taken at the moment of failure (printed to the test's standard error).
     */
    @RegisterExtension
    final TestExecutionExceptionHandler dumpOnFailure = (context, failure) -> {
        ChatServer s = server;
        if (s != null) {
            failure.addSuppressed(new AssertionError("server stats at failure: " + s.stats()));
        }
        ThreadDump.print(System.err, context.getDisplayName());
        throw failure;
    };

    @BeforeEach
    void snapshotThreads() {
        threadsBefore = Set.copyOf(Thread.getAllStackTraces().keySet());
        clientExecutor = Executors.newVirtualThreadPerTaskExecutor();
        http = HttpClient.newBuilder().executor(clientExecutor).build();
    }

    @AfterEach
    void closeEverythingAndCheckThreads() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        if (server != null) {
            server.close(Duration.ofSeconds(2));
        }
        http.close();
        clientExecutor.close();
        assertNoThreadLeft(threadsBefore, true);
    }

    private static Set<Thread> threadsBeforeClass;

    @BeforeAll
    static void snapshotThreadsOfTheClass() {
        threadsBeforeClass = Set.copyOf(Thread.getAllStackTraces().keySet());
    }

    /** Netty's shared GlobalEventExecutor runs termination callbacks for about a second, then its thread ends. */
    @AfterAll
    static void nettysSharedExecutorHasStoppedToo() throws InterruptedException {
        assertNoThreadLeft(threadsBeforeClass, false);
    }

    /**
     * No platform thread started since {@code before} is still alive after 3 s of grace, ignoring the JVM's shared
     * pools (the common pool, the virtual-thread carriers, JUnit's timeout watcher) and, when
     * {@code skipNettyGlobal}, Netty's shared GlobalEventExecutor (checked once per class instead).
     */
    private static void assertNoThreadLeft(Set<Thread> before, boolean skipNettyGlobal) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.isAlive())
                    .filter(t -> t.getThreadGroup() == Thread.currentThread().getThreadGroup())
                    .map(Thread::getName)
                    .filter(n -> !n.startsWith("ForkJoinPool") && !n.startsWith("junit-"))
                    .filter(n -> !(skipNettyGlobal && n.startsWith("globalEventExecutor")))
                    .toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() - deadline < 0);
        assertThat(left).as("threads left running after the test").isEmpty();
    }

    private ChatServer serve(ChatConfig config) {
        server = start(config);
        return server;
    }

    private TestClient client(String name) throws InterruptedException {
        TestClient c = TestClient.connect(http, server.uri(), name);
        clients.add(c);
        return c;
    }

    private RawClient raw(String name, int receiveBuffer) throws IOException {
        RawClient c = new RawClient(server.port(), server.config().path() + "?name=" + name, receiveBuffer);
        clients.add(c);
        return c;
    }

    private static void join(TestClient c, String room, String name) throws InterruptedException {
        c.send("join", "room", room);
        JsonNode joined = c.expect("joined");
        assertThat(joined.path("room").asText()).isEqualTo(room);
        assertThat(joined.path("name").asText()).isEqualTo(name);
    }

    // ---- naming ----

    @Test
    void connectGetsTheNameAskedForOrAGuestName() throws Exception {
        serve(testConfig());
        TestClient alice = client("alice");
        alice.send("who", "room", "lobby");
        assertThat(alice.expect("presence").path("members")).isEmpty();

        TestClient copy = TestClient.connect(http, server.uri(), null);
        clients.add(copy);
        copy.send("hello", "name", "alice");
        JsonNode taken = copy.expect("error");
        assertThat(taken.path("code").asText()).isEqualTo("name-taken");
        copy.send("hello", "name", "bob");
        assertThat(copy.expect("welcome").path("name").asText()).isEqualTo("bob");
    }

    @Test
    void secondClientAskingForATakenNameBecomesAGuestAndIsTold() throws Exception {
        serve(testConfig());
        client("alice");
        RawClient raw = raw("alice", 64 << 10);
        RawClient.Frame welcome = raw.readFrame();
        assertThat(welcome.text()).contains("\"welcome\"").contains("guest-");
        assertThat(raw.readFrame().text()).contains("name-taken");
    }

    @Test
    void nameChangesOnlyWhileInNoRoom() throws Exception {
        serve(testConfig());
        TestClient c = client("alice");
        join(c, "r", "alice");
        c.send("hello", "name", "alicia", "ref", "h1");
        JsonNode locked = c.expect("error");
        assertThat(locked.path("code").asText()).isEqualTo("name-locked");
        assertThat(locked.path("ref").asText()).isEqualTo("h1");
    }

    // ---- rooms, presence, messages ----

    @Test
    void joinAndLeaveAreAnnouncedToTheRoom() throws Exception {
        serve(testConfig());
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        join(alice, "r", "alice");
        join(bob, "r", "bob");
        assertThat(alice.expect("joined").path("name").asText()).isEqualTo("bob");

        alice.send("who", "room", "r");
        JsonNode presence = alice.expect("presence");
        assertThat(presence.path("room").asText()).isEqualTo("r");
        assertThat(names(presence.path("members"))).containsExactly("alice", "bob");

        bob.send("leave", "room", "r");
        assertThat(bob.expect("left").path("name").asText()).isEqualTo("bob");
        JsonNode left = alice.expect("left");
        assertThat(left.path("room").asText()).isEqualTo("r");
        assertThat(left.path("name").asText()).isEqualTo("bob");
        alice.send("who", "room", "r");
        assertThat(names(alice.expect("presence").path("members"))).containsExactly("alice");
    }

    @Test
    void aClosedConnectionLeavesItsRooms() throws Exception {
        serve(testConfig());
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        join(alice, "r", "alice");
        join(bob, "r", "bob");
        alice.expect("joined");
        bob.close();
        JsonNode left = alice.expect("left");
        assertThat(left.path("name").asText()).isEqualTo("bob");
    }

    @Test
    void roomMessagesReachEveryMemberAndOnlyMembersWithAnAck() throws Exception {
        serve(testConfig());
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        TestClient carol = client("carol");
        join(alice, "r", "alice");
        join(bob, "r", "bob");
        alice.expect("joined");

        alice.send("send", "room", "r", "text", "hi all", "ref", "a1");
        JsonNode atAlice = alice.expect("message");
        JsonNode ack = alice.expect("ack");
        JsonNode atBob = bob.expect("message");
        assertThat(ack.path("ref").asText()).isEqualTo("a1");
        assertThat(ack.path("id").asLong()).isEqualTo(atAlice.path("id").asLong()).isPositive();
        for (JsonNode m : List.of(atAlice, atBob)) {
            assertThat(m.path("id").asLong()).isEqualTo(ack.path("id").asLong());
            assertThat(m.path("room").asText()).isEqualTo("r");
            assertThat(m.path("from").asText()).isEqualTo("alice");
            assertThat(m.path("text").asText()).isEqualTo("hi all");
            assertThat(m.path("ts").asLong()).isPositive();
        }
        // carol, in no room, got nothing: her next message is the reply to her own request
        carol.send("who", "room", "r");
        assertThat(carol.expect("presence").path("members")).hasSize(2);

        carol.send("send", "room", "r", "text", "let me in", "ref", "c1");
        JsonNode refused = carol.expect("error");
        assertThat(refused.path("code").asText()).isEqualTo("not-in-room");
        assertThat(refused.path("ref").asText()).isEqualTo("c1");
    }

    @Test
    void directMessagesReachTheNamedClientOnly() throws Exception {
        serve(testConfig());
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        TestClient carol = client("carol");
        alice.send("dm", "to", "bob", "text", "psst", "ref", "d1");
        JsonNode ack = alice.expect("ack");
        JsonNode dm = bob.expect("dm");
        assertThat(dm.path("from").asText()).isEqualTo("alice");
        assertThat(dm.path("to").asText()).isEqualTo("bob");
        assertThat(dm.path("text").asText()).isEqualTo("psst");
        assertThat(dm.path("id").asLong()).isEqualTo(ack.path("id").asLong());
        assertThat(ack.path("ref").asText()).isEqualTo("d1");

        alice.send("dm", "to", "nobody", "text", "hello?", "ref", "d2");
        JsonNode unknown = alice.expect("error");
        assertThat(unknown.path("code").asText()).isEqualTo("unknown-user");
        assertThat(unknown.path("ref").asText()).isEqualTo("d2");
        carol.send("who", "room", "x");
        assertThat(carol.expect("presence").path("members")).isEmpty();
    }

    @Test
    void idsAndTimestampsIncreaseAndEveryMemberSeesOneOrder() throws Exception {
        serve(testConfig());
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        join(alice, "r", "alice");
        join(bob, "r", "bob");
        alice.expect("joined");
        int n = 20;
        for (int i = 0; i < n; i++) {
            alice.send("send", "room", "r", "text", "a" + i, "ref", "a" + i);
            bob.send("send", "room", "r", "text", "b" + i, "ref", "b" + i);
        }
        long lastAck = 0;
        List<Long> aliceSaw = new ArrayList<>();
        int acks = 0;
        while (acks < n || aliceSaw.size() < 2 * n) {
            JsonNode m = alice.next();
            switch (m.path("type").asText()) {
                case "ack" -> {
                    assertThat(m.path("id").asLong()).as("ack ids increase").isGreaterThan(lastAck);
                    lastAck = m.path("id").asLong();
                    acks++;
                }
                case "message" -> aliceSaw.add(m.path("id").asLong());
                default -> throw new AssertionError("unexpected " + m);
            }
        }
        List<Long> bobSaw = new ArrayList<>();
        long lastTs = 0;
        while (bobSaw.size() < 2 * n) {
            JsonNode m = bob.next();
            if (m.path("type").asText().equals("message")) {
                bobSaw.add(m.path("id").asLong());
                assertThat(m.path("ts").asLong()).as("timestamps never decrease").isGreaterThanOrEqualTo(lastTs);
                lastTs = m.path("ts").asLong();
            }
        }
        assertThat(aliceSaw).isSorted().doesNotHaveDuplicates().isEqualTo(bobSaw);
    }

    @Test
    void historyKeepsTheLastMessagesOfARoomOldestFirst() throws Exception {
        serve(testConfig()); // history of 5
        TestClient alice = client("alice");
        TestClient late = client("late");
        join(alice, "r", "alice");
        for (int i = 1; i <= 8; i++) {
            alice.send("send", "room", "r", "text", "m" + i);
            alice.expect("message");
            alice.expect("ack");
        }
        late.send("history", "room", "r", "ref", "h");
        JsonNode history = late.expect("history");
        assertThat(history.path("ref").asText()).isEqualTo("h");
        List<String> texts = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        history.path("messages").forEach(m -> {
            texts.add(m.path("text").asText());
            ids.add(m.path("id").asLong());
            assertThat(m.path("from").asText()).isEqualTo("alice");
        });
        assertThat(texts).containsExactly("m4", "m5", "m6", "m7", "m8");
        assertThat(ids).isSorted();
        late.send("history", "room", "empty");
        assertThat(late.expect("history").path("messages")).isEmpty();
    }

    // ---- limits ----

    @Test
    void aClientMayBeInAtMostTheConfiguredNumberOfRooms() throws Exception {
        serve(testConfig()); // 3 rooms per client
        TestClient c = client("alice");
        for (String room : List.of("a", "b", "c")) {
            join(c, room, "alice");
        }
        c.send("join", "room", "d", "ref", "j4");
        JsonNode refused = c.expect("error");
        assertThat(refused.path("code").asText()).isEqualTo("too-many-rooms");
        assertThat(refused.path("ref").asText()).isEqualTo("j4");
        c.send("join", "room", "a");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("already-in-room");
        c.send("leave", "room", "a");
        c.expect("left");
        join(c, "d", "alice");
    }

    @Test
    void messagesOverTheRateAreRefusedAndAFloodIsClosedWith1008() throws Exception {
        // 5 at once, then one every 10 s: the 6th and later messages of a quick burst are refused.
        serve(testConfig().withRate(0.1, 5).withMaxStrikes(3));
        TestClient c = client("alice");
        for (int i = 0; i < 8; i++) {
            c.send("who", "room", "r");
        }
        for (int i = 0; i < 5; i++) {
            c.expect("presence");
        }
        for (int i = 0; i < 3; i++) {
            assertThat(c.expect("error").path("code").asText()).isEqualTo("rate-limited");
        }
        assertThat(c.awaitCloseCode()).isEqualTo(1008);
        assertThat(server.stats().rateLimited()).isGreaterThanOrEqualTo(3);
    }

    // ---- malformed input: an error, the connection stays usable ----

    @Test
    void malformedMessagesGetNamedErrorsAndTheConnectionStaysOpen() throws Exception {
        serve(testConfig());
        TestClient c = client("alice");
        c.sendRaw("{not json");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("invalid-json");
        c.sendRaw("[1,2]");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("not-an-object");
        c.sendRaw("{\"type\":\"shout\",\"ref\":\"u1\"}");
        JsonNode unknown = c.expect("error");
        assertThat(unknown.path("code").asText()).isEqualTo("unknown-type");
        assertThat(unknown.path("ref").asText()).isEqualTo("u1");
        c.sendRaw("{\"text\":\"no type\"}");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("missing-field");
        c.sendRaw("{\"type\":\"send\",\"room\":\"r\"}");
        JsonNode missing = c.expect("error");
        assertThat(missing.path("code").asText()).isEqualTo("missing-field");
        assertThat(missing.path("message").asText()).contains("text");
        c.sendRaw("{\"type\":\"join\",\"room\":\"has spaces\"}");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("invalid-field");
        c.sendRaw("{\"type\":\"join\",\"room\":42}");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("invalid-field");
        c.sendRaw("{\"type\":\"send\",\"room\":\"r\",\"text\":\"\"}");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("invalid-field");
        c.sendRaw("{\"type\":\"send\",\"room\":\"r\",\"text\":\"" + "x".repeat(8_001) + "\"}");
        assertThat(c.expect("error").path("code").asText()).isEqualTo("invalid-field");
        assertThat(c.closed()).isNotDone();
        join(c, "r", "alice");
        assertThat(server.stats().errors()).isEqualTo(9);
    }

    @Test
    void repeatedErrorsCloseTheConnectionWith1008() throws Exception {
        serve(testConfig().withMaxStrikes(4));
        TestClient c = client("alice");
        for (int i = 0; i < 4; i++) {
            c.sendRaw("nope");
        }
        for (int i = 0; i < 4; i++) {
            c.expect("error");
        }
        assertThat(c.awaitCloseCode()).isEqualTo(1008);
    }

    // ---- frames the protocol does not accept: a close with the RFC 6455 code ----

    @Test
    void anOversizeMessageClosesWith1009AndOthersAreUnaffected() throws Exception {
        serve(testConfig()); // 16 KiB frames
        TestClient other = client("other");
        TestClient c = client("alice");
        c.sendRaw("{\"type\":\"send\",\"room\":\"r\",\"text\":\"" + "x".repeat(20_000) + "\"}");
        assertThat(c.awaitCloseCode()).isEqualTo(1009);
        join(other, "r", "other");
    }

    @Test
    void aBinaryMessageClosesWith1003() throws Exception {
        serve(testConfig());
        TestClient c = client("alice");
        c.sendBinary(new byte[]{1, 2, 3});
        assertThat(c.awaitCloseCode()).isEqualTo(1003);
    }

    @Test
    void invalidUtf8ClosesWith1007() throws Exception {
        serve(testConfig());
        RawClient c = raw("alice", 64 << 10);
        c.readFrame(); // welcome
        c.sendFrame(RawClient.TEXT, new byte[]{'{', (byte) 0xc3, (byte) 0x28, '}'});
        assertThat(c.readUntilClose()).isEqualTo(1007);
    }

    // ---- idle timeout ----

    @Test
    void aSilentClientIsPingedThenClosedWith1001WhileALiveOneStays() throws Exception {
        serve(testConfig().withIdleTimeout(Duration.ofMillis(600)));
        TestClient live = client("live"); // the JDK client answers pings
        RawClient silent = raw("silent", 64 << 10);
        long start = System.nanoTime();
        assertThat(silent.readFrame().text()).contains("welcome");
        assertThat(silent.readFrame().opcode()).as("a ping after half the idle timeout").isEqualTo(RawClient.PING);
        assertThat(silent.readUntilClose()).isEqualTo(1001);
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(elapsedMillis).isBetween(500L, 4_000L);
        live.send("who", "room", "r");
        assertThat(live.expect("presence")).isNotNull();
        assertThat(live.closed()).isNotDone();
    }

    // ---- backpressure: a slow consumer is cut off, never slowing the others ----

    @Test
    void aClientThatStopsReadingIsDisconnectedAndTheOthersGetEveryMessageOnTime() throws Exception {
        // 128 frames queued per connection at most; no rate limit in the way (the sender outruns 1,000/s here)
        serve(testConfig().withRate(1_000_000, 1_000_000));
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        join(alice, "r", "alice");
        join(bob, "r", "bob");
        alice.expect("joined");
        RawClient slow = raw("slow", 4 << 10);
        slow.sendText("{\"type\":\"join\",\"room\":\"r\"}");
        alice.expect("joined");
        bob.expect("joined");
        // slow never reads again. Send big messages until the server gives up on it (bounded: at most 5,000).
        String text = "x".repeat(7_000);
        int sent = 0;
        long worstAckNanos = 0;
        boolean slowLeft = false;
        List<Long> sentAt = new ArrayList<>();
        while (sent < 5_000 && server.stats().slowConsumers() == 0) {
            long t0 = System.nanoTime();
            alice.send("send", "room", "r", "text", text, "ref", "m" + sent);
            sentAt.add(t0);
            sent++;
            while (true) {
                JsonNode m = alice.next();
                String type = m.path("type").asText();
                if (type.equals("ack")) {
                    worstAckNanos = Math.max(worstAckNanos, System.nanoTime() - t0);
                    break;
                }
                assertThat(type).as("reply to message " + sent + ": " + m).isIn("message", "left");
                if (type.equals("left") && m.path("name").asText().equals("slow")) {
                    slowLeft = true;
                }
            }
        }
        assertThat(server.stats().slowConsumers()).as("slow consumers cut off after " + sent + " messages")
                .isEqualTo(1);
        // the slow client leaves the room once its close grace (1 s at most) has passed
        while (!slowLeft) {
            JsonNode m = alice.next();
            assertThat(m.path("type").asText()).as("after the last ack: " + m).isEqualTo("left");
            slowLeft = m.path("name").asText().equals("slow");
        }
        // bob read every message, in order, each soon after it was sent
        long worstDeliveryNanos = 0;
        int got = 0;
        while (got < sent) {
            TestClient.Received r = bob.nextReceived();
            if (r.json().path("type").asText().equals("message")) {
                assertThat(r.json().path("text").asText()).hasSize(7_000);
                worstDeliveryNanos = Math.max(worstDeliveryNanos, r.nanos() - sentAt.get(got));
                got++;
            }
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(worstAckNanos)).as("worst ack latency, ms").isLessThan(2_000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(worstDeliveryNanos)).as("worst delivery latency, ms")
                .isLessThan(2_000);
        assertThat(slow.closedByServer()).as("the slow client's connection is closed").isTrue();
    }

    /**
     * The slow-consumer policy cuts off a client that does not read, never one that does: a burst of 4 × the
     * outbox's soft limit, written by the sender in one socket write so the server takes it in faster than any drain
     * runs, reaches a reading client whole and in order. On an event loop with one I/O thread this is certain: the
     * loop decodes the whole burst, offering every copy to the reader's outbox, before the reader's drain task runs
     * (a policy that closed at the soft limit cut the reader off here with 1008 although it was reading).
     */
    @Test
    void aReadingClientSurvivesABurstOfFourTimesTheSoftLimit() throws Exception {
        ChatConfig config = testConfig().withIoThreads(1).withRate(1_000_000, 1_000_000);
        serve(config);
        int burst = 4 * config.outboundLimit();
        RawClient reader = raw("reader", 1 << 20);
        RawClient sender = raw("sender", 1 << 20);
        assertThat(reader.readFrame().text()).contains("welcome");
        assertThat(sender.readFrame().text()).contains("welcome");
        reader.sendText("{\"type\":\"join\",\"room\":\"r\"}");
        assertThat(reader.readFrame().text()).contains("\"joined\"");
        sender.sendText("{\"type\":\"join\",\"room\":\"r\"}");
        assertThat(sender.readFrame().text()).contains("\"joined\"");
        assertThat(reader.readFrame().text()).contains("\"sender\"");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < burst; i++) {
            texts.add("{\"type\":\"send\",\"room\":\"r\",\"text\":\"m" + i + "\"}");
        }
        sender.sendTexts(texts);
        for (int i = 0; i < burst; i++) {
            RawClient.Frame f = reader.readFrame();
            assertThat(f.opcode()).as("frame %d of the burst (a Close frame means cut off)", i)
                    .isEqualTo(RawClient.TEXT);
            assertThat(f.text()).contains("\"text\":\"m" + i + "\"");
        }
        for (int i = 0; i < 2 * burst; i++) { // the sender's own copies and acks
            assertThat(sender.readFrame().opcode()).isEqualTo(RawClient.TEXT);
        }
        assertThat(server.stats().slowConsumers()).isZero();
        assertThat(server.stats().connections()).isEqualTo(2);
    }

    // ---- graceful shutdown ----

    @Test
    void closeSendsGoingAwayAfterQueuedMessagesAndStopsAccepting() throws Exception {
        ChatServer s = serve(testConfig());
        int port = s.port();
        TestClient alice = client("alice");
        TestClient bob = client("bob");
        join(alice, "r", "alice");
        join(bob, "r", "bob");
        alice.expect("joined");
        alice.send("send", "room", "r", "text", "last words");
        alice.expect("message");
        alice.expect("ack");

        assertThat(s.close(Duration.ofSeconds(5))).as("every connection closed within the deadline").isTrue();
        assertThat(bob.expect("message").path("text").asText()).isEqualTo("last words");
        assertThat(bob.awaitCloseCode()).isEqualTo(1001);
        assertThat(alice.awaitCloseCode()).isEqualTo(1001);
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        assertThat(s.close(Duration.ofSeconds(1))).as("close is idempotent").isTrue();
    }

    @Test
    void closeCutsOffAClientThatDoesNotAnswerWithinTheDeadline() throws Exception {
        ChatServer s = serve(testConfig());
        RawClient mute = raw("mute", 64 << 10); // reads nothing, never answers the Close frame
        long start = System.nanoTime();
        CompletableFuture<Boolean> closing = CompletableFuture.supplyAsync(() -> s.close(Duration.ofMillis(200)));
        boolean drained = closing.get(10, TimeUnit.SECONDS);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        // The Close frame's grace (1 s) is longer than the deadline: the server cuts the client off at the deadline.
        assertThat(drained).as("reported as not drained in time").isFalse();
        assertThat(tookMillis).isLessThan(3_000);
        assertThat(mute.closedByServer()).isTrue();
    }

    private static List<String> names(JsonNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return names;
    }
}

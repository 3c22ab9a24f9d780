package dev.conclab.lab.experiments.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.load.LoadConfig;
import dev.conclab.chat.load.LoadGenerator;
import dev.conclab.chat.load.LoadReport;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A chat server under load, a client that stops reading, and the limits that keep one client from hurting the
 * others — on both models of the {@code chat} module, and on a small CPython asyncio server driven by the same load
 * generator.
 *
 * <ol>
 *   <li><b>BASELINE — a quick load.</b> {@code connections} WebSocket clients of the load generator
 *       ({@code dev.conclab.chat.load.LoadGenerator}, Netty clients on two threads) in {@code rooms} rooms, sending
 *       {@code rate} messages/s in all; every member receives every copy. Run against each {@link ChatModel}
 *       ({@code eventloop}: Netty's event loop; {@code vthreads}: Helidon, a virtual thread per connection) in this
 *       JVM, with delivery latency percentiles side by side. An observer client in one room records the ids it
 *       receives: they must increase.</li>
 *   <li><b>CPython.</b> {@code probes/chat_server.py}: asyncio + websockets 10.4, the same design (a bounded
 *       {@code asyncio.Queue} and a writer task per connection, fan-out by {@code put_nowait}), in one thread under
 *       the GIL. The same load generator drives it at the same load.</li>
 *   <li><b>A slow consumer, forced.</b> A raw-socket client with a 4 KiB receive buffer joins a room and never
 *       reads again; a sender posts 15,000-character messages (in batches of 5, each batch waiting for its last ack) until the server reports a
 *       slow-consumer close, then 20 more. Another member must receive every one of them. The server's outbox
 *       for one connection is small here ({@code outboundLimit} 32), so it fills after a few hundred KiB.</li>
 *   <li><b>Limits.</b> Per model, one client: a burst over the rate limit (20/s, burst 40) gets
 *       {@code rate-limited} errors, {@code {oops} gets {@code invalid-json}, a 17 KiB frame closes that
 *       connection with 1009; then a new client joins and is served.</li>
 * </ol>
 *
 * <p>The fan-out lesson itself (a synchronous fan-out stalled by one member, forced with latches) is
 * {@code fanout-races}, beside it.
 *
 * <p>Expect every copy delivered in every model; p99 latency of a few ms on an idle machine (tens to hundreds on a
 * loaded 2-core one: the load generator shares the cores with the server). Run: {@code ./conclab run chat-server}.
 */
public final class ChatServerExperiment implements Experiment {

    static final ClaimSpec DELIVERED_ALL = new ClaimSpec("delivered-all",
            "Under a quick load of hundreds of connections in rooms, each model delivers every expected copy of"
                    + " every message, with no error reply and no close.");
    static final ClaimSpec ROOM_ORDER = new ClaimSpec("room-order",
            "A member receives a room's messages in increasing id order in each model.");
    static final ClaimSpec CPYTHON_SERVES = new ClaimSpec("py-chat-serves",
            "The same load generator drives a CPython asyncio chat server (one thread, a bounded queue and a writer"
                    + " task per connection) and it also delivers every expected copy.");
    static final ClaimSpec SLOW_CONSUMER_CUT = new ClaimSpec("slow-consumer-cut",
            "A client that stops reading is disconnected as a slow consumer in each model, while another member of"
                    + " the room receives every message.");
    static final ClaimSpec LIMITS_HOLD = new ClaimSpec("limits-hold",
            "In each model, over-rate messages get a rate-limited error, malformed JSON an invalid-json error, an"
                    + " oversize frame a 1009 close, and the server goes on serving new clients.");

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int SLOW_OUTBOUND_LIMIT = 32;
    private static final int SLOW_TEXT_CHARS = 15_000;
    private static final int SLOW_BATCH = 5;
    private static final int SLOW_MAX_MESSAGES = 3_000;
    private static final int AFTER_CUT = 20;   // a multiple of SLOW_BATCH
    /** Four tokens of the default 20/s bucket. */
    private static final long REFILL_MILLIS = 200;

    @Override
    public String id() {
        return "chat-server";
    }

    @Override
    public String title() {
        return "A chat server under load, a client that stops reading, and the limits (both JVM models and CPython)";
    }

    @Override
    public String description() {
        return "Drives both chat models and a CPython asyncio chat server with the same load generator (delivery"
                + " latency, per-room order), forces a slow consumer and a stalled fan-out, and shows the limits.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("connections", "WebSocket clients of the load generator", 10, 2_000, 400, 120),
                new Param.IntParam("rooms", "rooms they are spread over", 1, 200, 20, 6),
                new Param.IntParam("rate", "messages per second sent in all", 1, 5_000, 200, 60),
                new Param.IntParam("seconds", "how long each load sends", 1, 60, 3, 1));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(DELIVERED_ALL, ROOM_ORDER, CPYTHON_SERVES, SLOW_CONSUMER_CUT, LIMITS_HOLD);
    }

    /** Three servers start and take a load each; a loaded 2-core machine needs far more than the usual minute. */
    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofMinutes(3) : Duration.ofMinutes(10);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int connections = ctx.intParam("connections");
        int rooms = Math.min(ctx.intParam("rooms"), connections);
        int rate = ctx.intParam("rate");
        Duration seconds = Duration.ofSeconds(ctx.intParam("seconds"));

        ctx.progress(0.02, "quick load on each model");
        loadEachModel(ctx, connections, rooms, rate, seconds);
        ctx.progress(0.45, "CPython asyncio chat server");
        loadCpython(ctx, connections, rooms, rate, seconds);
        ctx.progress(0.65, "a client that stops reading");
        slowConsumer(ctx);
        ctx.progress(0.9, "limits");
        limits(ctx);
        ctx.progress(1, "done");
    }

    // ---- 1. load on each model --------------------------------------------------------------------------------

    private static final String[] LOAD_COLUMNS = {"server", "connections held", "sent", "acked", "expected copies",
            "delivered", "errors", "closes", "p50 ms", "p99 ms", "max ms", "load avg"};

    private static void loadEachModel(RunContext ctx, int connections, int rooms, int rate, Duration seconds)
            throws Exception {
        Table.Builder load = Table.builder("The same load on each model (delivery latency: send to receipt, one"
                + " clock, client queueing included)", LOAD_COLUMNS);
        Table.Builder order = Table.builder("An observer in room load-0: the ids it received", "model",
                "messages seen", "first id", "last id", "ids increasing");
        List<String> failures = new ArrayList<>();
        List<String> orderFailures = new ArrayList<>();
        List<String> evidence = new ArrayList<>();
        for (ChatModel model : ChatModel.values()) {
            ctx.checkCancelled();
            ChatServer server = model.start(ChatConfig.defaults().withPort(0).withIoThreads(2));
            try (MessagingWsClient observer = MessagingWsClient.connect(server.uri(), "observer")) {
                observer.join("load-0", "observer");
                LoadReport report = LoadGenerator.run(LoadConfig.of(server.uri(), connections, rooms, rate, seconds)
                        .withWarmup(Duration.ofMillis(300)));
                LoadReport.Step s = report.steps().getFirst();
                load.row(model.id(), report.connectionsHeld(), s.sent(), s.acked(), s.expected(), s.delivered(),
                        report.errorsByCode().toString(), report.closesByCode().toString(), s.p50Millis(),
                        s.p99Millis(), s.maxMillis(), s.loadAverage());
                boolean ok = report.connectionsHeld() == connections && s.sent() > 0 && s.complete()
                        && s.acked() == s.sent() && report.errorsByCode().isEmpty() && report.closesByCode().isEmpty();
                evidence.add(String.format("%s: %d/%d held, %d sent, %d/%d copies, errors %s, closes %s, p99 %.1f ms",
                        model.id(), report.connectionsHeld(), connections, s.sent(), s.delivered(), s.expected(),
                        report.errorsByCode(), report.closesByCode(), s.p99Millis()));
                if (!ok) {
                    failures.add(model.id());
                }
                List<Long> ids = messageIds(observer.drain());
                boolean increasing = ids.size() > 1 && strictlyIncreasing(ids);
                order.row(model.id(), ids.size(), ids.isEmpty() ? "-" : ids.getFirst(),
                        ids.isEmpty() ? "-" : ids.getLast(), increasing ? "yes" : "NO");
                if (!increasing) {
                    orderFailures.add(model.id() + " (" + ids.size() + " messages)");
                }
            } finally {
                server.close(Duration.ofSeconds(3));
            }
        }
        ctx.table(load.build());
        ctx.table(order.build());
        ctx.claim(DELIVERED_ALL, Verdict.check(failures.isEmpty(), String.join("; ", evidence)
                + (failures.isEmpty() ? "" : " — incomplete: " + failures)));
        ctx.claim(ROOM_ORDER, Verdict.check(orderFailures.isEmpty(), orderFailures.isEmpty()
                ? "the observer's message ids increased in every model (table above)"
                : "ids out of order or too few: " + orderFailures));
    }

    private static List<Long> messageIds(List<JsonNode> messages) {
        List<Long> ids = new ArrayList<>();
        for (JsonNode m : messages) {
            if ("message".equals(m.path("type").asText())) {
                ids.add(m.path("id").asLong());
            }
        }
        return ids;
    }

    private static boolean strictlyIncreasing(List<Long> ids) {
        for (int i = 1; i < ids.size(); i++) {
            if (ids.get(i) <= ids.get(i - 1)) {
                return false;
            }
        }
        return true;
    }

    // ---- 2. CPython ---------------------------------------------------------------------------------------------

    private static void loadCpython(RunContext ctx, int connections, int rooms, int rate, Duration seconds)
            throws Exception {
        int port = freePort();
        int deadline = (int) (60 + seconds.toSeconds() * 2);
        CompletableFuture<ProbeOutcome> probe = new CompletableFuture<>();
        Thread runner = Thread.ofVirtual().name("chat-server-probe").start(() -> {
            try {
                probe.complete(PythonProbes.of(ctx).run("chat_server.py", List.of("websockets"),
                        Duration.ofSeconds(deadline + 30), "--port", String.valueOf(port), "--deadline",
                        String.valueOf(deadline)));
            } catch (Throwable t) {
                probe.completeExceptionally(t);
            }
        });
        try {
            if (!awaitListening(port, probe)) {
                ProbeOutcome outcome = probe.get(30, TimeUnit.SECONDS);
                if (outcome instanceof ProbeOutcome.Unavailable u) {
                    u.skip(ctx, CPYTHON_SERVES);
                    return;
                }
                throw new IOException("the CPython chat server did not listen on port " + port);
            }
            URI uri = URI.create("ws://127.0.0.1:" + port + "/chat");
            LoadReport report = LoadGenerator.run(LoadConfig.of(uri, connections, rooms, rate, seconds)
                    .withWarmup(Duration.ofMillis(300)));
            shutdownProbe(port);
            ProbeOutcome.Ran ran = (ProbeOutcome.Ran) probe.get(30, TimeUnit.SECONDS);
            JsonNode json = ran.json();
            LoadReport.Step s = report.steps().getFirst();
            Table.Builder t = Table.builder("The same load on CPython " + json.path("python").asText() + " (asyncio +"
                    + " websockets " + json.path("websockets").asText() + ", one thread)", LOAD_COLUMNS);
            t.row("cpython asyncio", report.connectionsHeld(), s.sent(), s.acked(), s.expected(), s.delivered(),
                    report.errorsByCode().toString(), report.closesByCode().toString(), s.p50Millis(), s.p99Millis(),
                    s.maxMillis(), s.loadAverage());
            ctx.table(t.build());
            ctx.note("CPython server counters: " + json.path("messages").asLong() + " messages, "
                    + json.path("deliveries").asLong() + " frames queued, deepest queue "
                    + json.path("deepest_queue").asLong() + " of " + json.path("outbound_limit").asLong()
                    + ", slow-consumer closes " + json.path("slow_consumer_closes").asLong());
            boolean ok = report.connectionsHeld() == connections && s.sent() > 0 && s.complete()
                    && s.acked() == s.sent() && report.errorsByCode().isEmpty() && report.closesByCode().isEmpty();
            ctx.claim(CPYTHON_SERVES, Verdict.check(ok, String.format("%d/%d held, %d sent, %d acked, %d/%d copies,"
                            + " errors %s, closes %s, p50 %.1f ms, p99 %.1f ms", report.connectionsHeld(), connections,
                    s.sent(), s.acked(), s.delivered(), s.expected(), report.errorsByCode(), report.closesByCode(),
                    s.p50Millis(), s.p99Millis())));
        } finally {
            if (!probe.isDone()) {
                shutdownProbe(port);
            }
            runner.join(Duration.ofSeconds(60));
        }
    }

    private static boolean awaitListening(int port, CompletableFuture<ProbeOutcome> probe)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !probe.isDone()) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                return true;
            } catch (IOException e) {
                Thread.sleep(20);   // not listening yet: the interpreter is starting
            }
        }
        return false;
    }

    /** {@code GET /shutdown}: the probe answers 200 and stops. */
    private static void shutdownProbe(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
            s.setSoTimeout(5_000);
            s.getOutputStream().write(("GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readAllBytes();
        } catch (IOException e) {
            // gone already: its deadline stops it otherwise
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // ---- 3. a slow consumer -----------------------------------------------------------------------------------

    private static void slowConsumer(RunContext ctx) throws Exception {
        Table.Builder t = Table.builder("A client that stops reading (outbound limit " + SLOW_OUTBOUND_LIMIT
                        + " frames, " + SLOW_TEXT_CHARS + "-char messages)", "model", "messages sent until the cut",
                "sent after the cut", "healthy member received", "ids increasing", "server slow-consumer closes",
                "close code the stalled client read");
        List<String> evidence = new ArrayList<>();
        boolean allOk = true;
        String text = "x".repeat(SLOW_TEXT_CHARS);
        for (ChatModel model : ChatModel.values()) {
            ctx.checkCancelled();
            ChatConfig config = ChatConfig.defaults().withPort(0).withIoThreads(2)
                    .withOutboundLimit(SLOW_OUTBOUND_LIMIT).withRate(100_000, 100_000).withMaxTextChars(SLOW_TEXT_CHARS + 10);
            ChatServer server = model.start(config);
            try (MessagingWsClient healthy = MessagingWsClient.connect(server.uri(), "healthy");
                 MessagingStalledClient stalled = joinStalled(server.uri(), healthy);
                 MessagingWsClient sender = MessagingWsClient.connect(server.uri(), "sender")) {
                sender.join("slow", "sender");
                int sent = 0;
                int untilCut = -1;
                while (sent < SLOW_MAX_MESSAGES && (untilCut < 0 || sent < untilCut + AFTER_CUT)) {
                    ctx.checkCancelled();
                    String ref = null;
                    for (int i = 0; i < SLOW_BATCH; i++) {   // a batch well under the healthy members' outbox
                        sent++;
                        ref = "s" + sent;
                        sender.send("{\"type\":\"send\",\"room\":\"slow\",\"ref\":\"" + ref
                                + "\",\"text\":\"" + sent + " " + text + "\"}");
                    }
                    String last = ref;
                    sender.await(m -> "ack".equals(m.path("type").asText()) && last.equals(m.path("ref").asText()),
                            WAIT);
                    if (untilCut < 0 && server.stats().slowConsumers() > 0) {
                        untilCut = sent;
                    }
                }
                int wanted = sent;
                List<JsonNode> got = healthy.await(m -> "message".equals(m.path("type").asText())
                        && m.path("text").asText().startsWith(wanted + " "), WAIT);
                List<Long> ids = messageIds(got);
                int code = stalled.readUntilClose();
                long cuts = server.stats().slowConsumers();
                boolean ok = untilCut > 0 && cuts == 1 && ids.size() == sent && strictlyIncreasing(ids);
                allOk &= ok;
                t.row(model.id(), untilCut > 0 ? untilCut : "never (" + sent + " sent)",
                        untilCut > 0 ? sent - untilCut : 0, ids.size() + " of " + sent,
                        strictlyIncreasing(ids) ? "yes" : "NO", cuts,
                        code < 0 ? "none (cut without a Close frame)" : code);
                evidence.add(model.id() + ": cut after " + untilCut + " messages (server slow-consumer closes " + cuts
                        + ", the client read close code " + (code < 0 ? "none" : code) + "), healthy member got "
                        + ids.size() + " of " + sent);
            } finally {
                server.close(Duration.ofSeconds(3));
            }
        }
        ctx.table(t.build());
        ctx.claim(SLOW_CONSUMER_CUT, Verdict.check(allOk, String.join("; ", evidence)));
    }

    /** The stalled client joins after the healthy one, which then sees its {@code joined}: the join is done. */
    private static MessagingStalledClient joinStalled(URI uri, MessagingWsClient healthy) throws Exception {
        healthy.join("slow", "healthy");
        MessagingStalledClient stalled = MessagingStalledClient.joinAndStall(uri, "stalled", "slow");
        try {
            healthy.await(m -> "joined".equals(m.path("type").asText()) && "stalled".equals(m.path("name").asText()),
                    WAIT);
            return stalled;
        } catch (IOException | RuntimeException e) {
            stalled.close();
            throw e;
        }
    }

    // ---- 5. limits --------------------------------------------------------------------------------------------

    private static void limits(RunContext ctx) throws Exception {
        Table.Builder t = Table.builder("Limits (default ChatConfig: 20 messages/s, burst 40, 16 KiB frames)",
                "model", "55 sends at once: acked", "rate-limited errors", "\"{oops\" answered with",
                "17 KiB frame: close code", "a new client afterwards");
        List<String> evidence = new ArrayList<>();
        boolean allOk = true;
        for (ChatModel model : ChatModel.values()) {
            ctx.checkCancelled();
            ChatServer server = model.start(ChatConfig.defaults().withPort(0).withIoThreads(2));
            try (MessagingWsClient c = MessagingWsClient.connect(server.uri(), "limits")) {
                c.join("lim", "limits");
                int burst = 55;
                for (int i = 1; i <= burst; i++) {
                    c.send("{\"type\":\"send\",\"room\":\"lim\",\"ref\":\"b" + i + "\",\"text\":\"hi\"}");
                }
                int acked = 0;
                int limited = 0;
                while (acked + limited < burst) {   // a refused message is dropped unread: its error has no ref
                    JsonNode m = c.await(x -> "ack".equals(x.path("type").asText())
                            || "error".equals(x.path("type").asText()), WAIT).getLast();
                    if ("ack".equals(m.path("type").asText())) {
                        acked++;
                    } else if ("rate-limited".equals(m.path("code").asText())) {
                        limited++;
                    } else {
                        throw new IOException("unexpected answer to a burst send: " + m);
                    }
                }
                Thread.sleep(REFILL_MILLIS);          // the bucket refills (20/s): the next messages are admitted
                c.send("{\"type\":\"who\",\"room\":\"lim\",\"ref\":\"w\"}");   // accepted: strikes reset
                c.await(x -> "presence".equals(x.path("type").asText()), WAIT);
                c.send("{oops");
                String malformed = c.await(x -> "error".equals(x.path("type").asText()), WAIT).getLast()
                        .path("code").asText();
                c.send("{\"type\":\"send\",\"room\":\"lim\",\"text\":\"" + "y".repeat(17 << 10) + "\"}");
                int code = c.awaitClose(WAIT);
                boolean served;
                try (MessagingWsClient fresh = MessagingWsClient.connect(server.uri(), "fresh")) {
                    fresh.join("lim2", "fresh");
                    fresh.send("{\"type\":\"send\",\"room\":\"lim2\",\"ref\":\"f\",\"text\":\"still here?\"}");
                    served = "ack".equals(fresh.await(x -> "f".equals(x.path("ref").asText()), WAIT).getLast()
                            .path("type").asText());
                }
                boolean ok = limited > 0 && acked > 0 && "invalid-json".equals(malformed) && code == 1009 && served;
                allOk &= ok;
                t.row(model.id(), acked, limited, malformed, code, served ? "served (ack)" : "NOT served");
                evidence.add(String.format("%s: %d acked, %d rate-limited, {oops → %s, oversize → %d, new client %s",
                        model.id(), acked, limited, malformed, code, served ? "served" : "not served"));
            } finally {
                server.close(Duration.ofSeconds(3));
            }
        }
        ctx.table(t.build());
        ctx.claim(LIMITS_HOLD, Verdict.check(allOk, String.join("; ", evidence)));
    }
}


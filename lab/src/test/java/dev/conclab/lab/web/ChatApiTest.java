package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.contract.TestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code /api/systems/chat/server}: the web lab starts a chat server of each model in its JVM on 127.0.0.1 and a
 * free port, a real WebSocket client chats on it and the stats count that, one at a time (409), bad bodies (400),
 * DELETE and {@link WebLab#close()} stop it (the port refuses connections, no thread is left), an idle one stops
 * itself, and one with a client connected past the idle limit does not. A lab served beyond loopback says so (for
 * the page's warning) and still starts its chat on 127.0.0.1.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ChatApiTest extends WebApiTestBase {

    private static final String PATH = "/api/systems/chat/server";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @AfterEach
    void stopTheChat() {
        if (api.get(PATH).json().get("running").asBoolean()) {
            assertThat(api.delete(PATH).status()).isEqualTo(200);
        }
    }

    @ParameterizedTest
    @EnumSource(ChatModel.class)
    void eachModelStartsOnLoopbackAndItsStatsCountAChat(ChatModel model) throws Exception {
        assertThat(api.get(PATH).json().get("running").asBoolean()).isFalse();

        Api.Answer started = api.post(PATH, "{\"model\": \"" + model.id() + "\"}");

        assertThat(started.status()).as(started.body()).isEqualTo(201);
        JsonNode chat = started.json();
        int port = chat.get("port").asInt();
        assertThat(port).isPositive().isNotEqualTo(lab.lab.port());
        assertThat(chat.get("running").asBoolean()).isTrue();
        assertThat(chat.get("labOnLoopback").asBoolean()).as("the test lab is on 127.0.0.1").isTrue();
        assertThat(chat.get("model").asText()).isEqualTo(model.id());
        assertThat(chat.get("url").asText()).isEqualTo("http://127.0.0.1:" + port + "/");
        assertThat(chat.get("websocket").asText()).isEqualTo("ws://127.0.0.1:" + port + "/chat");
        assertThat(Instant.parse(chat.get("startedAt").asText())).isBeforeOrEqualTo(Instant.now());
        assertThat(chat.get("stats").get("connections").asInt()).isZero();
        assertThat(api.get(PATH).json().get("port").asInt()).isEqualTo(port);

        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(chat.get("url").asText())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).as("the chat's own browser client").isEqualTo(200);
            assertThat(page.body()).contains("<html");

            URI websocket = URI.create(chat.get("websocket").asText());
            try (TestClient client = TestClient.connect(http, websocket, "reader")) {
                client.send("join", "room", "lab");
                client.expect("joined");
                client.send("send", "room", "lab", "text", "hello from the lab", "ref", "1");
                assertThat(client.expect("message").get("text").asText()).isEqualTo("hello from the lab");
                client.expect("ack");

                // received counts before a message is handled and the client has its answers: exact at once
                JsonNode stats = api.get(PATH).json().get("stats");
                assertThat(stats.get("connections").asInt()).isEqualTo(1);
                assertThat(stats.get("accepted").asLong()).isEqualTo(1);
                assertThat(stats.get("received").asLong()).isEqualTo(2);
                // delivered counts after a frame is queued, so it may trail what the client read by a moment
                assertThat(statsUntil(s -> s.get("delivered").asLong() >= 4).get("delivered").asLong())
                        .isEqualTo(4); // welcome, joined, message, ack
            }
            assertThat(statsUntil(s -> s.get("connections").asInt() == 0).get("accepted").asLong()).isEqualTo(1);
        }
    }

    @Test
    void aSecondStartIsRefusedNamingTheOneRunning() {
        JsonNode first = api.post(PATH, "{\"model\": \"eventloop\"}").json();

        Api.Answer second = api.post(PATH, "{\"model\": \"vthreads\"}");

        assertError(second, 409, "a chat server is already running (eventloop on " + first.get("url").asText()
                + " since " + first.get("startedAt").asText() + "); stop it first");
        assertThat(api.get(PATH).json().get("port").asInt()).isEqualTo(first.get("port").asInt());
    }

    @Test
    void badBodiesAreRefusedWithOneLineAndStartNothing() {
        String models = "eventloop, vthreads, platform";
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("{\"model\": \"threads\"}", "unknown model 'threads' (models: " + models + ")");
        refused.put("{\"model\": \"vthreads\", \"port\": 8080}", "unknown field 'port' in the body (fields: model)");
        refused.put("{\"host\": \"0.0.0.0\"}", "unknown field 'host' in the body (fields: model)");
        refused.put("{}", "the body lacks \"model\": one of " + models);
        refused.put("{\"model\": 1}", "the body lacks \"model\": one of " + models);
        refused.put("[\"vthreads\"]",
                "the body must be a JSON object: {\"model\": \"eventloop\" | \"vthreads\" | \"platform\"}");
        refused.forEach((body, error) -> assertError(api.post(PATH, body), 400, error));
        Api.Answer notJson = api.post(PATH, "{model: vthreads");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.error()).startsWith("the body is not JSON (").doesNotContain("\n");
        Api.Answer empty = api.post(PATH, "");
        assertThat(empty.status()).isEqualTo(400);
        assertThat(empty.error()).startsWith("the body ");

        assertThat(api.get(PATH).json().get("running").asBoolean()).as("nothing started").isFalse();
    }

    @Test
    void theRequestGuardProtectsStartAndStop() {
        Api.Answer crossSite = api.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.lab.port() + PATH))
                .header("Content-Type", "application/json").header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"vthreads\"}")));
        assertThat(crossSite.status()).isEqualTo(403);
        Api.Answer form = api.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.lab.port() + PATH))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"vthreads\"}")));
        assertThat(form.status()).isEqualTo(415);
        assertThat(api.get(PATH).json().get("running").asBoolean()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"eventloop", "vthreads"})
    void deleteStopsItAndItsPortRefusesConnections(String model) {
        int port = api.post(PATH, "{\"model\": \"" + model + "\"}").json().get("port").asInt();
        assertThat(accepts(port)).as("positive control: the chat listens").isTrue();

        Api.Answer stopped = api.delete(PATH);

        assertThat(stopped.status()).as(stopped.body()).isEqualTo(200);
        assertThat(stopped.json().get("running").asBoolean()).isFalse();
        assertThat(stopped.json().get("stopped").asText()).isEqualTo(model);
        assertThat(stopped.json().get("stats").has("received")).isTrue();
        assertThat(accepts(port)).as("port " + port + " after DELETE").isFalse();
        JsonNode after = api.get(PATH).json();
        assertThat(after.get("running").asBoolean()).isFalse();
        assertThat(after.get("lastStop").asText()).isEqualTo(model + " on http://127.0.0.1:" + port
                + "/ stopped from the web lab");
        assertError(api.delete(PATH), 404, "no chat server is running");
    }

    @ParameterizedTest
    @ValueSource(strings = {"eventloop", "vthreads"})
    void closingTheLabStopsItsChatAndLeavesNoThread(String model, @TempDir Path otherHome) throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        TestLab other = new TestLab(otherHome, 1);
        int port;
        try (Api client = new Api(other.lab); HttpClient http = HttpClient.newHttpClient()) {
            port = client.post(PATH, "{\"model\": \"" + model + "\"}").json().get("port").asInt();
            try (TestClient chatter = TestClient.connect(http, URI.create("ws://127.0.0.1:" + port + "/chat"),
                    null)) {
                other.close();

                assertThat(chatter.awaitCloseCode()).as("the client is told the server goes away").isEqualTo(1001);
            }
        } finally {
            other.close();
        }
        assertThat(accepts(port)).as("the chat's port after the lab closed").isFalse();
        assertThat(WebLabLifecycleTest.threadsLeft(before)).as("threads left after closing the lab and its "
                + model + " chat").isEmpty();
    }

    /**
     * The chat server stays on 127.0.0.1 when the lab is served on every interface ({@code serve --host 0.0.0.0}),
     * and the API says the lab is not on loopback, so that the page can warn the link only works on its machine.
     */
    @Test
    void aLabServedBeyondLoopbackSaysSoAndStillStartsItsChatOnLoopback(@TempDir Path otherHome) {
        assertThat(api.get(PATH).json().get("labOnLoopback").asBoolean()).as("positive control: 127.0.0.1").isTrue();
        try (TestLab wide = new TestLab(otherHome, 1, "0.0.0.0"); Api client = new Api(wide.lab)) {
            assertThat(wide.lab.loopback()).isFalse();
            JsonNode idle = client.get(PATH).json();
            assertThat(idle.get("running").asBoolean()).isFalse();
            assertThat(idle.get("labOnLoopback").asBoolean()).isFalse();

            Api.Answer started = client.post(PATH, "{\"model\": \"vthreads\"}");

            assertThat(started.status()).as(started.body()).isEqualTo(201);
            assertThat(started.json().get("labOnLoopback").asBoolean()).isFalse();
            assertThat(started.json().get("url").asText()).startsWith("http://127.0.0.1:");
            assertThat(client.get(PATH).json().get("labOnLoopback").asBoolean()).isFalse();
            assertThat(client.delete(PATH).status()).isEqualTo(200);
        }
    }

    @Test
    void aChatWithNoConnectionStopsItselfAfterTheIdleLimit() throws Exception {
        try (ChatHost host = new ChatHost(Duration.ofMillis(200))) {
            ChatHost.Outcome outcome = host.start(ChatModel.EVENTLOOP);
            int port = ((ChatHost.Outcome.Started) outcome).running().port();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (host.current().isPresent() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(host.current()).as("stopped by the idle limit within " + WAIT).isEmpty();
            assertThat(host.lastStop()).isEqualTo("eventloop on http://127.0.0.1:" + port
                    + "/ stopped after 200 ms with no connection");
            assertThat(accepts(port)).isFalse();
            assertThat(host.start(ChatModel.VTHREADS)).as("a new one may start").isInstanceOf(
                    ChatHost.Outcome.Started.class);
        }
    }

    /**
     * The idle limit counts time with no connection only: driven on a clock of the test's and checked by the test
     * (the watchdog's own wake-ups, every 30 s at this limit, check the same clock, so they change nothing).
     */
    @Test
    void aChatWithAClientConnectedPastTheIdleLimitKeepsRunning() throws Exception {
        Duration limit = Duration.ofMinutes(30);
        AtomicLong now = new AtomicLong();
        try (ChatHost host = new ChatHost(limit, now::get); HttpClient http = HttpClient.newHttpClient()) {
            ChatHost.Running running = ((ChatHost.Outcome.Started) host.start(ChatModel.EVENTLOOP)).running();
            try (TestClient client = TestClient.connect(http,
                    URI.create("ws://127.0.0.1:" + running.port() + "/chat"), null)) {
                connectionsUntil(running, 1);
                now.addAndGet(2 * limit.toNanos());

                assertThat(host.checkIdle()).as("stopped with a client connected").isFalse();
                assertThat(host.current()).contains(running);
                assertThat(accepts(running.port())).isTrue();
            }
            connectionsUntil(running, 0);
            now.addAndGet(limit.toNanos() - 1); // idle from the last check that saw the client
            assertThat(host.checkIdle()).as("stopped 1 ns before the idle limit").isFalse();
            assertThat(host.current()).contains(running);

            now.incrementAndGet();
            assertThat(host.checkIdle()).as("stopped at the idle limit").isTrue();
            assertThat(host.current()).isEmpty();
            assertThat(host.lastStop()).isEqualTo("eventloop on " + running.url()
                    + " stopped after 30 minutes with no connection");
            assertThat(accepts(running.port())).isFalse();
        }
    }

    @Test
    void aClosedHostStartsNothing() {
        ChatHost host = new ChatHost(Duration.ofMinutes(1));
        host.close();
        assertThat(host.start(ChatModel.VTHREADS)).isInstanceOf(ChatHost.Outcome.Closed.class);
        assertThat(host.current()).isEmpty();
        assertThatThrownBy(() -> new ChatHost(Duration.ZERO)).hasMessage("idleLimit must be at least 1 ms, got PT0S");
    }

    /** Reads the chat's stats until {@code done} holds, for at most {@link #WAIT}. */
    private static JsonNode statsUntil(Predicate<JsonNode> done) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode stats;
        do {
            stats = api.get(PATH).json().get("stats");
        } while (!done.test(stats) && System.nanoTime() < deadline);
        assertThat(done).as("stats never got there: " + stats).accepts(stats);
        return stats;
    }

    /** Waits until {@code running} counts {@code n} connections, for at most {@link #WAIT}. */
    private static void connectionsUntil(ChatHost.Running running, int n) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (running.server().stats().connections() != n && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(running.server().stats().connections()).as("connections").isEqualTo(n);
    }

    /** Whether something listens on 127.0.0.1:{@code port}. */
    static boolean accepts(int port) {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            throw new AssertionError("port " + port + ": " + e, e);
        }
    }
}

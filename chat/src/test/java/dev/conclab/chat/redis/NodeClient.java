package dev.conclab.chat.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A JSON chat client for the Redis tests (java.net.http WebSocket): messages queue up until taken. */
final class NodeClient implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(10);

    private final WebSocket ws;
    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();

    private NodeClient(HttpClient http, URI uri) {
        ws = http.newWebSocketBuilder().connectTimeout(WAIT).buildAsync(uri, new WebSocket.Listener() {
            private final StringBuilder parts = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                parts.append(data);
                if (last) {
                    try {
                        inbox.add(JSON.readTree(parts.toString()));
                    } catch (Exception e) {
                        inbox.add(JSON.createObjectNode().put("type", "unparsable"));
                    }
                    parts.setLength(0);
                }
                w.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                closed.complete(code);
                return null;
            }

            @Override
            public void onError(WebSocket w, Throwable error) {
                closed.completeExceptionally(error);
            }
        }).join();
    }

    /** Connects as {@code name} and checks the welcome gives that name. */
    static NodeClient connect(HttpClient http, int port, String name) throws InterruptedException {
        NodeClient c = new NodeClient(http, URI.create("ws://127.0.0.1:" + port + "/chat?name=" + name));
        JsonNode welcome = c.expect("welcome");
        if (!welcome.path("name").asText().equals(name)) {
            throw new AssertionError("welcomed as " + welcome + ", not " + name);
        }
        return c;
    }

    void send(String type, String... fieldsAndValues) {
        ObjectNode node = JSON.createObjectNode().put("type", type);
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            node.put(fieldsAndValues[i], fieldsAndValues[i + 1]);
        }
        ws.sendText(node.toString(), true).join();
    }

    JsonNode next() throws InterruptedException {
        JsonNode m = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (m == null) {
            throw new AssertionError("no message within " + WAIT + (closed.isDone() ? " (closed: "
                    + closed.handle((c, e) -> c != null ? "code " + c : String.valueOf(e)).join() + ")" : ""));
        }
        return m;
    }

    JsonNode expect(String type) throws InterruptedException {
        JsonNode m = next();
        if (!m.path("type").asText().equals(type)) {
            throw new AssertionError("expected a " + type + " message, got " + m);
        }
        return m;
    }

    /** The next message of {@code type}, skipping others (returned in no order guarantee to the caller). */
    JsonNode nextOf(String type) throws InterruptedException {
        while (true) {
            JsonNode m = next();
            if (m.path("type").asText().equals(type)) {
                return m;
            }
        }
    }

    int pending() {
        return inbox.size();
    }

    @Override
    public void close() {
        if (!ws.isOutputClosed()) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
        }
        ws.abort();
    }
}

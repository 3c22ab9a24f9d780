package dev.conclab.chat.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A chat client on the JDK's standard {@link WebSocket} (java.net.http): every text message received is parsed and
 * queued with its arrival time; the close code (or the error) completes {@link #closed()}. The JDK client answers
 * pings by itself. Public (in chat's test-jar) for the web lab's tests of the chat it starts.
 */
public final class TestClient implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(5);

    /** A received message and when it arrived (nanoTime). */
    record Received(JsonNode json, long nanos) {}

    final WebSocket ws;
    private final LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();

    private TestClient(HttpClient http, URI uri) {
        this.ws = http.newWebSocketBuilder().connectTimeout(WAIT).buildAsync(uri, new Listener()).join();
    }

    /** Connects to {@code uri} (plus {@code ?name=} when {@code name} is not null) and reads the welcome. */
    public static TestClient connect(HttpClient http, URI uri, String name) throws InterruptedException {
        URI target = name == null ? uri : URI.create(uri + "?name=" + name);
        TestClient c = new TestClient(http, target);
        JsonNode welcome = c.next();
        if (!welcome.path("type").asText().equals("welcome")) {
            throw new AssertionError("first message is not a welcome: " + welcome);
        }
        return c;
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder parts = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            parts.append(data);
            if (last) {
                String text = parts.toString();
                parts.setLength(0);
                try {
                    inbox.add(new Received(JSON.readTree(text), System.nanoTime()));
                } catch (Exception e) {
                    inbox.add(new Received(JSON.createObjectNode().put("type", "unparsable").put("raw", text),
                            System.nanoTime()));
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    /** Sends a JSON message built from alternating field names and values. */
    public void send(String type, String... fieldsAndValues) {
        ObjectNode node = JSON.createObjectNode().put("type", type);
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            node.put(fieldsAndValues[i], fieldsAndValues[i + 1]);
        }
        sendRaw(node.toString());
    }

    void sendRaw(String text) {
        ws.sendText(text, true).join();
    }

    void sendBinary(byte[] bytes) {
        ws.sendBinary(ByteBuffer.wrap(bytes), true).join();
    }

    /** The next message, waiting up to {@link #WAIT}; fails when none arrives. */
    JsonNode next() throws InterruptedException {
        return nextReceived().json();
    }

    Received nextReceived() throws InterruptedException {
        Received r = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (r == null) {
            throw new AssertionError("no message within " + WAIT + (closed.isDone() ? " (closed: "
                    + closed.handle((c, e) -> c != null ? "code " + c : String.valueOf(e)).join() + ")" : ""));
        }
        return r;
    }

    /** The next message, which must be of {@code type}. */
    public JsonNode expect(String type) throws InterruptedException {
        JsonNode m = next();
        if (!m.path("type").asText().equals(type)) {
            throw new AssertionError("expected a " + type + " message, got " + m);
        }
        return m;
    }

    /** The next message that is not of {@code skipType} (e.g. skip presence events while waiting for a message). */
    JsonNode nextSkipping(String skipType) throws InterruptedException {
        while (true) {
            JsonNode m = next();
            if (!m.path("type").asText().equals(skipType)) {
                return m;
            }
        }
    }

    /** Messages received and not yet taken. */
    int pending() {
        return inbox.size();
    }

    CompletableFuture<Integer> closed() {
        return closed;
    }

    /** The close code the server sent, waiting up to {@link #WAIT}. */
    public int awaitCloseCode() throws Exception {
        return closed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Drains the inbox, returns the close code, ignoring messages (for clients closed while busy). */
    @Override
    public void close() {
        if (!ws.isOutputClosed()) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
        }
        ws.abort();
    }
}

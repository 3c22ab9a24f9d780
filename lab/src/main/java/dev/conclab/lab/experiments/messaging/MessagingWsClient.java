package dev.conclab.lab.experiments.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * One chat client of the messaging experiments, on the JDK's {@code java.net.http.WebSocket}: it keeps every JSON
 * message the server sent, in arrival order, and the close code the server sent.
 *
 * <p><b>Thread safety.</b> {@link #send} may be called by one thread at a time (the JDK allows one outstanding
 * send; this class waits for each); the waiting methods may be called from any thread. Received messages are
 * queued by the HttpClient's threads. {@link #close} closes the connection and the client's {@code HttpClient}
 * (and so its selector thread).
 */
final class MessagingWsClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final WebSocket socket;
    private final LinkedBlockingQueue<JsonNode> inbox;
    private final CompletableFuture<Integer> closeCode;

    private MessagingWsClient(HttpClient http, WebSocket socket, Listener listener) {
        this.http = http;
        this.socket = socket;
        this.inbox = listener.inbox;
        this.closeCode = listener.closeCode;
    }

    /** Connects to {@code uri?name=name}; returns once the handshake is done. */
    static MessagingWsClient connect(URI uri, String name) throws IOException, InterruptedException {
        Objects.requireNonNull(uri, "uri");
        HttpClient http = HttpClient.newHttpClient();
        Listener listener = new Listener();
        try {
            WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(uri + "?name=" + name), listener).get(10, TimeUnit.SECONDS);
            return new MessagingWsClient(http, ws, listener);
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            http.close();
            throw new IOException("cannot connect to " + uri + ": " + e, e);
        }
    }

    /** Sends one text frame and waits until the JDK has written it. */
    void send(String text) throws IOException {
        try {
            socket.sendText(text, true).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending", e);
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            throw new IOException("send failed: " + e, e);
        }
    }

    /** Sends {@code {"type":"join","room":room}} and waits for this client's own {@code joined}. */
    void join(String room, String myName) throws IOException, InterruptedException {
        send("{\"type\":\"join\",\"room\":\"" + room + "\"}");
        await(m -> "joined".equals(m.path("type").asText()) && room.equals(m.path("room").asText())
                && myName.equals(m.path("name").asText()), Duration.ofSeconds(10));
    }

    /**
     * Takes received messages until one matches; the ones before it are returned too, in order (the last element
     * is the match).
     *
     * @throws IOException when none matches within {@code timeout}
     */
    List<JsonNode> await(Predicate<JsonNode> match, Duration timeout) throws IOException, InterruptedException {
        List<JsonNode> seen = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode m = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null) {
                throw new IOException("no matching message within " + timeout.toMillis() + " ms; got " + seen.size()
                        + " others" + (closeCode.isDone() ? ", closed with " + closeCode.getNow(-1) : ""));
            }
            seen.add(m);
            if (match.test(m)) {
                return seen;
            }
        }
    }

    /** Messages received so far and not yet taken, in order. */
    List<JsonNode> drain() {
        List<JsonNode> out = new ArrayList<>();
        inbox.drainTo(out);
        return out;
    }

    /** The server's close code, waiting up to {@code timeout}; -1 if none came (1006 from the JDK: no Close frame). */
    int awaitClose(Duration timeout) throws InterruptedException {
        try {
            return closeCode.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            if (!socket.isOutputClosed()) {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            }
            closeCode.get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort: the abort below ends it either way
        } finally {
            socket.abort();
            http.close();
        }
    }

    /** Reassembles text parts; asks for one more frame after each. */
    private static final class Listener implements WebSocket.Listener {
        final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        private final StringBuilder parts = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            parts.append(data);
            if (last) {
                String text = parts.toString();
                parts.setLength(0);
                try {
                    inbox.add(JSON.readTree(text));
                } catch (IOException e) {
                    inbox.add(JSON.createObjectNode().put("type", "unparsable").put("text", text));
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closeCode.complete(1006);
        }
    }
}

package dev.conclab.chat.helidon;

import dev.conclab.chat.ChatConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the vthreads model enforces itself because Helidon's WebSocket does not: a fragmented message is reassembled,
 * and its parts together are bounded by the message size limit (1009), although each frame is under it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HelidonFragmentsTest {

    private HelidonChatServer server;
    private HttpClient http;

    @BeforeEach
    void start() {
        server = HelidonChatServer.start(ChatConfig.defaults().withPort(0).withMaxFrameBytes(4_096)
                .withMaxTextChars(4_000));
        http = HttpClient.newHttpClient();
    }

    @AfterEach
    void stop() {
        http.close();
        server.close(Duration.ofSeconds(2));
    }

    private record Client(WebSocket ws, BlockingQueue<String> texts, CompletableFuture<Integer> closed) {
    }

    private Client connect(String name) throws Exception {
        BlockingQueue<String> texts = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        StringBuilder partial = new StringBuilder();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(
                java.net.URI.create(server.uri() + "?name=" + name), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            texts.add(partial.toString());
                            partial.setLength(0);
                        }
                        w.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                        closed.complete(code);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        assertThat(texts.poll(5, TimeUnit.SECONDS)).contains("welcome");
        return new Client(ws, texts, closed);
    }

    @Test
    void aFragmentedMessageIsReassembled() throws Exception {
        Client c = connect("alice");
        c.ws().sendText("{\"type\":\"who\",", false).get(5, TimeUnit.SECONDS);
        c.ws().sendText("\"room\":\"r\",\"ref\":\"frag\"}", true).get(5, TimeUnit.SECONDS);
        String reply = c.texts().poll(5, TimeUnit.SECONDS);
        assertThat(reply).contains("\"presence\"").contains("\"frag\"");
        c.ws().abort();
    }

    @Test
    void fragmentsOverTheMessageLimitCloseWith1009() throws Exception {
        Client c = connect("bob");
        String part = "x".repeat(3_000); // each frame is under the 4,096-byte limit; two of them are not
        c.ws().sendText("{\"type\":\"send\",\"room\":\"r\",\"text\":\"" + part, false).get(5, TimeUnit.SECONDS);
        c.ws().sendText(part + "\"}", true).get(5, TimeUnit.SECONDS);
        assertThat(c.closed().get(5, TimeUnit.SECONDS)).isEqualTo(1009);
    }
}

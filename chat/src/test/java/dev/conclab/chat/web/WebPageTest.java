package dev.conclab.chat.web;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The page's resources and its HTTP answers, alone and through the event-loop model. */
class WebPageTest {

    private final WebPage page = WebPage.of("/chat");

    @Test
    void servesThePageAndItsFilesOnGetOnly() {
        WebPage.Response index = page.respond("GET", "/?name=alice");
        assertThat(index.status()).isEqualTo(200);
        assertThat(index.headers()).containsEntry("Content-Type", "text/html; charset=utf-8")
                .containsKey("Content-Security-Policy");
        assertThat(new String(index.body(), StandardCharsets.UTF_8))
                .contains("<meta name=\"chat-path\" content=\"/chat\">").doesNotContain("{{");
        assertThat(page.respond("GET", "/index.html").status()).isEqualTo(200);
        assertThat(page.respond("GET", "/chat.js").headers()).containsEntry("Content-Type",
                "text/javascript; charset=utf-8");
        assertThat(page.respond("GET", "/chat.css").headers()).containsEntry("Content-Type", "text/css; charset=utf-8");

        assertThat(page.respond("GET", "/nope").status()).isEqualTo(404);
        assertThat(page.respond("GET", "/chat.js/x").status()).isEqualTo(404);
        WebPage.Response post = page.respond("POST", "/");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.headers()).containsEntry("Allow", "GET");
        assertThat(page.respond("get", "/").status()).as("methods are case-sensitive").isEqualTo(405);
    }

    @Test
    void theWebSocketPathIsEscapedIntoThePage() {
        String html = new String(WebPage.of("/a\"b<c>").respond("GET", "/").body(), StandardCharsets.UTF_8);
        assertThat(html).contains("content=\"/a&quot;b&lt;c&gt;\"");
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> WebPage.of("chat")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("websocketPath");
        assertThatThrownBy(() -> WebPage.of(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> page.respond(null, "/")).isInstanceOf(NullPointerException.class);
    }

    @Test
    void theScriptNeverParsesTextAsHtmlAndLoadsNothingFromElsewhere() throws IOException {
        for (String name : new String[]{"index.html", "chat.js", "chat.css"}) {
            String text = resource(name);
            assertThat(text).as(name).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML",
                    "document.write", "eval(", "http://", "https://");
        }
    }

    @ParameterizedTest
    @EnumSource(ChatModel.class)
    void everyModelServesThePage(ChatModel model) throws Exception {
        try (ChatServer server = model.start(ChatConfig.defaults().withPort(0).withIoThreads(1));
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> index = http.send(get(base + "/").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(index.statusCode()).isEqualTo(200);
            assertThat(index.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
            assertThat(index.body()).contains("<title>conclab chat</title>");
            assertThat(http.send(get(base + "/chat.js").build(), HttpResponse.BodyHandlers.ofString()).body())
                    .contains("new WebSocket(");
            assertThat(http.send(get(base + "/nope").build(), HttpResponse.BodyHandlers.discarding()).statusCode())
                    .isEqualTo(404);
            HttpResponse<Void> post = http.send(get(base + "/").POST(HttpRequest.BodyPublishers.ofString("x"))
                    .build(), HttpResponse.BodyHandlers.discarding());
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("allow")).hasValue("GET");
        }
    }

    private static HttpRequest.Builder get(String uri) {
        return HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10));
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = WebPage.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

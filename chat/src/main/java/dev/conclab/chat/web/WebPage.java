package dev.conclab.chat.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The browser page of the chat: plain HTML, JavaScript and CSS from the classpath
 * ({@code dev/conclab/chat/web/}), answered for any serving model without depending on one. A model hands each plain
 * HTTP request's method and target to {@link #respond(String, String)} and writes the {@link Response} it gets back
 * (status, headers, body) as it is.
 *
 * <p>Served: {@code GET /} (also {@code /index.html}) the page, {@code GET /chat.js} and {@code GET /chat.css}.
 * Any other path is 404; a served path asked with another method is 405 with {@code Allow: GET}. The page connects
 * to the WebSocket at the path this instance was made for (the model's {@code ChatConfig.path()}), on the host and
 * port the page came from, and speaks {@code chat/PROTOCOL.md}. Responses forbid loading anything from elsewhere
 * (a Content-Security-Policy of {@code 'self'} only) and are not cached, so a rebuilt server is seen at once.
 *
 * <p><b>Thread safety.</b> Immutable once made: {@link #respond} may be called from any number of threads at once
 * and never blocks (the resources are read when the class is first used). {@link #of(String)} caches one instance
 * per WebSocket path.
 */
public final class WebPage {

    /**
     * One HTTP answer. {@code headers} hold everything but the length: a model sets {@code Content-Length} from
     * {@code body.length}. The body array is shared: do not modify it.
     */
    public record Response(int status, Map<String, String> headers, byte[] body) {
        public Response {
            Objects.requireNonNull(headers, "headers");
            Objects.requireNonNull(body, "body");
            headers = Map.copyOf(headers);
        }
    }

    /** Nothing from other origins; the WebSocket goes to the page's own host and port ('self' covers ws:). */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** Where the WebSocket path goes in index.html, inside a meta tag's content attribute. */
    private static final String PATH_PLACEHOLDER = "{{CHAT_PATH}}";

    private static final String INDEX = read("index.html");
    private static final byte[] SCRIPT = read("chat.js").getBytes(StandardCharsets.UTF_8);
    private static final byte[] STYLE = read("chat.css").getBytes(StandardCharsets.UTF_8);
    private static final Map<String, WebPage> BY_PATH = new ConcurrentHashMap<>();

    private final byte[] index;

    private WebPage(String websocketPath) {
        this.index = INDEX.replace(PATH_PLACEHOLDER, escapeAttribute(websocketPath)).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The page for a server whose WebSocket endpoint is at {@code websocketPath} (e.g. {@code /chat}).
     *
     * @throws NullPointerException     if {@code websocketPath} is null
     * @throws IllegalArgumentException if it does not start with {@code /}
     */
    public static WebPage of(String websocketPath) {
        Objects.requireNonNull(websocketPath, "websocketPath");
        if (!websocketPath.startsWith("/")) {
            throw new IllegalArgumentException("websocketPath must start with '/', got " + websocketPath);
        }
        return BY_PATH.computeIfAbsent(websocketPath, WebPage::new);
    }

    /**
     * The answer to one plain HTTP request.
     *
     * @param method the request method, e.g. {@code GET} (case-sensitive, as HTTP methods are)
     * @param target the request target as sent, e.g. {@code /?name=alice}; the query is ignored
     * @throws NullPointerException if an argument is null
     */
    public Response respond(String method, String target) {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        return switch (path) {
            case "/", "/index.html" -> serve(method, "text/html; charset=utf-8", index);
            case "/chat.js" -> serve(method, "text/javascript; charset=utf-8", SCRIPT);
            case "/chat.css" -> serve(method, "text/css; charset=utf-8", STYLE);
            default -> text(404, "not found: the chat page is at /\n", Map.of());
        };
    }

    private static Response serve(String method, String contentType, byte[] body) {
        if (!method.equals("GET")) {
            return text(405, "method not allowed: only GET\n", Map.of("Allow", "GET"));
        }
        return new Response(200, Map.of(
                "Content-Type", contentType,
                "Cache-Control", "no-store",
                "X-Content-Type-Options", "nosniff",
                "Content-Security-Policy", CONTENT_SECURITY_POLICY), body);
    }

    private static Response text(int status, String message, Map<String, String> extra) {
        var headers = new HashMap<>(extra);
        headers.put("Content-Type", "text/plain; charset=utf-8");
        headers.put("X-Content-Type-Options", "nosniff");
        return new Response(status, headers, message.getBytes(StandardCharsets.UTF_8));
    }

    private static String escapeAttribute(String s) {
        return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String read(String name) {
        try (InputStream in = WebPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the chat page's resource " + name + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the chat page's resource " + name, e);
        }
    }
}

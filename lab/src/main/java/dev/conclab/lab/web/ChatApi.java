package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatModel;
import io.javalin.http.Context;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chat system's page: the web lab starts one chat server in its own JVM ({@link ChatHost}: 127.0.0.1, a free
 * port, at most one, stopped after an idle limit and when the lab closes).
 * <ul>
 *   <li>{@code GET /api/systems/chat/server} → {@code {"running": false, "labOnLoopback"}} (with
 *       {@code "lastStop"} once one has stopped) or {@code {"running": true, "labOnLoopback", "model", "port", "url",
 *       "websocket", "startedAt", "stats"}}, where {@code url} is the chat's own browser client, {@code stats} the
 *       server's {@code ChatStats} now, and {@code labOnLoopback} false when the lab is served beyond loopback (the
 *       chat's 127.0.0.1 address then works only in a browser on the lab's machine);</li>
 *   <li>{@code POST /api/systems/chat/server} {@code {"model": "vthreads"}} → 201 with the same; 400 for a body that
 *       is not that (unknown model, unknown field, not JSON); 409 naming the server that runs;</li>
 *   <li>{@code DELETE /api/systems/chat/server} → 200 {@code {"running": false, "stopped": model, "stats"}} (the last
 *       counters); 404 when none runs.</li>
 * </ul>
 * The {@link RequestGuard} has checked the Origin and content type of POST and DELETE before these run.
 *
 * <p>Thread-safe; POST and DELETE block their virtual thread while the server starts or drains.
 */
final class ChatApi implements AutoCloseable {

    private static final String SHAPE = "{\"model\": \"eventloop\" | \"vthreads\" | \"platform\"}";

    private final ChatHost host;
    private final boolean labOnLoopback;

    /**
     * @param labOnLoopback whether the lab itself listens on loopback only; when not, its readers may sit on other
     *                      machines, where the chat's 127.0.0.1 address does not reach it, and the page warns them
     */
    ChatApi(ChatHost host, boolean labOnLoopback) {
        this.host = host;
        this.labOnLoopback = labOnLoopback;
    }

    void show(Context ctx) {
        Json.ok(ctx, view());
    }

    void start(Context ctx) {
        ChatModel model = parse(ctx.body());
        ChatHost.Outcome outcome;
        try {
            outcome = host.start(model);
        } catch (IllegalStateException e) {
            throw new ApiError(500, String.valueOf(e.getMessage()).lines().findFirst().orElse("cannot start"));
        }
        switch (outcome) {
            case ChatHost.Outcome.Started s -> Json.send(ctx, 201, view(s.running()));
            case ChatHost.Outcome.AlreadyRunning a -> throw new ApiError(409, "a chat server is already running ("
                    + a.running().describe() + "); stop it first");
            case ChatHost.Outcome.Closed c -> throw new ApiError(503, "the web lab is shutting down");
        }
    }

    void stop(Context ctx) {
        ChatHost.Running stopped = host.stop("from the web lab")
                .orElseThrow(() -> ApiError.notFound("no chat server is running"));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("running", false);
        answer.put("stopped", stopped.model().id());
        answer.put("stats", stopped.server().stats());
        Json.ok(ctx, answer);
    }

    /** Stops the running server, refuses new ones. */
    @Override
    public void close() {
        host.close();
    }

    private Map<String, Object> view() {
        return host.current().map(this::view).orElseGet(() -> {
            Map<String, Object> none = new LinkedHashMap<>();
            none.put("running", false);
            none.put("labOnLoopback", labOnLoopback);
            if (host.lastStop() != null) {
                none.put("lastStop", host.lastStop());
            }
            return none;
        });
    }

    private Map<String, Object> view(ChatHost.Running running) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("running", true);
        view.put("labOnLoopback", labOnLoopback);
        view.put("model", running.model().id());
        view.put("port", running.port());
        view.put("url", running.url());
        view.put("websocket", "ws://127.0.0.1:" + running.port() + running.server().config().path());
        view.put("startedAt", running.startedAt().toString());
        view.put("stats", running.server().stats());
        return view;
    }

    /** The body {@code {"model": "..."}}; anything else is a 400 naming the problem. */
    static ChatModel parse(String body) {
        JsonNode root = Json.object(body, SHAPE, List.of("model"));
        JsonNode model = root.get("model");
        if (model == null || !model.isTextual()) {
            throw ApiError.badRequest("the body lacks \"model\": one of " + ChatModel.names());
        }
        try {
            return ChatModel.parse(model.asText());
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("unknown model '" + Texts.clip(model.asText()) + "' (models: "
                    + ChatModel.names() + ")");
        }
    }
}

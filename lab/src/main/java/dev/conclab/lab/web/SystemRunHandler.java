package dev.conclab.lab.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ResultStore;
import io.javalin.http.Context;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The system runs: {@code GET /api/systems/{sys}} (the system with its parameters and bounds),
 * {@code POST /api/systems/{sys}/runs} {@code {"params": {...}}} (202, or 400/404/409/429/503 with the reason),
 * {@code GET .../runs/{id}}, {@code GET .../runs/{id}/events} (server-sent events, see {@link RunEvents}) and
 * {@code DELETE .../runs/{id}}. The body is checked strictly on the server: unknown fields and parameters, values
 * of the wrong kind and values out of their declared bounds are 400 naming the parameter and the range.
 * Thread-safe; the state lives in {@link SystemRuns}.
 */
final class SystemRunHandler {

    /** A system as {@code GET /api/systems/{sys}} answers it; {@code params} is empty for systems without runs. */
    record SystemDetail(String key, String title, boolean available, String page, String summary,
                        List<SystemParam> params, List<String> switches, long timeoutSeconds, String runs,
                        SystemRunView running) {
    }

    private final SystemRuns runs;
    private final OpenStreams streams;
    private final List<SystemView> systems;

    SystemRunHandler(SystemRuns runs, OpenStreams streams, List<SystemView> systems) {
        this.runs = runs;
        this.streams = streams;
        this.systems = systems;
    }

    void show(Context ctx) {
        String key = ctx.pathParam("sys");
        SystemView view = systems.stream().filter(s -> s.key().equals(key)).findFirst()
                .orElseThrow(() -> ApiError.notFound("unknown system '" + Texts.clip(key) + "' (systems: "
                        + String.join(", ", systems.stream().map(SystemView::key).toList()) + ")"));
        var job = runs.job(key);
        Json.ok(ctx, new SystemDetail(view.key(), view.title(), view.available(), view.page(), view.summary(),
                job.map(SystemJob::params).orElse(List.of()),
                job.map(j -> List.copyOf(j.switches())).orElse(List.of()), runs.timeout().toSeconds(),
                job.isPresent() ? "/api/systems/" + key + "/runs" : null,
                runs.running(key).map(SystemRunView::running).orElse(null)));
    }

    void start(Context ctx) {
        SystemJob job = job(ctx);
        JsonNode body = body(ctx.body(), job);
        Map<String, Object> values = values(body.get("params"), job);
        Set<String> switches = new HashSet<>();
        for (String name : job.switches()) {
            JsonNode on = body.get(name);
            if (on != null && !on.isBoolean() && !on.isNull()) {
                throw ApiError.badRequest("\"" + name + "\" must be true or false");
            }
            if (on != null && on.asBoolean()) {
                switches.add(name);
            }
        }
        try {
            SystemRun run = runs.start(job, values, switches);
            ctx.header("Location", "/api/systems/" + job.key() + "/runs/" + run.id());
            Json.send(ctx, 202, new Started(run.id(), run.system(), SystemRun.Status.RUNNING.name(),
                    run.eventsPath()));
        } catch (SystemRuns.Busy busy) {
            Json.send(ctx, 409, new RunView.Busy(busy.getMessage(), busy.running.id(), busy.running.eventsPath()));
        }
    }

    /** The answer to a started run. */
    record Started(String id, String system, String status, String events) {
    }

    void state(Context ctx) {
        Json.ok(ctx, SystemRunView.of(run(ctx)));
    }

    void events(Context ctx) {
        SystemRun run = run(ctx);
        streams.write(() -> RunEvents.stream(ctx, run.finished(), run::progress));
    }

    void cancel(Context ctx) {
        SystemRun run = run(ctx);
        if (run.done()) {
            throw new ApiError(409, "run " + run.id() + " has already ended; there is nothing to cancel");
        }
        run.stop(SystemRun.Status.CANCELLED);
        Json.send(ctx, 202, new RunView.Cancelling(run.id(), "cancelling"));
    }

    private SystemJob job(Context ctx) {
        String key = ctx.pathParam("sys");
        return runs.job(key).orElseThrow(() -> ApiError.notFound("system '" + Texts.clip(key)
                + "' has no runs (runs: crawl, etl)"));
    }

    private SystemRun run(Context ctx) {
        SystemJob job = job(ctx);
        String id = ctx.pathParam("id");
        return runs.run(job.key(), id).orElseThrow(() -> ApiError.notFound("unknown " + job.key() + " run '"
                + Texts.clip(id) + "' (runs are kept until " + SystemRuns.KEPT + " newer ones have ended)"));
    }

    private static JsonNode body(String text, SystemJob job) {
        String shape = "{\"params\": {\"name\": value}" + job.switches().stream().map(s -> ", \"" + s + "\": true")
                .reduce("", String::concat) + "}";
        JsonNode root;
        try {
            root = ResultStore.JSON.readTree(text == null ? "" : text);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("the body is not JSON (" + e.getOriginalMessage().lines().findFirst()
                    .orElse("") + "); send " + shape);
        }
        if (root == null || !root.isObject()) {
            throw ApiError.badRequest("the body must be a JSON object: " + shape);
        }
        for (var names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("params") && !job.switches().contains(name)) {
                throw ApiError.badRequest("unknown field '" + Texts.clip(name) + "' in the body (fields: params"
                        + job.switches().stream().map(s -> ", " + s).reduce("", String::concat) + ")");
            }
        }
        return root;
    }

    private static Map<String, Object> values(JsonNode params, SystemJob job) {
        if (params != null && !params.isNull() && !params.isObject()) {
            throw ApiError.badRequest("\"params\" must be an object of parameter names to values");
        }
        if (params != null && params.isObject()) {
            for (var names = params.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (job.params().stream().noneMatch(p -> p.name().equals(name))) {
                    throw ApiError.badRequest("unknown parameter '" + Texts.clip(name) + "' for " + job.key()
                            + " (parameters: " + String.join(", ", job.params().stream().map(SystemParam::name)
                            .toList()) + ")");
                }
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (SystemParam p : job.params()) {
            values.put(p.name(), p.parse(params == null ? null : params.get(p.name())));
        }
        return values;
    }
}

package dev.conclab.lab.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.conclab.lab.engine.ResultStore;
import io.javalin.http.Context;

import java.util.List;
import java.util.Map;

/**
 * Writes API answers with the lab's one mapper ({@link ResultStore#JSON}), on one line, so a run record reads here
 * exactly as {@code ./conclab run ID --json} prints it. Stateless and thread-safe.
 */
final class Json {

    private static final ObjectWriter WRITER = ResultStore.JSON.writer().without(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    /** {@code value} as one line of JSON. */
    static String line(Object value) {
        try {
            return WRITER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    static void send(Context ctx, int status, Object value) {
        ctx.status(status).contentType("application/json; charset=utf-8").result(line(value));
    }

    static void ok(Context ctx, Object value) {
        send(ctx, 200, value);
    }

    /**
     * A request body that must be one JSON object with no field outside {@code fields}.
     *
     * @param shape what to send, e.g. {@code {"model": "vthreads"}}, quoted in the errors
     * @throws ApiError (400) naming the problem: not JSON, not an object, or the first unknown field
     */
    static JsonNode object(String body, String shape, List<String> fields) {
        JsonNode root;
        try {
            root = ResultStore.JSON.readTree(body == null ? "" : body);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("the body is not JSON (" + e.getOriginalMessage().lines().findFirst().orElse("")
                    + "); send " + shape);
        }
        if (root == null || !root.isObject()) {
            throw ApiError.badRequest("the body must be a JSON object: " + shape);
        }
        for (var names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!fields.contains(name)) {
                throw ApiError.badRequest("unknown field '" + Texts.clip(name) + "' in the body (fields: "
                        + String.join(", ", fields) + ")");
            }
        }
        return root;
    }

    static void error(Context ctx, int status, String message) {
        send(ctx, status, Map.of("error", message));
    }
}

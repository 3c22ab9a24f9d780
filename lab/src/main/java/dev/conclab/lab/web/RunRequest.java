package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /api/runs}: {@code {"experiment": "cpu-io-matrix", "params": {"requests": "512"},
 * "quick": true}}. Parameter values may be JSON strings or numbers; they reach the engine as text, which checks
 * them against the declared bounds. Immutable.
 */
record RunRequest(String experiment, Map<String, String> params, boolean quick) {

    private static final List<String> FIELDS = List.of("experiment", "params", "quick");
    private static final String SHAPE = "{\"experiment\": \"ID\", \"params\": {\"name\": \"value\"}, \"quick\": true}";

    RunRequest {
        params = Map.copyOf(params);
    }

    /**
     * Parses a request body.
     *
     * @throws ApiError (400) naming what is wrong with the body
     */
    static RunRequest parse(String body) {
        JsonNode root = Json.object(body, SHAPE, FIELDS);
        JsonNode experiment = root.get("experiment");
        if (experiment == null || !experiment.isTextual() || experiment.asText().isBlank()) {
            throw ApiError.badRequest("the body lacks \"experiment\": an experiment id as a string");
        }
        JsonNode quick = root.get("quick");
        if (quick != null && !quick.isBoolean() && !quick.isNull()) {
            throw ApiError.badRequest("\"quick\" must be true or false");
        }
        return new RunRequest(experiment.asText(), params(root.get("params")), quick != null && quick.asBoolean());
    }

    private static Map<String, String> params(JsonNode params) {
        Map<String, String> values = new LinkedHashMap<>();
        if (params == null || params.isNull()) {
            return values;
        }
        if (!params.isObject()) {
            throw ApiError.badRequest("\"params\" must be an object of parameter names to values");
        }
        for (var fields = params.fields(); fields.hasNext(); ) {
            var field = fields.next();
            JsonNode value = field.getValue();
            if (!value.isTextual() && !value.isNumber()) {
                throw ApiError.badRequest("parameter " + Texts.clip(field.getKey())
                        + " must be a number or a word, not " + value.getNodeType().name().toLowerCase());
            }
            values.put(field.getKey(), value.asText());
        }
        return values;
    }
}

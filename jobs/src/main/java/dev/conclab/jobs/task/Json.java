package dev.conclab.jobs.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one Jackson mapper of the task queue: arguments and results cross every broker as JSON text written and read
 * here. {@link ObjectMapper} is thread-safe once configured, so one instance is shared.
 */
public final class Json {

    /** The shared mapper; do not reconfigure it. */
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    /** The JSON text of a value (a {@link JsonNode}, a record, a collection, a number...). */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serializable as JSON: " + value.getClass().getName()
                    + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Parses JSON text; throws {@link IllegalArgumentException} naming the problem if it is not JSON. */
    public static JsonNode read(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("bad JSON: " + e.getOriginalMessage(), e);
        }
    }
}

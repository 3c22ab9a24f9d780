package dev.conclab.jobs.task;

import com.fasterxml.jackson.databind.JsonNode;

/** The JSON type a task declares for one parameter; checked on submit. */
public enum ArgType {
    /** Any JSON value, null included. */
    ANY,
    /** A JSON number. */
    NUMBER,
    /** A JSON number without a fraction that fits a {@code long}. */
    INTEGER,
    /** A JSON string. */
    STRING,
    /** {@code true} or {@code false}. */
    BOOLEAN,
    /** A JSON array. */
    ARRAY,
    /** A JSON object. */
    OBJECT;

    /** Whether the node is of this type. */
    public boolean accepts(JsonNode node) {
        return switch (this) {
            case ANY -> true;
            case NUMBER -> node.isNumber();
            case INTEGER -> node.isIntegralNumber() && node.canConvertToLong();
            case STRING -> node.isTextual();
            case BOOLEAN -> node.isBoolean();
            case ARRAY -> node.isArray();
            case OBJECT -> node.isObject();
        };
    }

    /** The JSON type name of a node, for error messages. */
    public static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case NUMBER -> node.isIntegralNumber() ? "integer " + node : "number " + node;
            case STRING -> "string " + node;
            case BOOLEAN -> "boolean " + node;
            case NULL -> "null";
            case ARRAY -> "array";
            case OBJECT -> "object";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}

package dev.conclab.lab.web;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Locale;

/**
 * A parameter of a system run as its page's form shows it and the server checks it: an integer or a decimal number
 * within {@code [min, max]}, or one of a few words. Serialised like the experiments' parameters ({@code name, kind,
 * description, min, max, choices, default}). Immutable; thread-safe.
 *
 * @param kind         {@code int}, {@code number} or {@code choice}
 * @param min          the least value accepted, or {@code null} for a choice
 * @param max          the greatest value accepted, or {@code null} for a choice
 * @param choices      the words accepted, or {@code null} for a number
 * @param defaultValue the value used when the request leaves the parameter out (JSON {@code default})
 */
record SystemParam(String name, String kind, String description, Number min, Number max, List<String> choices,
                   @JsonProperty("default") Object defaultValue) {

    static SystemParam integer(String name, String description, int min, int max, int defaultValue) {
        return new SystemParam(name, "int", description, min, max, null, defaultValue);
    }

    static SystemParam number(String name, String description, double min, double max, double defaultValue) {
        return new SystemParam(name, "number", description, min, max, null, defaultValue);
    }

    static SystemParam choice(String name, String description, List<String> choices, String defaultValue) {
        return new SystemParam(name, "choice", description, null, null, List.copyOf(choices), defaultValue);
    }

    /**
     * The value of {@code node} (a JSON number or string) for this parameter: an {@link Integer}, a {@link Double}
     * or a {@link String}.
     *
     * @throws ApiError (400) naming the parameter, the value and the allowed range or words
     */
    @JsonIgnore
    Object parse(JsonNode node) {
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isNumber() && !node.isTextual()) {
            throw ApiError.badRequest("parameter " + name + " must be a number or a word, not "
                    + node.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        String text = Texts.clip(node.asText().strip());
        return switch (kind) {
            case "choice" -> {
                if (!choices.contains(text)) {
                    throw ApiError.badRequest("parameter " + name + "=" + text + " is not one of "
                            + String.join(", ", choices));
                }
                yield text;
            }
            case "int" -> {
                int value;
                try {
                    value = Integer.parseInt(text);
                } catch (NumberFormatException e) {
                    throw outOfRange(text, "a whole number ");
                }
                if (value < min.intValue() || value > max.intValue()) {
                    throw outOfRange(text, "");
                }
                yield value;
            }
            default -> {
                double value;
                try {
                    value = Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw outOfRange(text, "a number ");
                }
                if (!(value >= min.doubleValue() && value <= max.doubleValue())) {
                    throw outOfRange(text, "");
                }
                yield value;
            }
        };
    }

    private ApiError outOfRange(String text, String what) {
        return ApiError.badRequest("parameter " + name + "=" + text + " is " + (what.isEmpty() ? "out of range"
                : "not " + what.strip()) + " (allowed: " + (what.isEmpty() ? "" : what) + min + "…" + max + ")");
    }
}

package dev.conclab.lab.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses one card file: YAML front matter between {@code ---} lines, then {@code ## } sections. Parsing checks
 * the shape of one file; {@link Catalog} checks the cards against the questions and each other.
 */
final class CardParser {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> KEYS =
            Set.of("id", "question", "status", "experiments", "related", "not_measurable");

    private CardParser() {
    }

    /** The card in {@code text}, read from {@code source}; problems are added to {@code problems}. */
    static Card parse(String source, String text, List<String> problems) {
        String normalized = text.replace("\r\n", "\n");
        if (!normalized.startsWith("---\n")) {
            problems.add(source + ": does not start with a '---' front matter line");
            return null;
        }
        int end = normalized.indexOf("\n---\n", 3);
        if (end < 0) {
            problems.add(source + ": front matter is not closed by a '---' line");
            return null;
        }
        Map<String, Object> front;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = YAML.readValue(normalized.substring(4, end), Map.class);
            front = parsed == null ? Map.of() : parsed;
        } catch (JsonProcessingException e) {
            problems.add(source + ": front matter is not valid YAML: " + e.getOriginalMessage());
            return null;
        }
        int before = problems.size();
        for (String key : front.keySet()) {
            if (!KEYS.contains(key)) {
                problems.add(source + ": unknown front matter key '" + key + "' (known: " + String.join(", ",
                        KEYS.stream().sorted().toList()) + ")");
            }
        }
        String id = text(source, front, "id", problems);
        String question = text(source, front, "question", problems);
        String statusWord = text(source, front, "status", problems);
        Card.Status status = null;
        if (statusWord != null) {
            switch (statusWord) {
                case "answered" -> status = Card.Status.ANSWERED;
                case "open" -> status = Card.Status.OPEN;
                default -> problems.add(source + ": status '" + statusWord + "' is neither 'answered' nor 'open'");
            }
        }
        List<String> experiments = list(source, front, "experiments", problems);
        List<String> related = list(source, front, "related", problems);
        Object notMeasurable = front.get("not_measurable");
        Map<String, String> sections = sections(source, normalized.substring(end + 5), problems);
        if (problems.size() > before || id == null) {
            return null;
        }
        Section section = Section.ofId(id).orElse(null);
        if (section == null) {
            problems.add(source + ": id '" + id + "' does not start with a section name");
            return null;
        }
        return new Card(id, section, question, status, experiments, related, sections,
                notMeasurable == null ? null : notMeasurable.toString(), source);
    }

    private static String text(String source, Map<String, Object> front, String key, List<String> problems) {
        Object value = front.get(key);
        if (value == null || value.toString().isBlank()) {
            problems.add(source + ": front matter lacks '" + key + "'");
            return null;
        }
        if (value instanceof Map || value instanceof List) {
            problems.add(source + ": '" + key + "' must be text");
            return null;
        }
        return value.toString().strip();
    }

    private static List<String> list(String source, Map<String, Object> front, String key, List<String> problems) {
        Object value = front.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> items)) {
            problems.add(source + ": '" + key + "' must be a list like [a, b]");
            return List.of();
        }
        return items.stream().map(String::valueOf).map(String::strip).toList();
    }

    private static Map<String, String> sections(String source, String body, List<String> problems) {
        Map<String, String> sections = new LinkedHashMap<>();
        String heading = null;
        StringBuilder text = new StringBuilder();
        for (String line : body.split("\n", -1)) {
            if (line.startsWith("## ")) {
                if (heading != null) {
                    sections.put(heading, text.toString().strip());
                }
                heading = line.substring(3).strip();
                text.setLength(0);
                if (!Card.SECTIONS.contains(heading)) {
                    problems.add(source + ": unknown section '## " + heading + "' (sections: "
                            + String.join(", ", Card.SECTIONS) + ")");
                } else if (sections.containsKey(heading)) {
                    problems.add(source + ": section '## " + heading + "' appears twice");
                }
            } else if (heading == null) {
                if (!line.isBlank()) {
                    problems.add(source + ": text before the first '## ' section");
                    return sections;
                }
            } else {
                text.append(line).append('\n');
            }
        }
        if (heading != null) {
            sections.put(heading, text.toString().strip());
        }
        List<String> order = sections.keySet().stream().filter(Card.SECTIONS::contains).toList();
        List<String> expected = Card.SECTIONS.stream().filter(order::contains).toList();
        if (!order.equals(expected)) {
            problems.add(source + ": sections are out of order (expected " + String.join(", ", Card.SECTIONS) + ")");
        }
        return sections;
    }
}

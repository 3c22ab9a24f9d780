package dev.conclab.lab.catalog;

import java.util.List;
import java.util.Map;

/**
 * One question and its answer. Immutable.
 *
 * @param sections      the answer's sections by heading, in {@link #SECTIONS} order; empty for an open card
 * @param notMeasurable why an answered card has no experiment (rare: pure definitions), or {@code null}
 * @param source        where the card was read from, for messages
 */
public record Card(String id, Section section, String question, Status status, List<String> experiments,
                   List<String> related, Map<String, String> sections, String notMeasurable, String source) {

    /** The fixed sections of an answer, in order. */
    public static final List<String> SECTIONS =
            List.of("Short answer", "In Python", "In Java", "Evidence", "Pitfalls", "Go deeper");

    public Card {
        experiments = List.copyOf(experiments);
        related = List.copyOf(related);
        sections = Map.copyOf(sections);
    }

    public enum Status {
        ANSWERED, OPEN;

        public String word() {
            return name().toLowerCase();
        }
    }

    public boolean answered() {
        return status == Status.ANSWERED;
    }

    /** The text of one section, or an empty string. */
    public String section(String heading) {
        return sections.getOrDefault(heading, "");
    }
}

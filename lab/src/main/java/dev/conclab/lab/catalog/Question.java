package dev.conclab.lab.catalog;

/** One of the 105 questions, as {@code questions.md} words it. */
public record Question(String id, Section section, String text) {
}

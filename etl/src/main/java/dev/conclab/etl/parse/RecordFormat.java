package dev.conclab.etl.parse;

import java.util.Locale;

/** The two input formats. Immutable. */
public enum RecordFormat {
    CSV("csv"), JSONL("jsonl");

    private final String extension;

    RecordFormat(String extension) { this.extension = extension; }

    /** The file extension without the dot ({@code csv}, {@code jsonl}). */
    public String extension() { return extension; }

    /**
     * The format named {@code name} ({@code csv} or {@code jsonl}, any case).
     *
     * @throws IllegalArgumentException naming the unknown format and the known ones
     */
    public static RecordFormat parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "csv" -> CSV;
            case "jsonl", "json", "ndjson" -> JSONL;
            default -> throw new IllegalArgumentException("unknown format '" + name + "' (expected csv or jsonl)");
        };
    }
}

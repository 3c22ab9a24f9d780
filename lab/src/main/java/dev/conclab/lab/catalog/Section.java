package dev.conclab.lab.catalog;

import java.util.Arrays;
import java.util.Optional;

/** The ten sections of the questions, in the order of {@code questions.md}; a card's id starts with its key. */
public enum Section {
    BASICS("basics", "Basics (Foundational Concepts)"),
    THREADING("threading", "Threading (Concurrency using Threads)"),
    ASYNCIO("asyncio", "Asyncio (Asynchronous Programming)"),
    MULTIPROCESSING("multiprocessing", "Multiprocessing (True Parallelism)"),
    ADVANCED("advanced", "Advanced Concepts"),
    PRACTICAL("practical", "Practical Coding Questions"),
    DESIGN("design", "System Design + Python Concurrency"),
    INTERNALS("internals", "GIL / Internals Questions (Expert-Level)"),
    DEBUGGING("debugging", "Troubleshooting & Debugging Questions"),
    SCENARIOS("scenarios", "Real-World Scenarios");

    private final String key;
    private final String title;

    Section(String key, String title) {
        this.key = key;
        this.title = title;
    }

    public String key() {
        return key;
    }

    public String title() {
        return title;
    }

    public static Optional<Section> byKey(String key) {
        return Arrays.stream(values()).filter(s -> s.key.equals(key)).findFirst();
    }

    public static Optional<Section> byTitle(String title) {
        return Arrays.stream(values()).filter(s -> s.title.equals(title)).findFirst();
    }

    /** The section a card id like {@code basics-04} belongs to. */
    public static Optional<Section> ofId(String id) {
        int dash = id.lastIndexOf('-');
        return dash < 0 ? Optional.empty() : byKey(id.substring(0, dash));
    }
}

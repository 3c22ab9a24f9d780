package dev.conclab.crawl.crawler;

import java.util.Locale;

/** The three fetch models: a fixed pool of platform threads, a virtual thread per fetch, the async HTTP client. */
public enum ModelKind {
    PLATFORM, VIRTUAL, ASYNC;

    /** Parses {@code platform}, {@code virtual} or {@code async} (any case). */
    public static ModelKind parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model must be platform, virtual or async, got '" + s + "'");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}

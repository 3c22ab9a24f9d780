package dev.conclab.etl.load;

import dev.conclab.etl.scan.Aggregates;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.Locale;
import java.util.Objects;

/**
 * Loads the final totals: one row per (country, day) with the order count and the EUR amount, in ascending
 * (country, day) order. Every load is idempotent and all-or-nothing (a file is written beside the target and moved
 * over it atomically; a SQLite table is replaced in one transaction), which is what makes a load interrupted by a
 * crash safe to repeat. Implementations are not thread safe; one load at a time.
 */
public sealed interface AggregateSink permits CsvAggregateSink, JsonlAggregateSink, SqliteAggregateSink {

    /** Replaces the target's content with {@code totals}. */
    void load(Aggregates totals) throws IOException, SQLException;

    /** Where the sink writes, for messages. */
    String describe();

    /**
     * The sink for {@code target}: {@code sqlite:PATH} for SQLite, otherwise a file whose name ends in
     * {@code .jsonl} (JSON lines) or anything else (CSV).
     */
    static AggregateSink forTarget(String target) {
        Objects.requireNonNull(target, "target");
        if (target.startsWith("sqlite:")) {
            String db = target.substring("sqlite:".length());
            if (db.isBlank()) throw new IllegalArgumentException("sqlite: needs a database path, e.g. sqlite:out.db");
            return new SqliteAggregateSink(Path.of(db));
        }
        if (target.isBlank()) throw new IllegalArgumentException("the output path is empty");
        Path path = Path.of(target);
        return target.endsWith(".jsonl") || target.endsWith(".json") ? new JsonlAggregateSink(path) : new CsvAggregateSink(path);
    }

    /** A day since the epoch as {@code YYYY-MM-DD}. */
    static String day(long key) {
        return LocalDate.ofEpochDay(Aggregates.epochDay(key)).toString();
    }

    /** Hundredths as a decimal with two places. */
    static String euros(long cents) {
        return String.format(Locale.ROOT, "%s%d.%02d", cents < 0 ? "-" : "", Math.abs(cents) / 100, Math.abs(cents) % 100);
    }
}

package dev.conclab.jobs.broker.sqlite;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How a {@link SqliteBroker} opens its file. Immutable.
 *
 * @param synchronous  {@link Synchronous#NORMAL} (the default: in WAL mode a committed transaction survives a crash
 *                     of the process, not a power loss or an OS crash, which may lose the last transactions but
 *                     never corrupts the file) or {@link Synchronous#FULL} (every commit is fsynced: survives a power
 *                     loss too, at the cost of one fsync per transaction)
 * @param busyTimeout  how long a transaction waits for another connection's (or process's) write lock before it
 *                     fails with {@link SqliteStoreException}
 */
public record SqliteOptions(Synchronous synchronous, Duration busyTimeout) {

    /** SQLite's {@code PRAGMA synchronous} levels that keep a WAL file consistent. */
    public enum Synchronous {
        NORMAL, FULL;

        /** Parses {@code normal} or {@code full}, in any case. */
        public static Synchronous parse(String text) {
            Objects.requireNonNull(text, "synchronous");
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "normal" -> NORMAL;
                case "full" -> FULL;
                default -> throw new IllegalArgumentException(
                        "synchronous must be NORMAL or FULL (OFF could corrupt a queue on a power loss), was: " + text);
            };
        }
    }

    /** NORMAL, and a 10 s busy timeout. */
    public static final SqliteOptions DEFAULTS = new SqliteOptions(Synchronous.NORMAL, Duration.ofSeconds(10));

    public SqliteOptions {
        Objects.requireNonNull(synchronous, "synchronous");
        Objects.requireNonNull(busyTimeout, "busyTimeout");
        if (busyTimeout.isNegative() || busyTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("busyTimeout must be 0 .. 24 days, was " + busyTimeout);
        }
    }

    public SqliteOptions withSynchronous(Synchronous level) {
        return new SqliteOptions(level, busyTimeout);
    }

    public SqliteOptions withBusyTimeout(Duration timeout) {
        return new SqliteOptions(synchronous, timeout);
    }
}

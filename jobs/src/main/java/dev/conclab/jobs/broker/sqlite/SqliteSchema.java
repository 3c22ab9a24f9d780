package dev.conclab.jobs.broker.sqlite;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The tables of the SQLite broker, created if missing (so the first worker or client to open a file creates it, and
 * a restart finds it as it was).
 *
 * <ul>
 *   <li>{@code messages}: one row per queued or reserved message. {@code seq} (the rowid) is the age order;
 *       {@code visible_at} is the ETA while queued and the lease's expiry while reserved, so "deliverable now" is
 *       one range condition for both, and a lapsed reservation needs no sweep: {@code reserve} simply sees it.</li>
 *   <li>{@code tasks}: every task's record (state, result, error...), its idempotency key (unique) and chord.</li>
 *   <li>{@code dead_letters}: dead-lettered messages as they were, newest last.</li>
 *   <li>{@code chords}, {@code chord_members}: the count-down and the callback of each chord.</li>
 *   <li>{@code buckets}: the shared token buckets of rate limits.</li>
 *   <li>{@code counters}: the counters of {@link dev.conclab.jobs.broker.BrokerStats}.</li>
 * </ul>
 */
final class SqliteSchema {
    static final int VERSION = 1;

    static final List<String> COUNTERS =
            List.of("delivered", "redelivered", "duplicates", "succeeded", "failed");

    private static final List<String> DDL = List.of(
            """
            CREATE TABLE IF NOT EXISTS messages (
              seq        INTEGER PRIMARY KEY,
              task_id    TEXT    NOT NULL UNIQUE,
              queue      TEXT    NOT NULL,
              priority   INTEGER NOT NULL,
              not_before INTEGER NOT NULL,
              visible_at INTEGER NOT NULL,
              body       TEXT    NOT NULL,
              consumer   TEXT,
              receipt    TEXT,
              lapses     INTEGER NOT NULL DEFAULT 0)""",
            // Ready messages of a queue in delivery order; visible_at in the index so the filter needs no row.
            "CREATE INDEX IF NOT EXISTS messages_order ON messages(queue, priority DESC, seq, visible_at)",
            // "Is anything deliverable?" and "when is the next one?" for idle consumers.
            "CREATE INDEX IF NOT EXISTS messages_visible ON messages(queue, visible_at)",
            """
            CREATE TABLE IF NOT EXISTS tasks (
              id         TEXT    PRIMARY KEY,
              name       TEXT    NOT NULL,
              state      TEXT    NOT NULL,
              args       TEXT    NOT NULL,
              result     TEXT,
              error      TEXT,
              attempt    INTEGER NOT NULL DEFAULT 0,
              deliveries INTEGER NOT NULL DEFAULT 0,
              worker     TEXT,
              submitted  INTEGER NOT NULL,
              started    INTEGER NOT NULL DEFAULT 0,
              finished   INTEGER NOT NULL DEFAULT 0,
              idem_key   TEXT    UNIQUE,
              chord_id   TEXT) WITHOUT ROWID""",
            """
            CREATE TABLE IF NOT EXISTS dead_letters (
              seq     INTEGER PRIMARY KEY,
              task_id TEXT    NOT NULL,
              body    TEXT    NOT NULL,
              at      INTEGER NOT NULL)""",
            """
            CREATE TABLE IF NOT EXISTS chords (
              id          TEXT    PRIMARY KEY,
              callback_id TEXT    NOT NULL,
              callback    TEXT    NOT NULL,
              remaining   INTEGER NOT NULL,
              failed      INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID""",
            """
            CREATE TABLE IF NOT EXISTS chord_members (
              chord_id TEXT    NOT NULL,
              idx      INTEGER NOT NULL,
              task_id  TEXT    NOT NULL,
              PRIMARY KEY (chord_id, idx)) WITHOUT ROWID""",
            """
            CREATE TABLE IF NOT EXISTS buckets (
              key     TEXT    PRIMARY KEY,
              tokens  REAL    NOT NULL,
              updated INTEGER NOT NULL) WITHOUT ROWID""",
            """
            CREATE TABLE IF NOT EXISTS counters (
              name  TEXT    PRIMARY KEY,
              value INTEGER NOT NULL) WITHOUT ROWID""",
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");

    private SqliteSchema() {
    }

    /** Sets the connection's pragmas; WAL is a property of the file and sticks once set. */
    static void configure(Connection connection, SqliteOptions options) throws SQLException {
        try (Statement s = connection.createStatement()) {
            // First, so that even switching to WAL waits for a concurrent opener instead of failing.
            s.execute("PRAGMA busy_timeout = " + options.busyTimeout().toMillis());
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("PRAGMA synchronous = " + options.synchronous().name());
            s.execute("PRAGMA temp_store = MEMORY");
        }
    }

    /** Creates what is missing, in one write transaction, and refuses a file of another schema version. */
    static void create(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try {
                for (String ddl : DDL) {
                    s.execute(ddl);
                }
                for (String counter : COUNTERS) {
                    s.execute("INSERT OR IGNORE INTO counters(name, value) VALUES ('" + counter + "', 0)");
                }
                s.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '" + VERSION + "')");
                try (var rs = s.executeQuery("SELECT value FROM meta WHERE key = 'schema'")) {
                    String found = rs.next() ? rs.getString(1) : null;
                    if (!String.valueOf(VERSION).equals(found)) {
                        throw new SQLException("the file holds broker schema " + found + ", this code reads " + VERSION);
                    }
                }
                s.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                s.execute("ROLLBACK");
                throw e;
            }
        }
    }
}

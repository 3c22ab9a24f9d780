package dev.conclab.jobs.broker.sqlite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection to the broker's file, its prepared statements, and the transactions run on it. A lock makes the
 * connection usable by any number of threads, one transaction at a time (SQLite serializes writers anyway; readers
 * of other connections and processes are not blocked in WAL mode). Write transactions begin with
 * {@code BEGIN IMMEDIATE}: the write lock is taken up front, so a read-modify-write never fails half-way with
 * {@code SQLITE_BUSY} because another process wrote between its read and its write; a busy lock is waited for up
 * to the busy timeout.
 */
final class SqliteStore implements AutoCloseable {

    /** The body of a transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /** What a transaction may do besides running statements: count, and ask consumers to be woken. */
    final class Tx {
        private final Map<String, Long> deltas = new LinkedHashMap<>();
        private boolean wake;

        PreparedStatement ps(String sql) throws SQLException {
            return statement(sql);
        }

        void count(String counter, long delta) {
            if (delta != 0) {
                deltas.merge(counter, delta, Long::sum);
            }
        }

        /** Something became deliverable: wake this JVM's blocked consumers after the commit. */
        void wake() {
            wake = true;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Connection connection;
    private final Statement plain;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private final WakeSignal signal;
    private final String description;
    private boolean closed;

    private SqliteStore(Connection connection, WakeSignal signal, String description) throws SQLException {
        this.connection = connection;
        this.plain = connection.createStatement();
        this.signal = signal;
        this.description = description;
    }

    static SqliteStore open(Path file, SqliteOptions options) {
        Path canonical;
        try {
            Path absolute = file.toAbsolutePath().normalize();
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            canonical = Files.exists(absolute) ? absolute.toRealPath() : absolute;
        } catch (IOException e) {
            throw new SqliteStoreException("cannot create the directory of " + file + ": " + e.getMessage(), e);
        }
        Connection connection = null;
        try {
            connection = DriverManager.getConnection("jdbc:sqlite:" + canonical);
            SqliteSchema.configure(connection, options);
            SqliteSchema.create(connection);
            // After creation the file exists; key the signal by its real path so links and ".." agree.
            String key = canonical.toRealPath().toString();
            return new SqliteStore(connection, WakeSignal.forFile(key), key);
        } catch (SQLException | IOException e) {
            if (connection != null) {
                try {
                    connection.close();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new SqliteStoreException("cannot open the broker file " + file + ": " + e.getMessage(), e);
        }
    }

    WakeSignal signal() {
        return signal;
    }

    String description() {
        return description;
    }

    /** Runs {@code work} in a {@code BEGIN IMMEDIATE} transaction; all or nothing. */
    <T> T write(String what, Work<T> work) {
        return transaction(what, "BEGIN IMMEDIATE", work);
    }

    /** Runs {@code work} in a read transaction: one consistent snapshot, no lock on writers. */
    <T> T read(String what, Work<T> work) {
        return transaction(what, "BEGIN", work);
    }

    /** Runs one statement in autocommit mode (one statement is atomic by itself). */
    <T> T auto(String what, Work<T> work) {
        lock.lock();
        try {
            ensureOpen();
            return work.run(new Tx());
        } catch (SQLException e) {
            throw new SqliteStoreException(what + " failed on " + description + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    private <T> T transaction(String what, String begin, Work<T> work) {
        boolean wake;
        T result;
        lock.lock();
        try {
            ensureOpen();
            Tx tx = new Tx();
            statement(begin).execute();
            try {
                result = work.run(tx);
                for (Map.Entry<String, Long> delta : tx.deltas.entrySet()) {
                    PreparedStatement add = statement("UPDATE counters SET value = value + ? WHERE name = ?");
                    add.setLong(1, delta.getValue());
                    add.setString(2, delta.getKey());
                    add.executeUpdate();
                }
                statement("COMMIT").execute();
            } catch (SQLException | RuntimeException | Error e) {
                rollback(e);
                throw e;
            }
            wake = tx.wake;
        } catch (SQLException e) {
            throw new SqliteStoreException(what + " failed on " + description + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
        if (wake) {
            signal.signal();
        }
        return result;
    }

    private void rollback(Throwable cause) {
        try {
            plain.execute("ROLLBACK");
        } catch (SQLException e) {
            // No transaction was open (BEGIN itself failed, or SQLite rolled back on its own).
            cause.addSuppressed(e);
        }
    }

    private PreparedStatement statement(String sql) throws SQLException {
        PreparedStatement ps = statements.get(sql);
        if (ps == null) {
            ps = connection.prepareStatement(sql);
            statements.put(sql, ps);
        }
        return ps;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the broker on " + description + " is closed");
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            SQLException failure = null;
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    failure = e;
                }
            }
            statements.clear();
            try {
                plain.close();
                connection.close();
            } catch (SQLException e) {
                failure = e;
            }
            if (failure != null) {
                throw new SqliteStoreException("closing " + description + ": " + failure.getMessage(), failure);
            }
        } finally {
            lock.unlock();
        }
    }
}

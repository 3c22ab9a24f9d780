package dev.conclab.etl.checkpoint;

import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.RangeResult;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The run's durable state, in one SQLite file (WAL, {@code synchronous=FULL}).
 *
 * <p><b>What a checkpoint records, and why it is enough.</b> A range is the unit of progress. When a range is
 * finished, ONE transaction records (1) that the range is done, with its line count, (2) its partial aggregates
 * (one packed blob in the same row: one insert per range instead of an upsert per key; {@link #totals()} sums the
 * blobs of the committed ranges), and (3) its rejects. Either all three are durable or none is: a kill -9 before the
 * commit loses the range's work, and the restart scans it again from its first byte; a kill after the commit never
 * scans it again. So each record is counted exactly once in the totals, whatever the number of crashes. The plan
 * (the input files, their sizes, the format and the range size) is recorded at the first start and checked at every
 * restart, because range ids only mean something for the same cut.
 *
 * <p>The sink is loaded only from the totals, after every range is done, and the load is idempotent (a file is
 * written beside and renamed over the target; the SQLite table is replaced in one transaction), so the sink's
 * committed position is all-or-nothing and a crash during the load simply redoes it: the output is byte for byte the
 * output of an uninterrupted run. Reject line numbers are made file-global at the load too (a range only knows its
 * local line numbers until every earlier range of its file has been counted).
 *
 * <p>Thread safety: all methods are {@code synchronized}; the driver commits from worker threads one at a time.
 * Blocks on disk I/O (fsync at each commit).
 */
public final class CheckpointStore implements AutoCloseable {
    private final Connection db;

    private CheckpointStore(Connection db) {
        this.db = db;
    }

    /** Opens (creating if missing) the checkpoint at {@code file}, or an in-memory one if {@code file} is null. */
    public static CheckpointStore open(Path file) throws SQLException {
        Connection c = DriverManager.getConnection(file == null ? "jdbc:sqlite::memory:" : "jdbc:sqlite:" + file.toAbsolutePath());
        try (Statement s = c.createStatement()) {
            if (file != null) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
            }
            s.execute("CREATE TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS done_ranges (file_index INTEGER, range_index INTEGER, lines INTEGER,"
                    + " records INTEGER, filtered INTEGER, rejects INTEGER, bytes INTEGER, aggregates BLOB NOT NULL,"
                    + " PRIMARY KEY (file_index, range_index))");
            s.execute("CREATE TABLE IF NOT EXISTS rejects (file_index INTEGER, range_index INTEGER, local_line INTEGER,"
                    + " reason TEXT, PRIMARY KEY (file_index, range_index, local_line))");
        }
        c.setAutoCommit(false);
        c.commit();
        return new CheckpointStore(c);
    }

    /**
     * Records {@code fingerprint} as this checkpoint's plan, or checks that it equals the recorded one.
     *
     * @throws IllegalStateException if the checkpoint was made for another plan (other files, sizes or format)
     */
    public synchronized void bindPlan(String fingerprint) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT fingerprint FROM plan WHERE id = 1");
             ResultSet rs = q.executeQuery()) {
            if (rs.next()) {
                if (!rs.getString(1).equals(fingerprint)) {
                    throw new IllegalStateException("the checkpoint belongs to another run (different input files,"
                            + " sizes, format or range size, or an older checkpoint layout); delete it or point"
                            + " --checkpoint elsewhere");
                }
                return;
            }
        }
        try (PreparedStatement ins = db.prepareStatement("INSERT INTO plan (id, fingerprint) VALUES (1, ?)")) {
            ins.setString(1, fingerprint);
            ins.executeUpdate();
        }
        db.commit();
    }

    /** The ranges already committed, as {@code fileIndex << 32 | rangeIndex}. */
    public synchronized Set<Long> doneRanges() throws SQLException {
        Set<Long> done = new HashSet<>();
        try (PreparedStatement q = db.prepareStatement("SELECT file_index, range_index FROM done_ranges");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) done.add(id(rs.getInt(1), rs.getInt(2)));
        }
        db.commit();
        return done;
    }

    /** The key of a range in the done set: file index in the high 32 bits, range index in the low. */
    public static long id(int fileIndex, int rangeIndex) {
        return (long) fileIndex << 32 | rangeIndex;
    }

    /** Commits one finished range atomically: done mark, aggregates and rejects in one transaction. */
    public synchronized void commit(RangeResult r) throws SQLException {
        try {
            ByteRange range = r.range();
            try (PreparedStatement done = db.prepareStatement("INSERT INTO done_ranges VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                done.setInt(1, range.fileIndex());
                done.setInt(2, range.rangeIndex());
                done.setLong(3, r.lines());
                done.setLong(4, r.records());
                done.setLong(5, r.filtered());
                done.setLong(6, r.rejects().size());
                done.setLong(7, r.bytesRead());
                done.setBytes(8, pack(r.aggregates()));
                done.executeUpdate();
            }
            try (PreparedStatement rej = db.prepareStatement("INSERT INTO rejects VALUES (?, ?, ?, ?)")) {
                for (RangeResult.Reject reject : r.rejects()) {
                    rej.setInt(1, range.fileIndex());
                    rej.setInt(2, range.rangeIndex());
                    rej.setLong(3, reject.localLine());
                    rej.setString(4, reject.reason());
                    rej.addBatch();
                }
                rej.executeBatch();
            }
            db.commit();
        } catch (SQLException | RuntimeException e) {
            db.rollback();
            throw e;
        }
    }

    /** The committed totals: the sum of the committed ranges' aggregates. */
    public synchronized Aggregates totals() throws SQLException {
        Aggregates out = new Aggregates();
        try (PreparedStatement q = db.prepareStatement("SELECT aggregates FROM done_ranges");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) unpackInto(rs.getBytes(1), out);
        }
        db.commit();
        return out;
    }

    /** {@code a} as (key, count, sum) little-endian longs. */
    static byte[] pack(Aggregates a) {
        ByteBuffer b = ByteBuffer.allocate(a.size() * 24).order(ByteOrder.LITTLE_ENDIAN);
        a.forEach((key, count, sum) -> b.putLong(key).putLong(count).putLong(sum));
        return b.array();
    }

    static void unpackInto(byte[] packed, Aggregates out) {
        ByteBuffer b = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) out.add(b.getLong(), b.getLong(), b.getLong());
    }

    /** Counters summed over the committed ranges. */
    public record Counters(long ranges, long lines, long records, long filtered, long rejects, long bytes) {}

    /** The counters summed over the committed ranges. */
    public synchronized Counters counters() throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(records), 0),"
                + " coalesce(sum(filtered), 0), coalesce(sum(rejects), 0), coalesce(sum(bytes), 0) FROM done_ranges");
             ResultSet rs = q.executeQuery()) {
            rs.next();
            Counters c = new Counters(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6));
            db.commit();
            return c;
        }
    }

    /** A reject with its file-global line number. */
    public record GlobalReject(int fileIndex, long line, String reason) {}

    /**
     * The rejects ordered by file and line, with file-global line numbers. Only meaningful once every range is
     * committed (the offset of a range is the sum of the line counts of the ranges before it in its file).
     */
    public synchronized List<GlobalReject> rejects() throws SQLException {
        Map<Long, Long> lineOffset = new HashMap<>();
        try (PreparedStatement q = db.prepareStatement("SELECT file_index, range_index, lines FROM done_ranges"
                + " ORDER BY file_index, range_index");
             ResultSet rs = q.executeQuery()) {
            int file = -1;
            long offset = 0;
            while (rs.next()) {
                if (rs.getInt(1) != file) { file = rs.getInt(1); offset = 0; }
                lineOffset.put(id(file, rs.getInt(2)), offset);
                offset += rs.getLong(3);
            }
        }
        List<GlobalReject> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("SELECT file_index, range_index, local_line, reason FROM rejects"
                + " ORDER BY file_index, range_index, local_line");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                int file = rs.getInt(1);
                out.add(new GlobalReject(file, lineOffset.get(id(file, rs.getInt(2))) + rs.getLong(3), rs.getString(4)));
            }
        }
        db.commit();
        return out;
    }

    @Override
    public synchronized void close() throws SQLException {
        db.close();
    }
}

package dev.conclab.jobs.broker.sqlite;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The token buckets of {@link SqliteBroker#tryAcquirePermit}, one row per key, read and written inside the caller's
 * write transaction so every worker of every process sharing the file draws from the same bucket. Times are the
 * callers' wall clocks (one machine shares one file, so they agree); a clock that steps back refills nothing.
 */
final class PermitBuckets {
    private PermitBuckets() {
    }

    static long tryAcquire(SqliteStore.Tx tx, String key, double permitsPerSecond, int burst, long now)
            throws SQLException {
        double tokens = burst;
        long updated = now;
        PreparedStatement read = tx.ps("SELECT tokens, updated FROM buckets WHERE key = ?");
        read.setString(1, key);
        try (ResultSet rs = read.executeQuery()) {
            if (rs.next()) {
                tokens = refill(rs.getDouble(1), rs.getLong(2), now, permitsPerSecond, burst);
                updated = Math.max(now, rs.getLong(2));
            }
        }
        long waitMillis;
        if (tokens >= 1.0) {
            tokens -= 1.0;
            waitMillis = 0;
        } else {
            waitMillis = Math.max(1, (long) Math.ceil((1.0 - tokens) * 1000.0 / permitsPerSecond));
        }
        PreparedStatement write = tx.ps("INSERT INTO buckets(key, tokens, updated) VALUES (?, ?, ?) "
                + "ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated");
        write.setString(1, key);
        write.setDouble(2, tokens);
        write.setLong(3, updated);
        write.executeUpdate();
        return waitMillis;
    }

    /** The bucket's tokens at {@code now}: what it held plus the refill since, never above {@code burst}. */
    static double refill(double tokens, long updated, long now, double permitsPerSecond, int burst) {
        long elapsed = Math.max(0, now - updated);
        return Math.min(burst, tokens + elapsed * permitsPerSecond / 1000.0);
    }
}

package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.TaskMessage;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The reserve step of {@link SqliteBroker#reserve}, inside the caller's write transaction: the ready messages of
 * each queue in delivery order (priority, then age), leased to one consumer. A message is ready when its
 * {@code visible_at} has passed: an ETA that came, or a reservation that lapsed, which is then counted a
 * redelivery. No sweep is needed: the lapse is seen by the next reserve.
 */
final class Reservations {
    private Reservations() {
    }

    /** The earliest visible_at among the queues' messages (Long.MAX_VALUE if none). */
    static long nextVisible(SqliteStore.Tx tx, List<String> queues) throws SQLException {
        long next = Long.MAX_VALUE;
        PreparedStatement ps = tx.ps("SELECT min(visible_at) FROM messages WHERE queue = ?");
        for (String queue : queues) {
            ps.setString(1, queue);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    long v = rs.getLong(1);
                    if (!rs.wasNull()) {
                        next = Math.min(next, v);
                    }
                }
            }
        }
        return next;
    }

    /** A deliverable message row as read, before it is leased. */
    private record Row(long seq, long taskSeq, String body, boolean lapsed, int lapses) {
    }

    static List<Delivery> reserve(SqliteStore.Tx tx, Receipts receipts, String consumer, List<String> queues, int max,
            long visibilityMillis) throws SQLException {
        long now = System.currentTimeMillis();
        long visibleAgain = now + visibilityMillis;
        List<Delivery> got = new ArrayList<>(Math.min(max, 64));
        // INDEXED BY: walk the queue in delivery order and stop after `room` rows. Left to itself (no ANALYZE
        // statistics) the planner picks the visible_at index and sorts every ready row of the queue per reserve.
        PreparedStatement select = tx.ps("SELECT seq, task_seq, body, consumer, lapses FROM messages "
                + "INDEXED BY messages_order WHERE queue = ? AND visible_at <= ? ORDER BY priority DESC, seq LIMIT ?");
        PreparedStatement lease = tx.ps(
                "UPDATE messages SET consumer = ?, receipt = ?, visible_at = ?, lapses = ? WHERE seq = ?");
        PreparedStatement receive = tx.ps("UPDATE tasks SET state = 'RECEIVED', attempt = ?, "
                + "deliveries = deliveries + 1, worker = ? WHERE seq = ?");
        int redelivered = 0;
        for (String queue : queues) {
            int room = max - got.size();
            if (room == 0) {
                break;
            }
            List<Row> rows = new ArrayList<>();
            select.setString(1, queue);
            select.setLong(2, now);
            select.setInt(3, room);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4) != null,
                            rs.getInt(5)));
                }
            }
            for (Row row : rows) {
                int lapses = row.lapses() + (row.lapsed() ? 1 : 0);
                String receipt = receipts.next();
                lease.setString(1, consumer);
                lease.setString(2, receipt);
                lease.setLong(3, visibleAgain);
                lease.setInt(4, lapses);
                lease.setLong(5, row.seq());
                lease.executeUpdate();
                TaskMessage message = MessageCodec.decode(row.body());
                receive.setInt(1, message.attempt());
                receive.setString(2, consumer);
                receive.setLong(3, row.taskSeq());
                receive.executeUpdate();
                if (row.lapsed()) {
                    redelivered++;
                }
                got.add(new Delivery(message, consumer, receipt, lapses + 1));
            }
        }
        tx.count("delivered", got.size());
        tx.count("redelivered", redelivered);
        return got;
    }
}

package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.task.TaskState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The chord rows: a count of members still to succeed, a failed flag, and the callback message. Counted down inside
 * the member's settlement transaction, so the callback is enqueued exactly once, by whichever member's success
 * commits last, even when members settle at once from several processes (their transactions are serialized by the
 * file's write lock).
 */
final class Chords {
    private Chords() {
    }

    static void open(SqliteStore.Tx tx, String chordId, List<String> memberIds, TaskMessage callback)
            throws SQLException {
        PreparedStatement exists = tx.ps("SELECT 1 FROM chords WHERE id = ?");
        exists.setString(1, chordId);
        try (ResultSet rs = exists.executeQuery()) {
            if (rs.next()) {
                throw new IllegalArgumentException("chord " + chordId + " is already open");
            }
        }
        if (!TaskRows.insertTask(tx, callback)) {
            throw new IllegalArgumentException("the chord callback's id " + callback.id()
                    + " (or its idempotency key) is already taken");
        }
        PreparedStatement chord = tx.ps(
                "INSERT INTO chords(id, callback_id, callback, remaining) VALUES (?, ?, ?, ?)");
        chord.setString(1, chordId);
        chord.setString(2, callback.id());
        chord.setString(3, MessageCodec.encode(callback));
        chord.setInt(4, memberIds.size());
        chord.executeUpdate();
        PreparedStatement member = tx.ps("INSERT INTO chord_members(chord_id, idx, task_id) VALUES (?, ?, ?)");
        for (int i = 0; i < memberIds.size(); i++) {
            member.setString(1, chordId);
            member.setInt(2, i);
            member.setString(3, memberIds.get(i));
            member.executeUpdate();
        }
    }

    static List<String> members(SqliteStore.Tx tx, String chordId) throws SQLException {
        PreparedStatement ps = tx.ps("SELECT task_id FROM chord_members WHERE chord_id = ? ORDER BY idx");
        ps.setString(1, chordId);
        List<String> ids = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    /** A member succeeded: count down, and enqueue the callback if it was the last. */
    static void memberSucceeded(SqliteStore.Tx tx, String chordId) throws SQLException {
        PreparedStatement ps = tx.ps("UPDATE chords SET remaining = remaining - 1 WHERE id = ? AND failed = 0 "
                + "RETURNING remaining, callback");
        ps.setString(1, chordId);
        String callback = null;
        try (ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getInt(1) == 0) {
                callback = rs.getString(2);
            }
        }
        if (callback != null) {
            TaskMessage message = MessageCodec.decode(callback);
            // The callback may have been revoked while the chord ran: then it stays revoked.
            if (TaskRows.state(tx, message.id()) == TaskState.PENDING) {
                TaskRows.insertMessage(tx, message);
            }
        }
    }

    /** A member failed for good (or was revoked): the chord fails, and its callback's task with it. */
    static void memberFailed(SqliteStore.Tx tx, String chordId, String memberId, String error, long now)
            throws SQLException {
        PreparedStatement ps = tx.ps("UPDATE chords SET failed = 1 WHERE id = ? AND failed = 0 RETURNING callback_id");
        ps.setString(1, chordId);
        String callbackId = null;
        try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                callbackId = rs.getString(1);
            }
        }
        if (callbackId != null) {
            TaskState state = TaskRows.state(tx, callbackId);
            if (state != null && !state.isFinal()) {
                TaskRows.finish(tx, callbackId, TaskState.FAILURE, null,
                        "chord " + chordId + " failed: member " + memberId + ": " + error, now);
                tx.count("failed", 1);
            }
        }
    }
}

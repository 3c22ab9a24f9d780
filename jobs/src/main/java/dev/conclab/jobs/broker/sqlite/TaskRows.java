package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Optional;

/**
 * The {@code tasks} and {@code messages} rows of one task: inserting them, moving the task's state, reading its
 * record. Every method runs inside the caller's transaction.
 */
final class TaskRows {
    static final String RECORD_COLUMNS =
            "t.id, t.name, t.state, t.args, t.result, t.error, t.attempt, t.deliveries, t.worker, t.submitted, "
                    + "t.started, t.finished";

    private TaskRows() {
    }

    /** Inserts the task's record in state PENDING; false if its id or idempotency key is already taken. */
    static boolean insertTask(SqliteStore.Tx tx, TaskMessage m) throws SQLException {
        PreparedStatement ps = tx.ps("INSERT INTO tasks(id, name, state, args, attempt, submitted, idem_key, chord_id) "
                + "VALUES (?, ?, 'PENDING', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
        ps.setString(1, m.id());
        ps.setString(2, m.name());
        ps.setString(3, m.argsJson());
        ps.setInt(4, m.attempt());
        ps.setLong(5, m.submittedMillis());
        setNullable(ps, 6, m.idempotencyKey());
        setNullable(ps, 7, m.chordId());
        return ps.executeUpdate() == 1;
    }

    /** The id of the task that holds {@code m}'s idempotency key or id. */
    static String holderOf(SqliteStore.Tx tx, TaskMessage m) throws SQLException {
        if (m.idempotencyKey() != null) {
            PreparedStatement ps = tx.ps("SELECT id FROM tasks WHERE idem_key = ?");
            ps.setString(1, m.idempotencyKey());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return rs.getString(1);
                }
            }
        }
        return m.id();
    }

    /** Inserts a deliverable message row for the task (its record must exist). */
    static void insertMessage(SqliteStore.Tx tx, TaskMessage m) throws SQLException {
        PreparedStatement ps = tx.ps("INSERT INTO messages(task_id, queue, priority, not_before, visible_at, body) "
                + "VALUES (?, ?, ?, ?, ?, ?)");
        ps.setString(1, m.id());
        ps.setString(2, m.queue());
        ps.setInt(3, m.priority());
        ps.setLong(4, m.notBeforeMillis());
        ps.setLong(5, m.notBeforeMillis());
        ps.setString(6, MessageCodec.encode(m));
        ps.executeUpdate();
        tx.wake();
    }

    static void deleteMessage(SqliteStore.Tx tx, String taskId) throws SQLException {
        PreparedStatement ps = tx.ps("DELETE FROM messages WHERE task_id = ?");
        ps.setString(1, taskId);
        ps.executeUpdate();
    }

    /** The task's state, or null if the id is unknown. */
    static TaskState state(SqliteStore.Tx tx, String taskId) throws SQLException {
        PreparedStatement ps = tx.ps("SELECT state FROM tasks WHERE id = ?");
        ps.setString(1, taskId);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? TaskState.valueOf(rs.getString(1)) : null;
        }
    }

    /** The receipt of the message's current reservation; "" if it is queued, null if there is no message. */
    static String receipt(SqliteStore.Tx tx, String taskId) throws SQLException {
        PreparedStatement ps = tx.ps("SELECT receipt FROM messages WHERE task_id = ?");
        ps.setString(1, taskId);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return null;
            }
            String receipt = rs.getString(1);
            return receipt == null ? "" : receipt;
        }
    }

    /** Moves a task to a final state, stamping the finish time; returns its chord id, or null. */
    static String finish(SqliteStore.Tx tx, String taskId, TaskState state, String result, String error, long now)
            throws SQLException {
        PreparedStatement ps = tx.ps(
                "UPDATE tasks SET state = ?, result = ?, error = ?, finished = ? WHERE id = ? RETURNING chord_id");
        ps.setString(1, state.name());
        setNullable(ps, 2, result);
        setNullable(ps, 3, error);
        ps.setLong(4, now);
        ps.setString(5, taskId);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static void setState(SqliteStore.Tx tx, String taskId, TaskState state, String error) throws SQLException {
        PreparedStatement ps = tx.ps("UPDATE tasks SET state = ?, error = coalesce(?, error) WHERE id = ?");
        ps.setString(1, state.name());
        setNullable(ps, 2, error);
        ps.setString(3, taskId);
        ps.executeUpdate();
    }

    static Optional<TaskRecord> record(SqliteStore.Tx tx, String taskId) throws SQLException {
        PreparedStatement ps = tx.ps("SELECT " + RECORD_COLUMNS + " FROM tasks t WHERE t.id = ?");
        ps.setString(1, taskId);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(toRecord(rs)) : Optional.empty();
        }
    }

    static TaskRecord toRecord(ResultSet rs) throws SQLException {
        return new TaskRecord(rs.getString(1), rs.getString(2), TaskState.valueOf(rs.getString(3)), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getInt(7), rs.getInt(8), rs.getString(9), rs.getLong(10),
                rs.getLong(11), rs.getLong(12));
    }

    static void setNullable(PreparedStatement ps, int index, String value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.VARCHAR);
        } else {
            ps.setString(index, value);
        }
    }
}

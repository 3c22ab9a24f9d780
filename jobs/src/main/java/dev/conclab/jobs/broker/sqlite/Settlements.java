package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.task.TaskState;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * One settlement of {@link SqliteBroker#settle}, inside the caller's write transaction, so the task's record, the
 * removal or re-enqueue of its message, a chain's next step and a chord's count-down commit together or not at all.
 * The first settlement that gives the task a final state wins; a later one is dropped and counted a duplicate. A
 * Retry or Release needs the current receipt (a stale one is dropped, not counted).
 */
final class Settlements {
    private Settlements() {
    }

    static boolean settle(SqliteStore.Tx tx, Delivery d, Settlement s) throws SQLException {
        String taskId = d.message().id();
        TaskRows.TaskRef task = TaskRows.find(tx, taskId);
        if (task == null) {
            return false;
        }
        if (task.state().isFinal()) {
            tx.count("duplicates", 1);
            return false;
        }
        if (!task.hasMessage()) {
            return false; // no message for a task without a final state: nothing this delivery can end
        }
        boolean current = d.receipt().equals(task.receipt());
        long seq = task.seq();
        long now = System.currentTimeMillis();
        switch (s) {
            case Settlement.Success(String result) -> {
                TaskRows.deleteMessage(tx, task.messageSeq());
                String chord = TaskRows.finish(tx, seq, TaskState.SUCCESS, result, null, now);
                tx.count("succeeded", 1);
                if (d.message().link() != null) {
                    TaskRows.enqueue(tx, d.message().link());
                }
                if (chord != null) {
                    Chords.memberSucceeded(tx, chord);
                }
            }
            case Settlement.Failure(String error, boolean deadLetter) -> {
                TaskRows.deleteMessage(tx, task.messageSeq());
                String chord = TaskRows.finish(tx, seq, TaskState.FAILURE, null, error, now);
                tx.count("failed", 1);
                if (deadLetter) {
                    PreparedStatement ps = tx.ps("INSERT INTO dead_letters(task_id, body, at) VALUES (?, ?, ?)");
                    ps.setString(1, taskId);
                    ps.setString(2, MessageCodec.encode(d.message()));
                    ps.setLong(3, now);
                    ps.executeUpdate();
                }
                if (chord != null) {
                    Chords.memberFailed(tx, chord, taskId, error, now);
                }
            }
            case Settlement.Revoked(String reason) -> {
                TaskRows.deleteMessage(tx, task.messageSeq());
                String chord = TaskRows.finish(tx, seq, TaskState.REVOKED, null, reason, now);
                if (chord != null) {
                    Chords.memberFailed(tx, chord, taskId, "revoked: " + reason, now);
                }
            }
            case Settlement.Retry(long notBefore, String error) -> {
                if (!current) {
                    return false;
                }
                TaskMessage next = d.message().nextAttempt(notBefore);
                PreparedStatement ps = tx.ps("UPDATE messages SET body = ?, not_before = ?, visible_at = ?, "
                        + "consumer = NULL, receipt = NULL, lapses = 0 WHERE seq = ?");
                ps.setString(1, MessageCodec.encode(next));
                ps.setLong(2, notBefore);
                ps.setLong(3, notBefore);
                ps.setLong(4, task.messageSeq());
                ps.executeUpdate();
                TaskRows.setState(tx, seq, TaskState.RETRY, error);
                tx.wake();
            }
            case Settlement.Release() -> {
                if (!current) {
                    return false;
                }
                PreparedStatement ps = tx.ps("UPDATE messages SET visible_at = not_before, consumer = NULL, "
                        + "receipt = NULL WHERE seq = ?");
                ps.setLong(1, task.messageSeq());
                ps.executeUpdate();
                TaskRows.setState(tx, seq, TaskState.PENDING, null);
                tx.wake();
            }
        }
        return true;
    }
}

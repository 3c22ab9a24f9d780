package dev.conclab.jobs.dag.store;

import dev.conclab.jobs.dag.DagRunState;
import dev.conclab.jobs.dag.RunType;
import dev.conclab.jobs.dag.TaskInstanceState;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The scheduler's durable state in one SQLite file (WAL): tables {@code dag_run}, {@code task_instance} (state, try
 * number, queue task id, start/end, worker) and {@code task_try} (one row per try, for the Gantt trace). It may be
 * the broker's own file: its tables have their own names.
 *
 * <p><b>Durability.</b> Every method that writes commits before it returns, in one transaction, so a scheduler that
 * dies at any point leaves either all or none of one step's changes (WAL with {@code synchronous=NORMAL}: durable
 * across a crash of the process; the last transactions may be lost on power failure).
 *
 * <p><b>Uniqueness.</b> A run id is the primary key, and {@link #createRun} inserts only if it is new, so creating the
 * run of one scheduled interval twice (a restarted scheduler catching up) is a no-op.
 *
 * <p><b>Thread safety.</b> Safe for use by many threads: methods are serialized on one connection. Two stores on one
 * file (two scheduler processes) are safe for SQLite but the scheduler assumes it is the only writer.
 */
public final class DagStore implements AutoCloseable {

    private final Connection connection;
    private boolean closed;

    private DagStore(Connection connection) {
        this.connection = connection;
    }

    /**
     * Opens (creating if needed) the store in {@code file}.
     *
     * @throws IllegalStateException if the file cannot be opened as SQLite
     */
    public static DagStore open(Path file) {
        Objects.requireNonNull(file, "file");
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=NORMAL");
                s.execute("PRAGMA busy_timeout=10000");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS dag_run (
                          run_id TEXT PRIMARY KEY, dag_id TEXT NOT NULL, run_type TEXT NOT NULL,
                          logical_date INTEGER NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL,
                          created INTEGER NOT NULL, start_ms INTEGER NOT NULL DEFAULT 0,
                          end_ms INTEGER NOT NULL DEFAULT 0)""");
                s.execute("CREATE INDEX IF NOT EXISTS dag_run_by_dag ON dag_run (dag_id, logical_date)");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS task_instance (
                          run_id TEXT NOT NULL, task_id TEXT NOT NULL, state TEXT NOT NULL,
                          try_number INTEGER NOT NULL DEFAULT 0, queue_task_id TEXT,
                          not_before INTEGER NOT NULL DEFAULT 0, start_ms INTEGER NOT NULL DEFAULT 0,
                          end_ms INTEGER NOT NULL DEFAULT 0, worker TEXT, error TEXT,
                          PRIMARY KEY (run_id, task_id))""");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS task_try (
                          run_id TEXT NOT NULL, task_id TEXT NOT NULL, try_number INTEGER NOT NULL,
                          queue_task_id TEXT NOT NULL, state TEXT NOT NULL, start_ms INTEGER NOT NULL,
                          end_ms INTEGER NOT NULL, worker TEXT, PRIMARY KEY (run_id, task_id, try_number))""");
            }
            return new DagStore(c);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the DAG store " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates a run in state QUEUED with one NONE task instance per task id, unless a run with its id exists.
     *
     * @return true if it was created
     */
    public synchronized boolean createRun(DagRun run, Collection<String> taskIds) {
        return inTransaction(() -> {
            try (PreparedStatement ins = connection.prepareStatement("""
                    INSERT OR IGNORE INTO dag_run (run_id, dag_id, run_type, logical_date, state, params, created)
                    VALUES (?, ?, ?, ?, ?, ?, ?)""")) {
                ins.setString(1, run.runId());
                ins.setString(2, run.dagId());
                ins.setString(3, run.type().name());
                ins.setLong(4, run.logicalDate().toEpochMilli());
                ins.setString(5, run.state().name());
                ins.setString(6, run.paramsJson());
                ins.setLong(7, run.createdMillis());
                if (ins.executeUpdate() == 0) {
                    return false;
                }
            }
            try (PreparedStatement ti = connection.prepareStatement(
                    "INSERT INTO task_instance (run_id, task_id, state) VALUES (?, ?, 'NONE')")) {
                for (String taskId : taskIds) {
                    ti.setString(1, run.runId());
                    ti.setString(2, taskId);
                    ti.addBatch();
                }
                ti.executeBatch();
            }
            return true;
        });
    }

    /** The run with this id. */
    public synchronized Optional<DagRun> run(String runId) {
        List<DagRun> found = queryRuns("SELECT * FROM dag_run WHERE run_id = ?", runId);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
    }

    /** The DAG's runs, oldest logical date first. */
    public synchronized List<DagRun> runs(String dagId) {
        return queryRuns("SELECT * FROM dag_run WHERE dag_id = ? ORDER BY logical_date, created, run_id", dagId);
    }

    /**
     * The ids of the DAGs that have runs in this store, whatever DAG definitions are loaded (a DAG whose file is
     * gone keeps its runs): the DAG with the newest run (latest logical date, then latest creation) first, ties by
     * id; at most {@code limit} of them. Reads only.
     *
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public synchronized List<String> dagIds(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, got " + limit);
        }
        return guard(() -> {
            try (PreparedStatement ps = connection.prepareStatement("""
                    SELECT dag_id FROM dag_run GROUP BY dag_id
                    ORDER BY MAX(logical_date) DESC, MAX(created) DESC, dag_id LIMIT ?""")) {
                ps.setInt(1, limit);
                List<String> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            }
        });
    }

    /** The DAG's runs in one state, oldest logical date first. */
    public synchronized List<DagRun> runs(String dagId, DagRunState state) {
        return queryRuns("SELECT * FROM dag_run WHERE dag_id = ? AND state = ? ORDER BY logical_date, created, run_id",
                dagId, state.name());
    }

    /** Whether the DAG has a run of any type at this logical date. */
    public synchronized boolean hasRunAt(String dagId, Instant logicalDate) {
        return !queryRuns("SELECT * FROM dag_run WHERE dag_id = ? AND logical_date = ?", dagId,
                logicalDate.toEpochMilli()).isEmpty();
    }

    /** The logical date of the DAG's latest SCHEDULED run. */
    public synchronized Optional<Instant> latestScheduled(String dagId) {
        List<DagRun> found = queryRuns("SELECT * FROM dag_run WHERE dag_id = ? AND run_type = 'SCHEDULED' "
                + "ORDER BY logical_date DESC LIMIT 1", dagId);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst().logicalDate());
    }

    /** Moves a run to {@code state}; sets its start or end time if given (non-zero). */
    public synchronized void updateRun(String runId, DagRunState state, long startMillis, long endMillis) {
        inTransaction(() -> {
            try (PreparedStatement ps = connection.prepareStatement("""
                    UPDATE dag_run SET state = ?,
                      start_ms = CASE WHEN ? > 0 THEN ? ELSE start_ms END,
                      end_ms = CASE WHEN ? > 0 THEN ? ELSE end_ms END
                    WHERE run_id = ?""")) {
                ps.setString(1, state.name());
                ps.setLong(2, startMillis);
                ps.setLong(3, startMillis);
                ps.setLong(4, endMillis);
                ps.setLong(5, endMillis);
                ps.setString(6, runId);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The run's task instances, in no particular order. */
    public synchronized List<TaskInstance> instances(String runId) {
        return guard(() -> {
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT * FROM task_instance WHERE run_id = ?")) {
                ps.setString(1, runId);
                List<TaskInstance> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new TaskInstance(rs.getString("run_id"), rs.getString("task_id"),
                                TaskInstanceState.valueOf(rs.getString("state")), rs.getInt("try_number"),
                                rs.getString("queue_task_id"), rs.getLong("not_before"), rs.getLong("start_ms"),
                                rs.getLong("end_ms"), rs.getString("worker"), rs.getString("error")));
                    }
                }
                return out;
            }
        });
    }

    /** The run's tries, by task then try number. */
    public synchronized List<TaskTry> tries(String runId) {
        return guard(() -> {
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT * FROM task_try WHERE run_id = ? ORDER BY task_id, try_number")) {
                ps.setString(1, runId);
                List<TaskTry> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new TaskTry(rs.getString("run_id"), rs.getString("task_id"), rs.getInt("try_number"),
                                rs.getString("queue_task_id"), TaskInstanceState.valueOf(rs.getString("state")),
                                rs.getLong("start_ms"), rs.getLong("end_ms"), rs.getString("worker")));
                    }
                }
                return out;
            }
        });
    }

    /** Writes the given instances (whole rows) and tries (inserted or replaced) in one transaction. */
    public synchronized void save(Collection<TaskInstance> instances, Collection<TaskTry> tries) {
        if (instances.isEmpty() && tries.isEmpty()) {
            return;
        }
        inTransaction(() -> {
            try (PreparedStatement ps = connection.prepareStatement("""
                    UPDATE task_instance SET state = ?, try_number = ?, queue_task_id = ?, not_before = ?,
                      start_ms = ?, end_ms = ?, worker = ?, error = ? WHERE run_id = ? AND task_id = ?""")) {
                for (TaskInstance ti : instances) {
                    ps.setString(1, ti.state().name());
                    ps.setInt(2, ti.tryNumber());
                    ps.setString(3, ti.queueTaskId());
                    ps.setLong(4, ti.notBeforeMillis());
                    ps.setLong(5, ti.startMillis());
                    ps.setLong(6, ti.endMillis());
                    ps.setString(7, ti.worker());
                    ps.setString(8, ti.error());
                    ps.setString(9, ti.runId());
                    ps.setString(10, ti.taskId());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = connection.prepareStatement("""
                    INSERT OR REPLACE INTO task_try (run_id, task_id, try_number, queue_task_id, state, start_ms,
                      end_ms, worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")) {
                for (TaskTry t : tries) {
                    ps.setString(1, t.runId());
                    ps.setString(2, t.taskId());
                    ps.setInt(3, t.tryNumber());
                    ps.setString(4, t.queueTaskId());
                    ps.setString(5, t.state().name());
                    ps.setLong(6, t.startMillis());
                    ps.setLong(7, t.endMillis());
                    ps.setString(8, t.worker());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** Closes the connection; later calls fail. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException("closing the DAG store: " + e.getMessage(), e);
        }
    }

    private List<DagRun> queryRuns(String sql, Object... args) {
        return guard(() -> {
            try (PreparedStatement ps = connection.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                List<DagRun> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new DagRun(rs.getString("run_id"), rs.getString("dag_id"),
                                RunType.valueOf(rs.getString("run_type")),
                                Instant.ofEpochMilli(rs.getLong("logical_date")),
                                DagRunState.valueOf(rs.getString("state")), rs.getString("params"),
                                rs.getLong("created"), rs.getLong("start_ms"), rs.getLong("end_ms")));
                    }
                }
                return out;
            }
        });
    }

    private interface Sql<T> {
        T run() throws SQLException;
    }

    private <T> T guard(Sql<T> body) {
        if (closed) {
            throw new IllegalStateException("the DAG store is closed");
        }
        try {
            return body.run();
        } catch (SQLException e) {
            throw new IllegalStateException("DAG store: " + e.getMessage(), e);
        }
    }

    private <T> T inTransaction(Sql<T> body) {
        return guard(() -> {
            connection.setAutoCommit(false);
            try {
                T result = body.run();
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        });
    }
}

package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The embedded broker: a {@link Broker} on one SQLite file in WAL mode. Nothing to install; the queue, the records,
 * the chords, the rate-limit buckets and the counters live in the file and survive a restart of every process.
 *
 * <p><b>Durability.</b> Every operation that changes the store is one transaction, committed before the method
 * returns. With {@link SqliteOptions.Synchronous#NORMAL} (the default) a committed transaction survives a crash of
 * the process (the WAL is in the OS's page cache), not a power loss or an OS crash, which may lose the last
 * transactions (never corrupt the file); {@link SqliteOptions.Synchronous#FULL} fsyncs every commit and survives
 * those too, at one fsync per transaction.
 *
 * <p><b>Sharing a file.</b> Any number of broker instances, in this JVM or in other processes on the same machine,
 * may open one file: every read-modify-write (reserve, settle, enqueue, revoke, a permit, a chord's count-down) is
 * one {@code BEGIN IMMEDIATE} transaction, so they are serialized by SQLite's write lock and each sees the others'
 * committed work; a writer waits up to the {@linkplain SqliteOptions#busyTimeout busy timeout} for the lock. Do not
 * put the file on a network file system (SQLite's locks are not reliable there): workers on many machines use the
 * Redis broker.
 *
 * <p><b>Blocking.</b> Only {@link #reserve} blocks. A consumer blocked in it wakes at once when a broker of the same
 * JVM on the same file commits a deliverable message (an enqueue, a retry, a release, a chain link, a chord
 * callback); enqueues from other processes are found by polling, with a back-off from {@value #MIN_POLL_MILLIS} ms
 * doubling to at most {@value #MAX_POLL_MILLIS} ms, and never later than the next ETA or reservation lapse the file
 * holds. So a lapsed reservation is redelivered within about {@value #MAX_POLL_MILLIS} ms of its timeout to a
 * consumer that is waiting, without any periodic sweep.
 *
 * <p><b>Thread safety.</b> Safe for use by any number of threads. Each instance has one connection, used by one
 * transaction at a time; several threads of one instance therefore take turns (SQLite admits one writer per file
 * anyway), and the fast paths are batched: {@link #enqueueAll} and a {@code reserve} of up to {@code max} messages
 * are one transaction each, as is {@link #settleAll}.
 *
 * <p><b>Beyond the contract.</b> An enqueue whose task id is already known stores nothing and counts a duplicate,
 * like a repeated idempotency key (a client resubmitting after a lost reply gets its first task back). A
 * {@link Settlement.Retry} or {@link Settlement.Release} with a stale receipt (the message was redelivered meanwhile)
 * is dropped, returning false, and not counted as a duplicate: the consumer now holding the message decides.
 * Revoking a task deletes its message at once, even if reserved, so it can never be delivered again.
 */
public final class SqliteBroker implements Broker {
    static final long MIN_POLL_MILLIS = 2;
    static final long MAX_POLL_MILLIS = 50;

    private final SqliteStore store;
    private final SqliteOptions options;
    private final String receiptPrefix = Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";
    private final AtomicLong receipts = new AtomicLong();

    private SqliteBroker(SqliteStore store, SqliteOptions options) {
        this.store = store;
        this.options = options;
    }

    /** Opens (creating if missing) the broker file with the {@linkplain SqliteOptions#DEFAULTS defaults}. */
    public static SqliteBroker open(Path file) {
        return open(file, SqliteOptions.DEFAULTS);
    }

    /**
     * Opens (creating if missing, with its directories) the broker file.
     *
     * @throws SqliteStoreException if the file cannot be opened or holds another schema
     */
    public static SqliteBroker open(Path file, SqliteOptions options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        return new SqliteBroker(SqliteStore.open(file, options), options);
    }

    // ------------------------------------------------------------------------------------------------ enqueue

    @Override
    public String enqueue(TaskMessage message) {
        validate(message);
        return store.write("enqueue", tx -> enqueueIn(tx, message));
    }

    /** All in one transaction: all are stored, or (on an error) none. */
    @Override
    public List<String> enqueueAll(List<TaskMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        messages.forEach(SqliteBroker::validate);
        if (messages.isEmpty()) {
            return List.of();
        }
        return store.write("enqueueAll", tx -> {
            List<String> ids = new ArrayList<>(messages.size());
            for (TaskMessage m : messages) {
                ids.add(enqueueIn(tx, m));
            }
            return ids;
        });
    }

    private static String enqueueIn(SqliteStore.Tx tx, TaskMessage m) throws SQLException {
        if (!TaskRows.insertTask(tx, m)) {
            tx.count("duplicates", 1);
            return TaskRows.holderOf(tx, m);
        }
        TaskRows.insertMessage(tx, m);
        return m.id();
    }

    private static void validate(TaskMessage m) {
        Objects.requireNonNull(m, "message");
        for (TaskMessage link = m.link(), parent = m; link != null; parent = link, link = link.link()) {
            if (!parent.id().equals(link.parentId())) {
                throw new IllegalArgumentException("the chain link " + link.id() + " of task " + parent.id()
                        + " must have parentId " + parent.id() + ", has " + link.parentId());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ reserve

    @Override
    public List<Delivery> reserve(String consumer, List<String> queues, int max, Duration visibility, Duration wait)
            throws InterruptedException {
        Objects.requireNonNull(consumer, "consumer");
        Objects.requireNonNull(queues, "queues");
        Objects.requireNonNull(visibility, "visibility");
        Objects.requireNonNull(wait, "wait");
        if (queues.isEmpty()) {
            throw new IllegalArgumentException("queues must name at least one queue");
        }
        queues.forEach(q -> Objects.requireNonNull(q, "a queue name"));
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1, was " + max);
        }
        if (visibility.toMillis() < 1) {
            throw new IllegalArgumentException("visibility must be >= 1 ms, was " + visibility);
        }
        if (wait.isNegative()) {
            throw new IllegalArgumentException("wait must be >= 0, was " + wait);
        }
        List<String> order = List.copyOf(new LinkedHashSet<>(queues));
        long deadline = System.nanoTime() + wait.toNanos();
        long backoff = MIN_POLL_MILLIS;
        WakeSignal signal = store.signal();
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while reserving from " + order);
            }
            long seen = signal.version();
            long now = System.currentTimeMillis();
            long nextVisible = store.auto("reserve", tx -> nextVisible(tx, order));
            if (nextVisible <= now) {
                List<Delivery> got = store.write("reserve", tx -> reserveIn(tx, consumer, order, max,
                        visibility.toMillis()));
                if (!got.isEmpty() || System.nanoTime() - deadline >= 0) {
                    return got;
                }
                continue; // another consumer took them first: look again at once
            }
            long leftNanos = deadline - System.nanoTime();
            if (leftNanos <= 0) {
                return List.of();
            }
            long pauseMillis = Math.min(backoff, nextVisible - now);
            long pauseNanos = Math.min(leftNanos, WakeSignal.millisToNanos(pauseMillis));
            if (signal.awaitChange(seen, pauseNanos)) {
                backoff = MIN_POLL_MILLIS;
            } else {
                backoff = Math.min(MAX_POLL_MILLIS, backoff * 2);
            }
        }
    }

    /** The earliest visible_at among the queues' messages (Long.MAX_VALUE if none). */
    private static long nextVisible(SqliteStore.Tx tx, List<String> queues) throws SQLException {
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
    private record Row(long seq, String taskId, String body, boolean lapsed, int lapses) {
    }

    private List<Delivery> reserveIn(SqliteStore.Tx tx, String consumer, List<String> queues, int max,
            long visibilityMillis) throws SQLException {
        long now = System.currentTimeMillis();
        long visibleAgain = now + visibilityMillis;
        List<Delivery> got = new ArrayList<>(Math.min(max, 64));
        // INDEXED BY: walk the queue in delivery order and stop after `room` rows. Left to itself (no ANALYZE
        // statistics) the planner picks the visible_at index and sorts every ready row of the queue per reserve.
        PreparedStatement select = tx.ps("SELECT seq, task_id, body, consumer, lapses FROM messages "
                + "INDEXED BY messages_order WHERE queue = ? AND visible_at <= ? ORDER BY priority DESC, seq LIMIT ?");
        PreparedStatement lease = tx.ps(
                "UPDATE messages SET consumer = ?, receipt = ?, visible_at = ?, lapses = ? WHERE seq = ?");
        PreparedStatement receive = tx.ps("UPDATE tasks SET state = 'RECEIVED', attempt = ?, "
                + "deliveries = deliveries + 1, worker = ? WHERE id = ?");
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
                    rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4) != null,
                            rs.getInt(5)));
                }
            }
            for (Row row : rows) {
                int lapses = row.lapses() + (row.lapsed() ? 1 : 0);
                String receipt = receiptPrefix + receipts.incrementAndGet();
                lease.setString(1, consumer);
                lease.setString(2, receipt);
                lease.setLong(3, visibleAgain);
                lease.setInt(4, lapses);
                lease.setLong(5, row.seq());
                lease.executeUpdate();
                TaskMessage message = MessageCodec.decode(row.body());
                receive.setInt(1, message.attempt());
                receive.setString(2, consumer);
                receive.setString(3, row.taskId());
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

    // ------------------------------------------------------------------------------------------------ reservations

    @Override
    public boolean extend(Delivery delivery, Duration visibility) {
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(visibility, "visibility");
        if (visibility.toMillis() < 1) {
            throw new IllegalArgumentException("visibility must be >= 1 ms, was " + visibility);
        }
        long until = System.currentTimeMillis() + visibility.toMillis();
        return store.auto("extend", tx -> {
            PreparedStatement ps = tx.ps("UPDATE messages SET visible_at = ? WHERE task_id = ? AND receipt = ?");
            ps.setLong(1, until);
            ps.setString(2, delivery.message().id());
            ps.setString(3, delivery.receipt());
            return ps.executeUpdate() == 1;
        });
    }

    @Override
    public void started(Delivery delivery) {
        Objects.requireNonNull(delivery, "delivery");
        long now = System.currentTimeMillis();
        store.auto("started", tx -> {
            PreparedStatement ps = tx.ps("UPDATE tasks SET state = 'STARTED', started = ?, worker = ? "
                    + "WHERE id = ? AND state IN ('RECEIVED', 'STARTED') "
                    + "AND EXISTS (SELECT 1 FROM messages WHERE task_id = ? AND receipt = ?)");
            ps.setLong(1, now);
            ps.setString(2, delivery.consumer());
            ps.setString(3, delivery.message().id());
            ps.setString(4, delivery.message().id());
            ps.setString(5, delivery.receipt());
            return ps.executeUpdate();
        });
    }

    // ------------------------------------------------------------------------------------------------ settle

    @Override
    public boolean settle(Delivery delivery, Settlement settlement) {
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(settlement, "settlement");
        return store.write("settle", tx -> settleIn(tx, delivery, settlement));
    }

    /**
     * Settles many reservations in one transaction, each exactly as {@link #settle} would, in order; a batch of a
     * worker's finished tasks costs one commit instead of one each.
     */
    @Override
    public List<Boolean> settleAll(List<Delivery> deliveries, List<Settlement> settlements) {
        Objects.requireNonNull(deliveries, "deliveries");
        Objects.requireNonNull(settlements, "settlements");
        if (deliveries.size() != settlements.size()) {
            throw new IllegalArgumentException("one settlement per delivery: " + deliveries.size()
                    + " deliveries, " + settlements.size() + " settlements");
        }
        for (int i = 0; i < deliveries.size(); i++) {
            Objects.requireNonNull(deliveries.get(i), "delivery " + i);
            Objects.requireNonNull(settlements.get(i), "settlement " + i);
        }
        if (deliveries.isEmpty()) {
            return List.of();
        }
        return store.write("settleAll", tx -> {
            List<Boolean> done = new ArrayList<>(deliveries.size());
            for (int i = 0; i < deliveries.size(); i++) {
                done.add(settleIn(tx, deliveries.get(i), settlements.get(i)));
            }
            return done;
        });
    }

    private static boolean settleIn(SqliteStore.Tx tx, Delivery d, Settlement s) throws SQLException {
        String taskId = d.message().id();
        TaskState state = TaskRows.state(tx, taskId);
        if (state == null) {
            return false;
        }
        if (state.isFinal()) {
            tx.count("duplicates", 1);
            return false;
        }
        String receipt = TaskRows.receipt(tx, taskId);
        if (receipt == null) {
            return false; // no message for a task without a final state: nothing this delivery can end
        }
        boolean current = receipt.equals(d.receipt());
        long now = System.currentTimeMillis();
        switch (s) {
            case Settlement.Success(String result) -> {
                TaskRows.deleteMessage(tx, taskId);
                String chord = TaskRows.finish(tx, taskId, TaskState.SUCCESS, result, null, now);
                tx.count("succeeded", 1);
                if (d.message().link() != null) {
                    enqueueIn(tx, d.message().link());
                }
                if (chord != null) {
                    Chords.memberSucceeded(tx, chord);
                }
            }
            case Settlement.Failure(String error, boolean deadLetter) -> {
                TaskRows.deleteMessage(tx, taskId);
                String chord = TaskRows.finish(tx, taskId, TaskState.FAILURE, null, error, now);
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
                TaskRows.deleteMessage(tx, taskId);
                String chord = TaskRows.finish(tx, taskId, TaskState.REVOKED, null, reason, now);
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
                        + "consumer = NULL, receipt = NULL, lapses = 0 WHERE task_id = ?");
                ps.setString(1, MessageCodec.encode(next));
                ps.setLong(2, notBefore);
                ps.setLong(3, notBefore);
                ps.setString(4, taskId);
                ps.executeUpdate();
                TaskRows.setState(tx, taskId, TaskState.RETRY, error);
                tx.wake();
            }
            case Settlement.Release() -> {
                if (!current) {
                    return false;
                }
                PreparedStatement ps = tx.ps("UPDATE messages SET visible_at = not_before, consumer = NULL, "
                        + "receipt = NULL WHERE task_id = ?");
                ps.setString(1, taskId);
                ps.executeUpdate();
                TaskRows.setState(tx, taskId, TaskState.PENDING, null);
                tx.wake();
            }
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------ chords

    @Override
    public void openChord(String chordId, List<String> memberIds, TaskMessage callback) {
        Objects.requireNonNull(chordId, "chordId");
        Objects.requireNonNull(memberIds, "memberIds");
        validate(callback);
        if (chordId.isBlank()) {
            throw new IllegalArgumentException("chordId must not be blank");
        }
        if (memberIds.isEmpty()) {
            throw new IllegalArgumentException("chord " + chordId + " needs at least one member");
        }
        if (memberIds.stream().anyMatch(Objects::isNull) || new HashSet<>(memberIds).size() != memberIds.size()) {
            throw new IllegalArgumentException("chord " + chordId + " has null or repeated member ids: " + memberIds);
        }
        if (!chordId.equals(callback.chordResultsOf())) {
            throw new IllegalArgumentException("the callback of chord " + chordId
                    + " must have chordResultsOf " + chordId + ", has " + callback.chordResultsOf());
        }
        store.write("openChord", tx -> {
            Chords.open(tx, chordId, memberIds, callback);
            return null;
        });
    }

    @Override
    public List<String> chordMembers(String chordId) {
        Objects.requireNonNull(chordId, "chordId");
        return store.read("chordMembers", tx -> Chords.members(tx, chordId));
    }

    // ------------------------------------------------------------------------------------------------ records

    @Override
    public Optional<TaskRecord> record(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return store.auto("record", tx -> TaskRows.record(tx, taskId));
    }

    /** One snapshot of all the records. */
    @Override
    public List<TaskRecord> records(Collection<String> taskIds) {
        Objects.requireNonNull(taskIds, "taskIds");
        return store.read("records", tx -> {
            List<TaskRecord> found = new ArrayList<>(taskIds.size());
            for (String id : taskIds) {
                TaskRows.record(tx, Objects.requireNonNull(id, "a task id")).ifPresent(found::add);
            }
            return found;
        });
    }

    // ------------------------------------------------------------------------------------------------ revoke

    @Override
    public boolean revoke(String taskId, String reason) {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(reason, "reason");
        return store.write("revoke", tx -> {
            TaskState state = TaskRows.state(tx, taskId);
            if (state == null || state.isFinal()) {
                return false;
            }
            long now = System.currentTimeMillis();
            TaskRows.deleteMessage(tx, taskId);
            String chord = TaskRows.finish(tx, taskId, TaskState.REVOKED, null, reason, now);
            if (chord != null) {
                Chords.memberFailed(tx, chord, taskId, "revoked: " + reason, now);
            }
            return true;
        });
    }

    @Override
    public Set<String> revokedAmong(Collection<String> taskIds) {
        Objects.requireNonNull(taskIds, "taskIds");
        if (taskIds.isEmpty()) {
            return Set.of();
        }
        return store.read("revokedAmong", tx -> {
            Set<String> revoked = new LinkedHashSet<>();
            PreparedStatement ps = tx.ps("SELECT 1 FROM tasks WHERE id = ? AND state = 'REVOKED'");
            for (String id : taskIds) {
                ps.setString(1, Objects.requireNonNull(id, "a task id"));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        revoked.add(id);
                    }
                }
            }
            return revoked;
        });
    }

    // ------------------------------------------------------------------------------------------------ permits

    @Override
    public long tryAcquirePermit(String key, double permitsPerSecond, int burst) {
        Objects.requireNonNull(key, "key");
        if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
            throw new IllegalArgumentException("permitsPerSecond must be a positive finite number, was "
                    + permitsPerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be >= 1, was " + burst);
        }
        return store.write("tryAcquirePermit",
                tx -> PermitBuckets.tryAcquire(tx, key, permitsPerSecond, burst, System.currentTimeMillis()));
    }

    // ------------------------------------------------------------------------------------------------ inspect

    @Override
    public List<TaskRecord> deadLetters(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        return store.read("deadLetters", tx -> {
            PreparedStatement ps = tx.ps("SELECT " + TaskRows.RECORD_COLUMNS
                    + " FROM dead_letters d JOIN tasks t ON t.id = d.task_id ORDER BY d.seq DESC LIMIT ?");
            ps.setInt(1, limit);
            List<TaskRecord> found = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(TaskRows.toRecord(rs));
                }
            }
            return found;
        });
    }

    @Override
    public long purge(String queue) {
        Objects.requireNonNull(queue, "queue");
        return store.write("purge", tx -> {
            PreparedStatement select = tx.ps("SELECT task_id FROM messages WHERE queue = ? AND consumer IS NULL");
            select.setString(1, queue);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            long now = System.currentTimeMillis();
            for (String id : ids) {
                TaskRows.deleteMessage(tx, id);
                String chord = TaskRows.finish(tx, id, TaskState.REVOKED, null, "purged", now);
                if (chord != null) {
                    Chords.memberFailed(tx, chord, id, "purged", now);
                }
            }
            return (long) ids.size();
        });
    }

    /** One consistent snapshot; in-flight messages ordered by when their reservations lapse. */
    @Override
    public BrokerStats stats() {
        return store.read("stats", tx -> {
            Map<String, Long> queued = new LinkedHashMap<>();
            try (ResultSet rs = tx.ps("SELECT queue, count(*) FROM messages WHERE consumer IS NULL "
                    + "GROUP BY queue ORDER BY queue").executeQuery()) {
                while (rs.next()) {
                    queued.put(rs.getString(1), rs.getLong(2));
                }
            }
            List<BrokerStats.InFlight> inFlight = new ArrayList<>();
            try (ResultSet rs = tx.ps("SELECT m.task_id, t.name, m.consumer, m.visible_at FROM messages m "
                    + "JOIN tasks t ON t.id = m.task_id WHERE m.consumer IS NOT NULL ORDER BY m.visible_at")
                    .executeQuery()) {
                while (rs.next()) {
                    inFlight.add(new BrokerStats.InFlight(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getLong(4)));
                }
            }
            long dead;
            try (ResultSet rs = tx.ps("SELECT count(*) FROM dead_letters").executeQuery()) {
                rs.next();
                dead = rs.getLong(1);
            }
            Map<String, Long> counters = new LinkedHashMap<>();
            try (ResultSet rs = tx.ps("SELECT name, value FROM counters").executeQuery()) {
                while (rs.next()) {
                    counters.put(rs.getString(1), rs.getLong(2));
                }
            }
            return new BrokerStats(Map.copyOf(queued), List.copyOf(inFlight), dead,
                    counters.getOrDefault("delivered", 0L), counters.getOrDefault("redelivered", 0L),
                    counters.getOrDefault("duplicates", 0L), counters.getOrDefault("succeeded", 0L),
                    counters.getOrDefault("failed", 0L));
        });
    }

    /** The options this broker opened its file with. */
    public SqliteOptions options() {
        return options;
    }

    /** The value of a PRAGMA on this broker's connection (tests check what the options set). */
    String pragma(String name) {
        if (!name.matches("[a-z_]+")) {
            throw new IllegalArgumentException("not a pragma name: " + name);
        }
        return store.auto("pragma", tx -> {
            try (ResultSet rs = tx.ps("PRAGMA " + name).executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        });
    }

    /** Closes the connection; a consumer blocked in {@link #reserve} then fails with IllegalStateException. */
    @Override
    public void close() {
        store.close();
    }

    @Override
    public String toString() {
        return "SqliteBroker[" + store.description() + "]";
    }
}

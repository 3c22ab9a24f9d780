package dev.conclab.jobs.dag.support;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Test-only: the part of the {@link Broker} contract the DAG scheduler uses (enqueue with idempotency keys, reserve,
 * started, settle, records), in memory, so the scheduler's tests run before the SQLite broker exists. It counts
 * every accepted enqueue per task id, which is what "never dispatched twice" is checked against. Thread-safe.
 */
public class InMemoryBroker implements Broker {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final Map<String, TaskRecord> records = new HashMap<>();
    private final Map<String, TaskMessage> messages = new HashMap<>();
    private final Map<String, Long> sequence = new HashMap<>();
    private final List<String> queued = new ArrayList<>();
    private final Map<String, String> receipts = new HashMap<>();
    private final Map<String, String> byKey = new HashMap<>();
    private final Map<String, Integer> accepted = new HashMap<>();
    private long seq;
    private long duplicates;

    @Override
    public String enqueue(TaskMessage m) {
        lock.lock();
        try {
            if (m.idempotencyKey() != null) {
                String first = byKey.putIfAbsent(m.idempotencyKey(), m.id());
                if (first != null) {
                    duplicates++;
                    return first;
                }
            }
            accepted.merge(m.id(), 1, Integer::sum);
            messages.put(m.id(), m);
            sequence.put(m.id(), seq++);
            queued.add(m.id());
            records.put(m.id(), new TaskRecord(m.id(), m.name(), TaskState.PENDING, m.argsJson(), null, null,
                    m.attempt(), 0, null, m.submittedMillis(), 0, 0));
            ready.signalAll();
            return m.id();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Delivery> reserve(String consumer, List<String> queues, int max, Duration visibility, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        lock.lockInterruptibly();
        try {
            while (true) {
                List<Delivery> out = new ArrayList<>();
                long now = System.currentTimeMillis();
                queued.sort(Comparator.comparingInt((String id) -> -messages.get(id).priority())
                        .thenComparingLong(sequence::get));
                for (var it = queued.iterator(); it.hasNext() && out.size() < max; ) {
                    TaskMessage m = messages.get(it.next());
                    if (!queues.contains(m.queue()) || m.notBeforeMillis() > now) {
                        continue;
                    }
                    it.remove();
                    String receipt = UUID.randomUUID().toString();
                    receipts.put(m.id(), receipt);
                    TaskRecord r = records.get(m.id());
                    records.put(m.id(), new TaskRecord(r.id(), r.name(), TaskState.RECEIVED, r.argsJson(), null,
                            r.error(), m.attempt(), r.deliveries() + 1, consumer, r.submittedMillis(), 0, 0));
                    out.add(new Delivery(m, consumer, receipt, 1));
                }
                if (!out.isEmpty()) {
                    return out;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                ready.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean extend(Delivery delivery, Duration visibility) {
        return true;
    }

    @Override
    public void started(Delivery d) {
        update(d.message().id(), r -> new TaskRecord(r.id(), r.name(), TaskState.STARTED, r.argsJson(), null,
                r.error(), r.attempt(), r.deliveries(), d.consumer(), r.submittedMillis(),
                System.currentTimeMillis(), 0));
    }

    @Override
    public boolean settle(Delivery d, Settlement s) {
        lock.lock();
        try {
            TaskRecord r = records.get(d.message().id());
            if (r.state().isFinal()) {
                duplicates++;
                return false;
            }
            long now = System.currentTimeMillis();
            TaskRecord next = switch (s) {
                case Settlement.Success ok -> new TaskRecord(r.id(), r.name(), TaskState.SUCCESS, r.argsJson(),
                        ok.resultJson(), null, r.attempt(), r.deliveries(), d.consumer(), r.submittedMillis(),
                        r.startedMillis(), now);
                case Settlement.Failure f -> new TaskRecord(r.id(), r.name(), TaskState.FAILURE, r.argsJson(), null,
                        f.error(), r.attempt(), r.deliveries(), d.consumer(), r.submittedMillis(), r.startedMillis(),
                        now);
                case Settlement.Revoked rv -> new TaskRecord(r.id(), r.name(), TaskState.REVOKED, r.argsJson(), null,
                        rv.reason(), r.attempt(), r.deliveries(), d.consumer(), r.submittedMillis(),
                        r.startedMillis(), now);
                case Settlement.Retry retry -> throw new UnsupportedOperationException("queue retries: " + retry);
                case Settlement.Release release -> {
                    queued.add(r.id());
                    ready.signalAll();
                    yield new TaskRecord(r.id(), r.name(), TaskState.PENDING, r.argsJson(), null, r.error(),
                            r.attempt(), r.deliveries(), null, r.submittedMillis(), 0, 0);
                }
            };
            records.put(r.id(), next);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void update(String id, java.util.function.UnaryOperator<TaskRecord> f) {
        lock.lock();
        try {
            records.computeIfPresent(id, (k, r) -> f.apply(r));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<TaskRecord> record(String taskId) {
        lock.lock();
        try {
            return Optional.ofNullable(records.get(taskId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<TaskRecord> records(Collection<String> taskIds) {
        lock.lock();
        try {
            return taskIds.stream().map(records::get).filter(java.util.Objects::nonNull).toList();
        } finally {
            lock.unlock();
        }
    }

    /** How many times a message with this task id was accepted (not suppressed). */
    public int acceptedCount(String taskId) {
        lock.lock();
        try {
            return accepted.getOrDefault(taskId, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Every accepted task id with its count. */
    public Map<String, Integer> accepted() {
        lock.lock();
        try {
            return Map.copyOf(accepted);
        } finally {
            lock.unlock();
        }
    }

    /** Enqueues suppressed by an idempotency key plus settlements dropped as duplicates. */
    public long duplicates() {
        lock.lock();
        try {
            return duplicates;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void openChord(String chordId, List<String> memberIds, TaskMessage callback) {
        throw new UnsupportedOperationException("chords");
    }

    @Override
    public List<String> chordMembers(String chordId) {
        throw new UnsupportedOperationException("chords");
    }

    @Override
    public boolean revoke(String taskId, String reason) {
        throw new UnsupportedOperationException("revoke");
    }

    @Override
    public Set<String> revokedAmong(Collection<String> taskIds) {
        return Set.of();
    }

    @Override
    public long tryAcquirePermit(String key, double permitsPerSecond, int burst) {
        return 0;
    }

    @Override
    public List<TaskRecord> deadLetters(int limit) {
        return List.of();
    }

    @Override
    public long purge(String queue) {
        throw new UnsupportedOperationException("purge");
    }

    @Override
    public BrokerStats stats() {
        throw new UnsupportedOperationException("stats");
    }

    @Override
    public void close() {
    }

}

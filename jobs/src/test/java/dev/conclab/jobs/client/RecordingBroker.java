package dev.conclab.jobs.client;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A broker that only records what a client hands it, in order; every other call is unsupported. */
final class RecordingBroker implements Broker {

    final List<Object> calls = new ArrayList<>();

    @Override
    public synchronized String enqueue(TaskMessage message) {
        calls.add(message);
        return message.id();
    }

    record OpenChord(String chordId, List<String> memberIds, TaskMessage callback) {
    }

    @Override
    public synchronized void openChord(String chordId, List<String> memberIds, TaskMessage callback) {
        calls.add(new OpenChord(chordId, memberIds, callback));
    }

    @Override
    public List<Delivery> reserve(String consumer, List<String> queues, int max, Duration visibility, Duration wait) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean extend(Delivery delivery, Duration visibility) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void started(Delivery delivery) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean settle(Delivery delivery, Settlement settlement) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<String> chordMembers(String chordId) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Optional<TaskRecord> record(String taskId) {
        return Optional.empty();
    }

    @Override
    public boolean revoke(String taskId, String reason) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Set<String> revokedAmong(Collection<String> taskIds) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long tryAcquirePermit(String key, double permitsPerSecond, int burst) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<TaskRecord> deadLetters(int limit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long purge(String queue) {
        throw new UnsupportedOperationException();
    }

    @Override
    public BrokerStats stats() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}

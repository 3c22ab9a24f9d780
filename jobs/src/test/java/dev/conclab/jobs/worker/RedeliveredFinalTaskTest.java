package dev.conclab.jobs.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A redelivered message whose task is already final is settled without running. No real broker delivers one (a
 * final settlement removes the message atomically), so a scripted broker hands the worker exactly that delivery.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedeliveredFinalTaskTest {

    @Test
    void aRedeliveredMessageOfAFinalTaskIsSettledAsADuplicateWithoutRunning() throws Exception {
        TaskMessage message = TaskMessage.of("t1", "gate", "[\"never\"]", 1);
        ScriptedBroker broker = new ScriptedBroker(new Delivery(message, "w", "r2", 2),
                new TaskRecord("t1", "gate", TaskState.SUCCESS, "[\"never\"]", "\"first run\"", null, 0, 2, "other",
                        1, 2, 3));
        Worker worker = new Worker(broker, FaultTasks.REGISTRY, WorkerConfig.builder().consumer("w")
                .concurrency(1).fetchWait(Duration.ofMillis(20)).build()).start();
        try {
            Settlement settled = broker.settlements.poll(30, TimeUnit.SECONDS);
            assertThat(settled).isEqualTo(new Settlement.Success("\"first run\""));
            assertThat(FaultTasks.entered("never").getCount()).as("the body never ran").isEqualTo(1);
            assertThat(broker.startedCalls).isZero();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (worker.metrics().duplicates() == 0 && System.nanoTime() < until) {
                Thread.sleep(1); // counted once settle() has returned, just after the broker saw it
            }
            assertThat(worker.metrics().duplicates()).isEqualTo(1);
        } finally {
            worker.close();
            FaultTasks.reset();
        }
    }

    /** Delivers one scripted delivery, answers one scripted record, and records settlements. */
    private static final class ScriptedBroker implements Broker {
        private final BlockingQueue<Delivery> toDeliver = new LinkedBlockingQueue<>();
        private final TaskRecord record;
        final BlockingQueue<Settlement> settlements = new LinkedBlockingQueue<>();
        volatile int startedCalls;

        ScriptedBroker(Delivery delivery, TaskRecord record) {
            toDeliver.add(delivery);
            this.record = record;
        }

        @Override
        public List<Delivery> reserve(String consumer, List<String> queues, int max, Duration visibility,
                                      Duration wait) throws InterruptedException {
            Delivery d = toDeliver.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
            return d == null ? List.of() : List.of(d);
        }

        @Override
        public Optional<TaskRecord> record(String taskId) {
            return taskId.equals(record.id()) ? Optional.of(record) : Optional.empty();
        }

        @Override
        public boolean settle(Delivery delivery, Settlement settlement) {
            settlements.add(settlement);
            return false; // the task was final: a real broker drops it as a duplicate
        }

        @Override
        public void started(Delivery delivery) {
            startedCalls++;
        }

        @Override
        public String enqueue(TaskMessage message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean extend(Delivery delivery, Duration visibility) {
            return true;
        }

        @Override
        public void openChord(String chordId, List<String> memberIds, TaskMessage callback) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> chordMembers(String chordId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean revoke(String taskId, String reason) {
            throw new UnsupportedOperationException();
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
            return 0;
        }

        @Override
        public BrokerStats stats() {
            return new BrokerStats(Map.of(), List.of(), 0, 0, 0, 0, 0, 0);
        }

        @Override
        public void close() {
        }
    }
}

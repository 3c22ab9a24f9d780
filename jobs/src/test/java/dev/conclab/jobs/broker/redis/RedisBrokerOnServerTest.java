package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement.Success;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What only a real server shows: two broker instances ("machines", each with its own connection pool) sharing one
 * queue, and the server killed (SIGKILL) and restarted mid-run with nothing lost. The server is durable
 * ({@code appendfsync always}); each test uses its own key prefix.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisBrokerOnServerTest {

    private static final Duration LONG = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static RedisServerFixture server;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServerFixture.startDurable();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static RedisBrokerConfig freshStore() {
        return server.config("server-test-" + UUID.randomUUID() + ":");
    }

    private static TaskMessage msg(String name, String queue) {
        return new TaskMessage(UUID.randomUUID().toString(), name, "[]", queue, 0, 0, 0, 0, null, 0, 0, null, null,
                null, null, System.currentTimeMillis());
    }

    @Test
    void twoMachinesShareAQueueAndEachMessageIsDeliveredOnce() throws Exception {
        RedisBrokerConfig store = freshStore();
        int rounds = 100;
        try (RedisBroker machineA = RedisBroker.open(store); RedisBroker machineB = RedisBroker.open(store)) {
            List<TaskMessage> batch = new ArrayList<>();
            for (int i = 0; i < 2 * rounds; i++) {
                batch.add(msg("n" + i, "shared"));
            }
            machineA.enqueueAll(batch.subList(0, rounds));
            machineB.enqueueAll(batch.subList(rounds, 2 * rounds));

            // Each round, each machine holds one reservation before either settles: both must get work every round.
            CyclicBarrier bothHoldOne = new CyclicBarrier(2);
            Map<String, Integer> seen = new ConcurrentHashMap<>();
            Map<String, AtomicInteger> perMachine = Map.of("A", new AtomicInteger(), "B", new AtomicInteger());
            ExecutorService machines = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (var entry : Map.of("A", machineA, "B", machineB).entrySet()) {
                    running.add(machines.submit(() -> {
                        for (int r = 0; r < rounds; r++) {
                            List<Delivery> got = entry.getValue().reserve("worker-" + entry.getKey(),
                                    List.of("shared"), 1, LONG, WAIT);
                            assertThat(got).as("machine %s, round %d", entry.getKey(), r).hasSize(1);
                            bothHoldOne.await(30, TimeUnit.SECONDS);
                            Delivery d = got.getFirst();
                            seen.merge(d.message().id(), 1, Integer::sum);
                            perMachine.get(entry.getKey()).incrementAndGet();
                            assertThat(entry.getValue().settle(d, new Success("0"))).isTrue();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get(100, TimeUnit.SECONDS);
                }
            } finally {
                machines.shutdownNow();
                assertThat(machines.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(seen).hasSize(2 * rounds);
            assertThat(seen.values()).as("each message delivered exactly once").allMatch(c -> c == 1);
            assertThat(perMachine.get("A").get()).isEqualTo(rounds);
            assertThat(perMachine.get("B").get()).isEqualTo(rounds);
            BrokerStats stats = machineB.stats();
            assertThat(stats.delivered()).isEqualTo(2L * rounds);
            assertThat(stats.succeeded()).isEqualTo(2L * rounds);
            assertThat(stats.duplicates()).isZero();
            assertThat(stats.redelivered()).isZero();
            assertThat(machineA.records(batch.stream().map(TaskMessage::id).toList()))
                    .extracting(TaskRecord::state).containsOnly(TaskState.SUCCESS);
        }
    }

    @Test
    void aServerKilledMidRunComesBackWithQueuedMessagesReservationsAndRecords() throws Exception {
        RedisBrokerConfig store = freshStore();
        try (RedisBroker producer = RedisBroker.open(store); RedisBroker waiter = RedisBroker.open(store)) {
            List<TaskMessage> work = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                work.add(msg("w" + i, "work"));
            }
            producer.enqueueAll(work);
            List<Delivery> held = producer.reserve("w1", List.of("work"), 5, LONG, WAIT);
            assertThat(held).hasSize(5);
            assertThat(producer.settle(held.get(0), new Success("\"done-0\""))).isTrue();
            assertThat(producer.settle(held.get(1), new Success("\"done-1\""))).isTrue();
            List<Delivery> running = held.subList(2, 5);

            // A worker waits on another queue through the outage.
            ExecutorService worker = Executors.newSingleThreadExecutor();
            try {
                AtomicInteger reserving = new AtomicInteger();
                Future<List<Delivery>> blocked = worker.submit(() -> {
                    reserving.incrementAndGet();
                    return waiter.reserve("w2", List.of("later"), 1, LONG, Duration.ofSeconds(60));
                });
                await().atMost(WAIT).until(() -> reserving.get() == 1);
                server.kill();
                // the waiting reserve saw the outage (its blocking read or its reconnects failed) and keeps going
                await().atMost(WAIT).until(() -> waiter.connectionFailures() > 0);
                assertThat(blocked).isNotDone();
                assertThat(producer.reserve("w1", List.of("work"), 1, LONG, Duration.ofMillis(200)))
                        .as("a reserve whose wait ends in the outage returns nothing, it does not throw").isEmpty();

                server.start();
                TaskMessage late = msg("late", "later");
                producer.enqueue(late);
                List<Delivery> woke = blocked.get(30, TimeUnit.SECONDS);
                assertThat(woke).extracting(d -> d.message().id())
                        .as("the reserve blocked during the outage returns work after the restart")
                        .containsExactly(late.id());
                assertThat(waiter.settle(woke.getFirst(), new Success("1"))).isTrue();
            } finally {
                worker.shutdownNow();
                assertThat(worker.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            }

            // records survived
            assertThat(producer.record(held.get(0).message().id()).orElseThrow().resultJson()).isEqualTo("\"done-0\"");
            assertThat(producer.record(held.get(1).message().id()).orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
            // reservations survived: still invisible, still ours to extend and settle
            BrokerStats stats = producer.stats();
            assertThat(stats.queued()).containsEntry("work", 15L);
            assertThat(stats.inFlight()).extracting(BrokerStats.InFlight::taskId)
                    .containsExactlyInAnyOrderElementsOf(running.stream().map(d -> d.message().id()).toList());
            for (Delivery d : running) {
                assertThat(producer.extend(d, LONG)).isTrue();
                assertThat(producer.settle(d, new Success("2"))).isTrue();
            }
            // queued messages survived, each delivered once
            List<Delivery> rest = producer.reserve("w3", List.of("work"), 100, LONG, WAIT);
            assertThat(rest).extracting(d -> d.message().id())
                    .containsExactlyElementsOf(work.subList(5, 20).stream().map(TaskMessage::id).toList());
            assertThat(rest).allMatch(d -> d.deliveryCount() == 1);
            for (Delivery d : rest) {
                assertThat(producer.settle(d, new Success("3"))).isTrue();
            }
            BrokerStats end = producer.stats();
            assertThat(end.succeeded()).isEqualTo(21);
            assertThat(end.duplicates()).isZero();
            assertThat(end.inFlight()).isEmpty();
        }
    }
}

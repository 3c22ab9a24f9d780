package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerContractTest;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.toolkit.process.JvmLauncher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The broker contract on Redis: one private redis-server for the class, a fresh key prefix per test (a fresh store),
 * and {@link #reopenBroker} a second broker instance, with its own connection pool, on the same prefix. Plus: starts
 * of stale copies and revoked tasks, and a worker process killed (SIGKILL) mid-task.
 */
class RedisBrokerTest extends BrokerContractTest {

    private static final AtomicInteger STORES = new AtomicInteger();
    private static final List<String> DEFAULT = List.of(TaskMessage.DEFAULT_QUEUE);
    private static RedisServerFixture server;
    private String prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServerFixture.startVolatile();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected Broker openBroker() {
        prefix = "contract-" + STORES.incrementAndGet() + ":";
        return RedisBroker.open(server.config(prefix));
    }

    @Override
    protected Broker reopenBroker() {
        return RedisBroker.open(server.config(prefix));
    }

    @Test
    void startedMarksNeitherARevokedTaskNorAStaleCopy() throws Exception {
        broker.enqueueAll(List.of(msg("a"), msg("b"), msg("c")));
        List<Delivery> got = broker.reserve("w", DEFAULT, 3, java.time.Duration.ofMillis(VISIBILITY_MS), WAIT);
        assertThat(got).hasSize(3);
        Delivery redelivered = one(broker, "w2", LONG);
        assertThat(redelivered.deliveryCount()).isEqualTo(2);
        String revoked = got.stream().map(d -> d.message().id())
                .filter(id -> !id.equals(redelivered.message().id())).findFirst().orElseThrow();
        assertThat(broker.revoke(revoked, "stop")).isTrue();
        broker.startedAll(got);
        for (Delivery d : got) {
            var r = rec(broker, d.message().id());
            if (d.message().id().equals(redelivered.message().id())) {
                assertThat(r.state()).as("a stale copy does not mark the redelivered task").isEqualTo(TaskState.RECEIVED);
                assertThat(r.worker()).isEqualTo("w2");
            } else if (d.message().id().equals(revoked)) {
                assertThat(r.state()).as("revoked stays revoked").isEqualTo(TaskState.REVOKED);
            } else {
                assertThat(r.state()).isEqualTo(TaskState.STARTED);
                assertThat(r.worker()).isEqualTo("w");
            }
        }
        broker.started(redelivered);
        assertThat(rec(broker, redelivered.message().id()).state()).isEqualTo(TaskState.STARTED);
        broker.startedAll(List.of());
    }

    @Test
    void queueNamesWithTheKeySeparatorAreRejected() {
        TaskMessage m = new TaskMessage("id-1", "t", "[]", "a:b", 0, 0, 0, 0, null, 0, 0, null, null, null, null, 1);
        assertThatThrownBy(() -> broker.enqueue(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not contain ':'");
        assertThatThrownBy(() -> broker.reserve("w", List.of("a:b"), 1, LONG, WAIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a:b");
        assertThat(broker.record("id-1")).isEmpty();
    }

    @Test
    void aMessageHeldByAKilledWorkerProcessIsRedeliveredWhenItsReservationLapses() throws Exception {
        long visibility = 1000;
        TaskMessage m = msg("victim");
        broker.enqueue(m);
        Process child = JvmLauncher.ofCurrentJvm().withOptions("-Xmx96m")
                .start(RedisChildWorker.class, String.valueOf(server.port()), prefix, String.valueOf(visibility));
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("ready");
            assertThat(out.readLine()).isEqualTo("held " + m.id());
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(rec(broker, m.id()).state()).isEqualTo(TaskState.STARTED);
            long inFlightUntil = broker.stats().inFlight().getFirst().visibleAgainMillis();
            Delivery again = broker.reserve("survivor", DEFAULT, 1, LONG, WAIT).getFirst();
            long at = System.currentTimeMillis();
            assertThat(again.message()).isEqualTo(m);
            assertThat(again.deliveryCount()).isEqualTo(2);
            assertThat(at).as("not before the dead reservation lapsed").isGreaterThanOrEqualTo(inFlightUntil);
            assertThat(at - inFlightUntil).as("soon after it lapsed (within one visibility)")
                    .isLessThanOrEqualTo(visibility);
            assertThat(broker.settle(again, new Settlement.Success("1"))).isTrue();
            assertThat(broker.stats().redelivered()).isEqualTo(1);
            assertThat(rec(broker, m.id()).worker()).isEqualTo("survivor");
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }
}

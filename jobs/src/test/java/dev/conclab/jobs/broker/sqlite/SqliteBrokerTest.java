package dev.conclab.jobs.broker.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerContractTest;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.toolkit.process.JvmLauncher;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker contract on one SQLite file per test ({@link #reopenBroker} opens a second connection to it), plus
 * what only SQLite has: its pragmas, batched settlements, two instances racing on one file, and a second process
 * sharing the file, one of them killed mid-task.
 */
class SqliteBrokerTest extends BrokerContractTest {

    private static final List<String> DEFAULT = List.of(TaskMessage.DEFAULT_QUEUE);

    @TempDir
    Path dir;

    private Path file;

    @Override
    protected Broker openBroker() {
        file = dir.resolve("broker.db");
        return SqliteBroker.open(file);
    }

    @Override
    protected Broker reopenBroker() {
        return SqliteBroker.open(file);
    }

    @Test
    void theFileIsInWalModeWithTheChosenSynchronousLevel() {
        SqliteBroker normal = (SqliteBroker) broker;
        assertThat(normal.pragma("journal_mode")).isEqualToIgnoringCase("wal");
        assertThat(normal.pragma("synchronous")).as("NORMAL").isEqualTo("1");
        try (SqliteBroker full = SqliteBroker.open(file,
                SqliteOptions.DEFAULTS.withSynchronous(SqliteOptions.Synchronous.FULL))) {
            assertThat(full.pragma("synchronous")).as("FULL").isEqualTo("2");
        }
    }

    @Test
    void startedAllMarksEachCurrentDeliveryStarted() throws Exception {
        broker.enqueueAll(List.of(msg("a"), msg("b"), msg("c")));
        List<Delivery> got = broker.reserve("w", DEFAULT, 3, Duration.ofMillis(VISIBILITY_MS), WAIT);
        assertThat(got).hasSize(3);
        Delivery redelivered = one(broker, "w2", LONG);
        assertThat(redelivered.deliveryCount()).isEqualTo(2);
        broker.startedAll(got);
        for (Delivery d : got) {
            TaskRecord r = rec(broker, d.message().id());
            if (d.message().id().equals(redelivered.message().id())) {
                assertThat(r.state()).as("a stale copy does not mark the redelivered task").isEqualTo(TaskState.RECEIVED);
                assertThat(r.worker()).isEqualTo("w2");
            } else {
                assertThat(r.state()).isEqualTo(TaskState.STARTED);
                assertThat(r.worker()).isEqualTo("w");
            }
        }
    }

    @Test
    void aWriterWaitsForAnotherConnectionsWriteLockUpToTheBusyTimeout() throws Exception {
        try (SqliteBroker impatient = SqliteBroker.open(file,
                SqliteOptions.DEFAULTS.withBusyTimeout(Duration.ofMillis(300)));
                Connection holder = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = holder.createStatement()) {
            s.execute("BEGIN IMMEDIATE"); // another process's writer, holding the lock
            TaskMessage m = msg("blocked");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> impatient.enqueue(m)).isInstanceOf(SqliteStoreException.class)
                    .hasMessageContaining("enqueue");
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(waitedMs).as("waited out the busy timeout").isGreaterThanOrEqualTo(290);
            s.execute("ROLLBACK");
            assertThat(impatient.record(m.id())).as("nothing of the failed enqueue is stored").isEmpty();
            assertThat(impatient.enqueue(m)).as("works once the lock is free").isEqualTo(m.id());
        }
    }

    @Test
    void twoInstancesRacingToSettleOneTaskRecordOneResult() throws Exception {
        Broker other = second();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                TaskMessage m = msg("raced");
                broker.enqueue(m);
                Delivery first = broker.reserve("w1", DEFAULT, 1, Duration.ofMillis(1), WAIT).getFirst();
                Delivery second = other.reserve("w2", DEFAULT, 1, LONG, WAIT).getFirst();
                assertThat(second.deliveryCount()).isEqualTo(2);
                CyclicBarrier together = new CyclicBarrier(2);
                Future<Boolean> a = pool.submit(() -> {
                    together.await();
                    return broker.settle(first, new Settlement.Success("\"a\""));
                });
                Future<Boolean> b = pool.submit(() -> {
                    together.await();
                    return other.settle(second, new Settlement.Success("\"b\""));
                });
                boolean aWon = a.get(30, TimeUnit.SECONDS);
                boolean bWon = b.get(30, TimeUnit.SECONDS);
                assertThat(aWon ^ bWon).as("round %d: exactly one settlement counts", round).isTrue();
                assertThat(rec(broker, m.id()).resultJson()).isEqualTo(aWon ? "\"a\"" : "\"b\"");
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(broker.stats().duplicates()).isEqualTo(20);
        assertThat(broker.stats().succeeded()).isEqualTo(20);
    }

    @Test
    void twoInstancesRacingForPermitsNeverExceedTheBurst() throws Exception {
        Broker other = second();
        int burst = 25;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CyclicBarrier together = new CyclicBarrier(2);
            List<Future<Integer>> takers = new ArrayList<>();
            for (Broker b : List.of(broker, other)) {
                takers.add(pool.submit(() -> {
                    together.await();
                    int taken = 0;
                    for (int i = 0; i < 40; i++) {
                        if (b.tryAcquirePermit("shared", 0.001, burst) == 0) {
                            taken++;
                        }
                    }
                    return taken;
                }));
            }
            int total = takers.get(0).get(30, TimeUnit.SECONDS) + takers.get(1).get(30, TimeUnit.SECONDS);
            assertThat(total).as("80 attempts on one bucket of %d, refilling once in 1000 s", burst).isEqualTo(burst);
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aSecondProcessSharesTheFileAndEachMessageIsSettledOnce() throws Exception {
        int total = 400;
        Process child = JvmLauncher.ofCurrentJvm().withOptions("--enable-native-access=ALL-UNNAMED", "-Xmx96m")
                .withTempDir(dir)
                .start(SqliteChildConsumer.class, "consume", file.toString(), String.valueOf(total));
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("ready");
            // The child is now polling an empty queue: only its polling can find what this process enqueues.
            List<TaskMessage> batch = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                batch.add(msg("n" + i));
            }
            broker.enqueueAll(batch);
            // This process starts taking only once the child has settled one, so the child's share is never empty,
            // however the two are scheduled.
            Set<String> theirs = new HashSet<>();
            String first = out.readLine();
            assertThat(first).startsWith("got ");
            theirs.add(first.substring(4));
            Set<String> mine = new HashSet<>();
            while (broker.stats().succeeded() < total) {
                for (Delivery d : broker.reserve("parent", DEFAULT, 4, LONG, Duration.ofMillis(200))) {
                    if (broker.settle(d, new Settlement.Success("\"parent\""))) {
                        mine.add(d.message().id());
                    }
                }
            }
            for (String line = out.readLine(); line != null && !line.equals("done"); line = out.readLine()) {
                assertThat(line).startsWith("got ");
                theirs.add(line.substring(4));
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isZero();
            assertThat(theirs).as("the other process took some (it found them by polling)").isNotEmpty();
            assertThat(mine).doesNotContainAnyElementsOf(theirs);
            Set<String> all = new HashSet<>(mine);
            all.addAll(theirs);
            assertThat(all).hasSize(total);
            assertThat(broker.stats().duplicates()).isZero();
            assertThat(broker.stats().delivered()).isEqualTo(total);
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aMessageHeldByAKilledProcessIsRedeliveredAfterItsVisibility() throws Exception {
        long visibility = 1_500; // generous: the bound below is "within 2x the visibility" of the reservation
        TaskMessage m = msg("victim");
        broker.enqueue(m);
        Process child = JvmLauncher.ofCurrentJvm().withOptions("--enable-native-access=ALL-UNNAMED", "-Xmx96m")
                .withTempDir(dir)
                .start(SqliteChildConsumer.class, "hold", file.toString(), String.valueOf(visibility));
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("ready");
            assertThat(out.readLine()).isEqualTo("held " + m.id());
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            long heldBy = rec(broker, m.id()).deliveries();
            assertThat(heldBy).isEqualTo(1);
            long inFlightUntil = broker.stats().inFlight().getFirst().visibleAgainMillis();
            Delivery again = broker.reserve("survivor", DEFAULT, 1, LONG, WAIT).getFirst();
            long at = System.currentTimeMillis();
            assertThat(again.message().id()).isEqualTo(m.id());
            assertThat(again.deliveryCount()).isEqualTo(2);
            assertThat(at).as("not before the dead reservation lapsed").isGreaterThanOrEqualTo(inFlightUntil);
            assertThat(at - inFlightUntil).as("soon after it lapsed (within one visibility)")
                    .isLessThanOrEqualTo(visibility);
            assertThat(broker.settle(again, new Settlement.Success("1"))).isTrue();
            assertThat(broker.stats().redelivered()).isEqualTo(1);
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }
}

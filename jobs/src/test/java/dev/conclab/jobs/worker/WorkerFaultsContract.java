package dev.conclab.jobs.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.canvas.Chain;
import dev.conclab.jobs.canvas.Chord;
import dev.conclab.jobs.canvas.Group;
import dev.conclab.jobs.canvas.Signature;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.client.SubmitOptions;
import dev.conclab.jobs.task.SubmitException;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.toolkit.process.JvmLauncher;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The faults a worker must survive, with nothing lost, against any broker: a store's test extends this class and
 * says how to open a broker on a fresh store, another instance on the same store, and the URL a worker in another
 * JVM opens it by.
 *
 * <p>Orderings are forced with latches ({@link FaultTasks}' gates) and with the records' states, never with sleeps;
 * time appears only as generous upper bounds on waiting, the "within 2× the visibility timeout", the rate
 * limit's lower bound, and one negative check (the heartbeat test waits 3⅓ visibility timeouts to see that nothing
 * was redelivered). Every worker, child JVM and broker a test starts is stopped after it, and a child JVM's temp
 * files (sqlite-jdbc's native library, which a killed JVM never deletes) go into the test's own directory.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class WorkerFaultsContract {

    /** The short visibility timeout of the redelivery tests (the default is 30 s). */
    protected static final Duration VISIBILITY = Duration.ofSeconds(2);
    private static final Duration LONG_VISIBILITY = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** A broker on a fresh store; called once per test, before it. */
    protected abstract Broker openBroker();

    /** Another broker instance on the store of the last {@link #openBroker()} (a second worker's connection). */
    protected abstract Broker reopenBroker();

    /** The URL a worker in another JVM opens the store of the last {@link #openBroker()} by. */
    protected abstract String brokerUrl();

    protected Broker broker;
    protected JobClient client;
    private final List<AutoCloseable> toClose = Collections.synchronizedList(new ArrayList<>());
    private final List<Process> children = Collections.synchronizedList(new ArrayList<>());
    /** The child JVMs' java.io.tmpdir and the SIGTERM test's gate; JUnit deletes it after the children are dead. */
    @TempDir
    Path scratch;

    @BeforeEach
    void openStore() {
        FaultTasks.reset();
        broker = openBroker();
        client = new JobClient(broker, FaultTasks.REGISTRY);
    }

    @AfterEach
    void stopEverything() throws Exception {
        FaultTasks.reset(); // no body stays blocked on a gate
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        List<AutoCloseable> reversed = new ArrayList<>(toClose);
        Collections.reverse(reversed);
        for (AutoCloseable c : reversed) {
            c.close();
        }
        broker.close();
    }

    // ---- helpers ----

    protected Worker worker(String consumer, PoolKind pool, int concurrency, int multiplier, Duration visibility) {
        Broker own = reopenBroker();
        toClose.add(own);
        WorkerConfig config = WorkerConfig.builder().consumer(consumer).pool(pool).concurrency(concurrency)
                .prefetchMultiplier(multiplier).visibility(visibility).fetchWait(Duration.ofMillis(50))
                .revocationPoll(Duration.ofMillis(50)).registryClass(FaultTasks.class.getName()).build();
        Worker worker = new Worker(own, FaultTasks.REGISTRY, config);
        toClose.add(worker); // closed before its broker (reverse order)
        return worker.start();
    }

    protected Worker worker(String consumer, int concurrency) {
        return worker(consumer, PoolKind.VTHREADS, concurrency, 4, LONG_VISIBILITY);
    }

    protected TaskRecord awaitRecord(String id, Predicate<TaskRecord> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Optional<TaskRecord> last = Optional.empty();
        while (System.nanoTime() < deadline) {
            last = broker.record(id);
            if (last.isPresent() && condition.test(last.get())) {
                return last.get();
            }
            Thread.sleep(5);
        }
        throw new AssertionError("task " + id + " never " + what + " within " + WAIT + "; last " + last);
    }

    /** Waits for a worker counter, which moves just after the settlement a record shows. */
    protected static void awaitCount(java.util.function.LongSupplier counter, long expected, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (counter.getAsLong() != expected && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(counter.getAsLong()).as(what).isEqualTo(expected);
    }

    protected TaskRecord awaitFinal(String id) throws Exception {
        return client.await(id, WAIT);
    }

    private static void awaitLatch(java.util.concurrent.CountDownLatch latch, String what)
            throws InterruptedException {
        assertThat(latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as(what).isTrue();
    }

    private record Child(Process process, BufferedReader out) {
    }

    private Child startChildWorker(String consumer, int concurrency, Duration visibility) throws IOException {
        Process child = JvmLauncher.ofCurrentJvm()
                .withOptions("-Xshare:auto", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED")
                .withTempDir(scratch)
                .start(WorkerMain.class, "--broker", brokerUrl(), "--registry", FaultTasks.class.getName(),
                        "--concurrency", String.valueOf(concurrency), "--visibility-ms",
                        String.valueOf(visibility.toMillis()), "--consumer", consumer, "--exit-with-parent");
        children.add(child);
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the child worker's first line").isEqualTo("READY " + consumer);
        return new Child(child, out);
    }

    // ---- the faults ----

    @Test
    void aWorkerKilledMidTaskHasItRedeliveredAndCompletedExactlyOnce() throws Exception {
        Process victim = startChildWorker("victim", 1, VISIBILITY).process();
        String id = client.submit("hang-first-delivery");
        awaitRecord(id, r -> r.state() == TaskState.STARTED && "victim".equals(r.worker()), "STARTED on victim");

        long killedAt = System.nanoTime();
        victim.destroyForcibly();
        assertThat(victim.waitFor(30, TimeUnit.SECONDS)).isTrue();
        worker("rescuer", PoolKind.VTHREADS, 1, 1, VISIBILITY);

        TaskRecord done = awaitFinal(id);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        assertThat(done.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(done.resultJson()).isEqualTo("\"done on delivery 2\"");
        assertThat(done.deliveries()).isEqualTo(2);
        assertThat(done.worker()).isEqualTo("rescuer");
        assertThat(tookMillis).as("kill -> SUCCESS, within 2x the visibility timeout")
                .isLessThan(2 * VISIBILITY.toMillis());
        BrokerStats stats = broker.stats();
        assertThat(stats.succeeded()).as("one result").isEqualTo(1);
        assertThat(stats.redelivered()).isEqualTo(1);
        System.out.printf("kill -9: redelivered and completed %d ms after the kill (visibility %d ms)%n",
                tookMillis, VISIBILITY.toMillis());
    }

    @Test
    void aDuplicateSubmissionWithAnIdempotencyKeyIsSuppressedAndCounted() throws Exception {
        SubmitOptions keyed = SubmitOptions.builder().idempotencyKey("order-42").build();
        String first = client.submit("add", keyed, 1, 2);
        String second = client.submit("add", keyed, 1, 2);
        assertThat(second).isEqualTo(first);
        assertThat(broker.stats().duplicates()).isEqualTo(1);
        Worker w = worker("w", 2);
        assertThat(awaitFinal(first).resultJson()).isEqualTo("3");
        assertThat(w.metrics().started()).isEqualTo(1);
    }

    @Test
    void aPoisonTaskIsRetriedThenDeadLetteredWhileTheQueueKeepsFlowing() throws Exception {
        String poison = client.submit("fail-always");
        List<String> good = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            good.add(client.submit("add", i, 1));
        }
        Worker w = worker("w", 4);
        TaskRecord dead = awaitFinal(poison);
        assertThat(dead.state()).isEqualTo(TaskState.FAILURE);
        assertThat(dead.attempt()).as("the first attempt and 3 retries").isEqualTo(3);
        assertThat(dead.error()).contains("fail-always fails (attempt 3)");
        for (int i = 0; i < good.size(); i++) {
            TaskRecord r = awaitFinal(good.get(i));
            assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
            assertThat(r.resultJson()).isEqualTo(String.valueOf(i + 1));
        }
        assertThat(broker.deadLetters(10)).extracting(TaskRecord::id).containsExactly(poison);
        awaitCount(() -> w.metrics().retried(), 3, "retried");
        awaitCount(() -> w.metrics().deadLettered(), 1, "dead-lettered");
        awaitCount(() -> w.metrics().succeeded(), 100, "succeeded");
    }

    @Test
    void aFailingTaskIsRetriedUntilItSucceeds() throws Exception {
        Worker w = worker("w", 2);
        TaskRecord r = awaitFinal(client.submit("fail-then-succeed", 2));
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.resultJson()).as("the attempt that succeeded").isEqualTo("2");
        awaitCount(() -> w.metrics().retried(), 2, "retried");
        assertThat(broker.deadLetters(10)).isEmpty();
    }

    @Test
    void priorityOrdersReadyTasksAndACountdownDelaysOne() throws Exception {
        String later = client.submit("record", SubmitOptions.builder().countdown(Duration.ofMillis(400)).build(),
                "later");
        String low = client.submit("record", SubmitOptions.builder().priority(1).build(), "low");
        String high = client.submit("record", SubmitOptions.builder().priority(8).build(), "high");
        worker("w", PoolKind.VTHREADS, 1, 1, LONG_VISIBILITY); // holds one message at a time
        awaitFinal(low);
        awaitFinal(high);
        TaskRecord d = awaitFinal(later);
        assertThat(FaultTasks.ORDER).containsExactly("high", "low", "later");
        assertThat(d.startedMillis() - d.submittedMillis()).as("not before its countdown")
                .isGreaterThanOrEqualTo(400);
    }

    @Test
    void malformedSubmissionsAreRejectedAtSubmitAndStoreNothing() {
        assertThatThrownBy(() -> client.submit("no-such-task")).isInstanceOf(SubmitException.class)
                .hasMessageContaining("unknown task 'no-such-task'");
        assertThatThrownBy(() -> client.submitJson("add", "[1, ", SubmitOptions.DEFAULTS))
                .isInstanceOf(SubmitException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> client.submit("add", 1)).isInstanceOf(SubmitException.class)
                .hasMessageContaining("expects 2 argument(s), got 1");
        assertThatThrownBy(() -> client.submit("add", 1, "x")).isInstanceOf(SubmitException.class)
                .hasMessageContaining("expected integer, got string \"x\"");
        assertThat(broker.stats().queued().values().stream().mapToLong(Long::longValue).sum()).isZero();
    }

    @Test
    void theSoftLimitInterruptsTheTask() throws Exception {
        Worker w = worker("w", 1);
        String id = client.submit("gate", SubmitOptions.builder().softLimit(Duration.ofMillis(200)).build(), "soft");
        awaitLatch(FaultTasks.interrupted("soft"), "the body saw the interrupt");
        TaskRecord r = awaitFinal(id);
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        assertThat(r.error()).contains("soft time limit exceeded (200 ms)");
        assertThat(w.metrics().softLimited()).isEqualTo(1);
        assertThat(broker.deadLetters(10)).as("a time limit is not dead-lettered").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = PoolKind.class, names = {"VTHREADS", "THREADS"})
    void theHardLimitAbandonsATaskThatIgnoresInterrupts(PoolKind pool) throws Exception {
        Worker w = worker("w", pool, 1, 4, LONG_VISIBILITY);
        String id = client.submit("stubborn", SubmitOptions.builder().hardLimit(Duration.ofMillis(300)).build(),
                "hard");
        TaskRecord r = awaitFinal(id);
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        assertThat(r.error()).contains("hard time limit exceeded (300 ms)");
        awaitLatch(FaultTasks.interrupted("hard"), "the abandoned body was interrupted");
        // the body still holds its thread (its gate is shut), yet the one slot is free again
        String next = client.submit("add", 2, 2);
        assertThat(awaitFinal(next).resultJson()).isEqualTo("4");
        assertThat(FaultTasks.gate("hard").getCount()).as("the abandoned body is still inside").isEqualTo(1);
        FaultTasks.open("hard");
        assertThat(w.metrics().hardLimited()).isEqualTo(1);
        assertThat(broker.record(id).orElseThrow().state()).as("the late return changes nothing")
                .isEqualTo(TaskState.FAILURE);
    }

    @Test
    void revokingARunningTaskInterruptsIt() throws Exception {
        Worker w = worker("w", 1);
        String id = client.submit("gate", "rev");
        awaitLatch(FaultTasks.entered("rev"), "the body started");
        assertThat(client.revoke(id, "no longer needed")).isTrue();
        awaitLatch(FaultTasks.interrupted("rev"), "the body was interrupted");
        assertThat(awaitFinal(id).state()).isEqualTo(TaskState.REVOKED);
        awaitRecord(id, r -> w.metrics().revoked() == 1 && w.metrics().running() == 0, "settled REVOKED");
    }

    @Test
    void aRateLimitHoldsAcrossTwoWorkers() throws Exception {
        Worker a = worker("a", PoolKind.VTHREADS, 2, 1, LONG_VISIBILITY);
        Worker b = worker("b", PoolKind.VTHREADS, 2, 1, LONG_VISIBILITY);
        int n = 11;
        long began = System.currentTimeMillis();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(client.submit("limited"));
        }
        long lastStart = 0;
        for (String id : ids) {
            lastStart = Math.max(lastStart, awaitFinal(id).startedMillis());
        }
        long spanMillis = lastStart - began;
        // 10/s with a burst of 1: the n-th start is at least (n-1)/10 s after the first permit; 2% for rounding
        assertThat(spanMillis).as("first submit -> last start").isGreaterThanOrEqualTo((n - 1) * 100L * 98 / 100);
        awaitCount(() -> a.metrics().succeeded() + b.metrics().succeeded(), n, "settled by a and b together");
        assertThat(a.metrics().succeeded()).as("worker a ran some").isPositive();
        assertThat(b.metrics().succeeded()).as("worker b ran some").isPositive();
        System.out.printf("rate limit 10/s burst 1, 2 workers: %d tasks started over %d ms%n", n, spanMillis);
    }

    @Test
    void chainGroupAndChordRunEndToEnd() throws Exception {
        worker("w", 4);
        List<String> chain = client.submit(Chain.of(Signature.of("add", 1, 2), Signature.of("add", 10),
                Signature.of("echo")));
        assertThat(awaitFinal(chain.get(2)).resultJson()).isEqualTo("13");

        List<String> group = client.submit(Group.of(Signature.of("add", 1, 1), Signature.of("add", 2, 2)));
        assertThat(awaitFinal(group.get(0)).resultJson()).isEqualTo("2");
        assertThat(awaitFinal(group.get(1)).resultJson()).isEqualTo("4");

        List<Signature> members = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            members.add(Signature.of("add", i, i));
        }
        String callback = client.submit(Chord.of(new Group(members), Signature.of("sum")));
        TaskRecord r = awaitFinal(callback);
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.resultJson()).isEqualTo("30");

        List<String> broken = client.submit(Chain.of(Signature.of("fail-always"), Signature.of("echo")));
        assertThat(awaitFinal(broken.get(0)).state()).isEqualTo(TaskState.FAILURE);
        assertThat(broker.record(broken.get(1))).as("a chain stops at a step that failed for good").isEmpty();

        String failing = client.submit(Chord.of(Group.of(Signature.of("add", 1, 1), Signature.of("fail-always")),
                Signature.of("sum")));
        assertThat(awaitFinal(failing).state()).as("a member failed for good").isEqualTo(TaskState.FAILURE);
    }

    @Test
    void theWorkerHoldsAtMostConcurrencyTimesThePrefetchMultiplier() throws Exception {
        Worker w = worker("w", PoolKind.VTHREADS, 2, 2, LONG_VISIBILITY);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(client.submit("gate", "p" + i));
        }
        awaitLatch(FaultTasks.entered("p0"), "p0 started");
        awaitLatch(FaultTasks.entered("p1"), "p1 started");
        awaitRecord(ids.get(0), r -> broker.stats().inFlight().size() == 4, "4 in flight");
        awaitCount(() -> w.metrics().held(), 4, "held by the worker");
        assertThat(w.metrics().running()).isEqualTo(2);
        assertThat(broker.stats().queued().get("default")).isEqualTo(6);
        for (int i = 0; i < 10; i++) {
            FaultTasks.open("p" + i);
        }
        for (String id : ids) {
            assertThat(awaitFinal(id).state()).isEqualTo(TaskState.SUCCESS);
        }
    }

    @Test
    void prefetchRoomIsFilledOneByOneWhileEverySlotIsBusy() throws Exception {
        // one slot, room for 4: while the slot is held, messages arriving one at a time must still be prefetched
        // (a worker that waited for room to gather a larger batch would never take the third)
        worker("w", PoolKind.VTHREADS, 1, 4, LONG_VISIBILITY);
        String gate = client.submit("gate", "busy");
        awaitLatch(FaultTasks.entered("busy"), "the slot is taken");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = client.submit("add", i, 0);
            ids.add(id);
            awaitRecord(id, r -> r.state() == TaskState.RECEIVED, "prefetched while the slot is busy");
        }
        FaultTasks.open("busy");
        assertThat(awaitFinal(gate).state()).isEqualTo(TaskState.SUCCESS);
        for (String id : ids) {
            assertThat(awaitFinal(id).state()).isEqualTo(TaskState.SUCCESS);
        }
    }

    @Test
    void theHeartbeatKeepsALongTaskFromBeingRedelivered() throws Exception {
        Duration visibility = Duration.ofMillis(600);
        worker("a", PoolKind.VTHREADS, 1, 1, visibility);
        String id = client.submit("gate", "hb");
        awaitLatch(FaultTasks.entered("hb"), "the body started on a");
        Worker b = worker("b", PoolKind.VTHREADS, 1, 1, visibility);
        Thread.sleep(visibility.toMillis() * 10 / 3); // a negative check: nothing may lapse meanwhile
        assertThat(b.metrics().received()).as("b never got the task").isZero();
        FaultTasks.open("hb");
        TaskRecord r = awaitFinal(id);
        assertThat(r.worker()).isEqualTo("a");
        assertThat(r.deliveries()).isEqualTo(1);
    }

    @Test
    void gracefulShutdownReleasesPrefetchedTasksForAnotherWorker() throws Exception {
        Worker a = worker("a", PoolKind.VTHREADS, 1, 4, LONG_VISIBILITY);
        String running = client.submit("gate", SubmitOptions.builder().priority(9).build(), "g");
        awaitLatch(FaultTasks.entered("g"), "the gated task started on a");
        List<String> waiting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiting.add(client.submit("add", i, i));
        }
        for (String id : waiting) {
            awaitRecord(id, r -> r.state() == TaskState.RECEIVED, "prefetched by a");
        }
        CompletableFuture<ShutdownReport> stopping = CompletableFuture.supplyAsync(
                () -> a.shutdown(Duration.ofSeconds(60)));
        for (String id : waiting) {
            awaitRecord(id, r -> r.state() == TaskState.PENDING, "given back");
        }
        worker("b", 1);
        for (String id : waiting) {
            TaskRecord r = awaitFinal(id);
            assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
            assertThat(r.worker()).isEqualTo("b");
        }
        assertThat(stopping).as("a waits for its running task").isNotDone();
        FaultTasks.open("g");
        ShutdownReport report = stopping.get(30, TimeUnit.SECONDS);
        assertThat(report.releasedPrefetched()).isEqualTo(3);
        assertThat(report.finishedInFlight()).isEqualTo(1);
        assertThat(report.releasedRunning()).isZero();
        TaskRecord r = awaitFinal(running);
        assertThat(r.worker()).isEqualTo("a");
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
    }

    @Test
    void gracefulShutdownPastItsDeadlineGivesBackTheUnfinishedTask() throws Exception {
        Worker a = worker("a", PoolKind.VTHREADS, 1, 4, LONG_VISIBILITY);
        String id = client.submit("gate", "u");
        awaitLatch(FaultTasks.entered("u"), "started on a");
        ShutdownReport report = a.shutdown(Duration.ofMillis(200));
        assertThat(report.releasedRunning()).isEqualTo(1);
        awaitLatch(FaultTasks.interrupted("u"), "the unfinished body was interrupted");
        assertThat(broker.record(id).orElseThrow().state()).isEqualTo(TaskState.PENDING);
        FaultTasks.open("u");
        worker("b", 1);
        TaskRecord r = awaitFinal(id);
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.worker()).isEqualTo("b");
    }

    @Test
    void sigtermStopsAWorkerJvmGracefully() throws Exception {
        Child worker = startChildWorker("child", 1, LONG_VISIBILITY);
        Process child = worker.process();
        // The running task waits for a file this test creates only after the SIGTERM: it cannot finish (and let
        // the prefetched ones start) before the shutdown began, however slow the machine is. It opens after the first
        // give-back, so it may finish while the other two are given back: the report must still count it.
        Path gate = scratch.resolve("sigterm-gate");
        String slow = client.submit("await-file", SubmitOptions.builder().priority(9).build(), gate.toString());
        awaitRecord(slow, r -> r.state() == TaskState.STARTED, "STARTED on the child");
        List<String> waiting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiting.add(client.submit("add", i, 10));
        }
        for (String id : waiting) {
            awaitRecord(id, r -> r.state() == TaskState.RECEIVED, "prefetched by the child");
        }
        child.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its stdout
        awaitRecord(waiting.getFirst(), r -> r.state() == TaskState.PENDING, "released by the shutdown");
        java.nio.file.Files.createFile(gate);
        String report = worker.out().readLine(); // read before waitFor: the pipe is closed once it is reaped
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(report).as("the shutdown hook's report")
                .startsWith("STOPPED ShutdownReport[releasedPrefetched=3, finishedInFlight=1, releasedRunning=0,");
        assertThat(child.exitValue()).as("the JVM's status after SIGTERM").isEqualTo(143);
        TaskRecord s = awaitFinal(slow);
        assertThat(s.state()).as("the running task finished within the deadline").isEqualTo(TaskState.SUCCESS);
        for (String id : waiting) {
            assertThat(broker.record(id).orElseThrow().state()).as("released unrun").isEqualTo(TaskState.PENDING);
        }
        worker("b", 1);
        for (String id : waiting) {
            assertThat(awaitFinal(id).worker()).isEqualTo("b");
        }
    }

    @Test
    void theProcessPoolRunsTasksInChildJvmsAndKillsOneAtItsHardLimit() throws Exception {
        Worker w = worker("p", PoolKind.PROCESSES, 1, 1, LONG_VISIBILITY);
        assertThat(awaitFinal(client.submit("add", 2, 3)).resultJson()).isEqualTo("5");
        String stuck = client.submit("sleep", SubmitOptions.builder().hardLimit(Duration.ofMillis(500)).build(),
                600_000);
        TaskRecord r = awaitFinal(stuck);
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        assertThat(r.error()).contains("hard time limit exceeded (500 ms)");
        assertThat(awaitFinal(client.submit("add", 4, 5)).resultJson()).as("a new child took the slot")
                .isEqualTo("9");
        assertThat(w.metrics().hardLimited()).isEqualTo(1);
    }
}

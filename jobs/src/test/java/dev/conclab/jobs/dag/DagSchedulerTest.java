package dev.conclab.jobs.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.dag.store.TaskInstance;
import dev.conclab.jobs.dag.support.Await;
import dev.conclab.jobs.dag.support.InMemoryBroker;
import dev.conclab.jobs.dag.support.MutableClock;
import dev.conclab.jobs.dag.support.TestConsumer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DagSchedulerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T0 = Instant.parse("2026-11-27T00:00:00Z");

    @TempDir
    Path dir;

    private final InMemoryBroker broker = new InMemoryBroker();
    private final MutableClock clock = new MutableClock(T0.plus(Duration.ofHours(12)));
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private DagStore store() {
        DagStore store = DagStore.open(dir.resolve("dags.db"));
        toClose.add(store);
        return store;
    }

    private DagScheduler scheduler(DagStore store, Dag... dags) {
        DagScheduler s = new DagScheduler(broker, store, clock, List.of(dags),
                SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)));
        toClose.add(s);
        return s;
    }

    private TestConsumer consumer(Map<String, TestConsumer.Handler> handlers, int concurrency) {
        TestConsumer c = new TestConsumer(broker, handlers, concurrency);
        toClose.add(c);
        return c;
    }

    private static Map<String, TaskInstanceState> states(DagScheduler s, String runId) {
        Map<String, TaskInstanceState> m = new HashMap<>();
        s.instances(runId).forEach(ti -> m.put(ti.taskId(), ti.state()));
        return m;
    }

    private static boolean ended(DagScheduler s, String runId) {
        return s.run(runId).orElseThrow().state().isFinal();
    }

    private void assertEachTryEnqueuedOnce(int expectedTries) {
        Map<String, Integer> accepted = broker.accepted();
        assertThat(accepted).hasSize(expectedTries);
        assertThat(accepted.values()).allMatch(n -> n == 1);
    }

    @Test
    void dependenciesRunInOrder() {
        Dag dag = Dag.builder("diamond")
                .task("a", "noop").add()
                .task("b", "noop").after("a").add()
                .task("c", "noop").after("a").add()
                .task("d", "noop").after("b", "c").add()
                .build();
        DagScheduler s = scheduler(store(), dag);
        TestConsumer consumer = consumer(Map.of("noop", args -> args), 3);
        DagRun run = s.trigger("diamond", Map.of());
        Await.driving(s, "the run to end", () -> ended(s, run.runId()));

        assertThat(s.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
        assertThat(states(s, run.runId())).containsOnlyKeys("a", "b", "c", "d")
                .allSatisfy((k, v) -> assertThat(v).isEqualTo(TaskInstanceState.SUCCESS));
        Map<String, Integer> startOrder = new HashMap<>();
        List<TaskInstance> instances = s.instances(run.runId());
        for (TestConsumer.Execution e : consumer.executions()) {
            instances.stream().filter(ti -> e.queueTaskId().equals(ti.queueTaskId()))
                    .forEach(ti -> startOrder.put(ti.taskId(), startOrder.size()));
        }
        assertThat(startOrder.get("a")).isLessThan(startOrder.get("b")).isLessThan(startOrder.get("d"));
        assertThat(startOrder.get("c")).isGreaterThan(startOrder.get("a")).isLessThan(startOrder.get("d"));
        assertEachTryEnqueuedOnce(4);
    }

    @Test
    void anInstanceFollowsItsQueueTaskStepByStep() throws Exception {
        Dag dag = Dag.builder("steps").task("t", "noop").add().build();
        DagScheduler s = scheduler(store(), dag);
        DagRun run = s.trigger("steps", Map.of());
        assertThat(s.instances(run.runId()).getFirst().state()).isEqualTo(TaskInstanceState.NONE);
        s.runOnce();
        TaskInstance queued = s.instances(run.runId()).getFirst();
        assertThat(queued.state()).isEqualTo(TaskInstanceState.QUEUED);
        assertThat(queued.tryNumber()).isEqualTo(1);
        assertThat(s.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.RUNNING);

        var first = broker.reserve("w1", List.of(TaskMessage.DEFAULT_QUEUE), 1, Duration.ofMinutes(1),
                Duration.ZERO).getFirst();
        assertThat(first.message().id()).isEqualTo(queued.queueTaskId());
        assertThat(first.message().idempotencyKey()).isEqualTo("dag:" + run.runId() + "/t/1");
        assertThat(first.message().maxRetries()).isZero(); // DAG-level retries, not the queue's
        s.runOnce();
        assertThat(s.instances(run.runId()).getFirst().state()).isEqualTo(TaskInstanceState.RUNNING); // RECEIVED
        broker.started(first);
        s.runOnce();
        assertThat(s.instances(run.runId()).getFirst().worker()).isEqualTo("w1");
        broker.settle(first, new dev.conclab.jobs.broker.Settlement.Release()); // a worker shutting down
        s.runOnce();
        assertThat(s.instances(run.runId()).getFirst().state()).isEqualTo(TaskInstanceState.QUEUED);

        var second = broker.reserve("w2", List.of(TaskMessage.DEFAULT_QUEUE), 1, Duration.ofMinutes(1),
                Duration.ZERO).getFirst();
        broker.started(second);
        s.runOnce();
        assertThat(s.instances(run.runId()).getFirst().state()).isEqualTo(TaskInstanceState.RUNNING);
        broker.settle(second, new dev.conclab.jobs.broker.Settlement.Success("42"));
        s.runOnce();
        TaskInstance done = s.instances(run.runId()).getFirst();
        assertThat(done.state()).isEqualTo(TaskInstanceState.SUCCESS);
        assertThat(done.tryNumber()).isEqualTo(1);
        assertThat(done.worker()).isEqualTo("w2");
        assertThat(s.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
        assertEachTryEnqueuedOnce(1);
    }

    @Test
    void triggerRulesAfterAFailure() {
        Dag dag = Dag.builder("rules")
                .task("a", "boom").add()
                .task("b", "noop").after("a").add()                                     // all_success
                .task("e", "noop").after("b").add()                                     // all_success
                .task("c", "noop").after("a").triggerRule(TriggerRule.ONE_FAILED).add()
                .task("d", "noop").after("a", "c").triggerRule(TriggerRule.ALL_DONE).add()
                .task("f", "noop").after("c").triggerRule(TriggerRule.ONE_FAILED).add()
                .task("g", "noop").after("f").add()                                     // all_success
                .build();
        DagScheduler s = scheduler(store(), dag);
        TestConsumer consumer = consumer(Map.of("noop", args -> "ok", "boom", args -> {
            throw new IllegalStateException("boom");
        }), 2);
        DagRun run = s.trigger("rules", Map.of());
        Await.driving(s, "the run to end", () -> ended(s, run.runId()));

        assertThat(states(s, run.runId())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "a", TaskInstanceState.FAILED,
                "b", TaskInstanceState.UPSTREAM_FAILED,
                "e", TaskInstanceState.UPSTREAM_FAILED,
                "c", TaskInstanceState.SUCCESS,
                "d", TaskInstanceState.SUCCESS,
                "f", TaskInstanceState.SKIPPED,
                "g", TaskInstanceState.SKIPPED));
        assertThat(s.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.FAILED); // leaf e upstream_failed
        assertThat(consumer.executions()).hasSize(3); // a, c, d: nothing else ran
        TaskInstance a = s.instances(run.runId()).getFirst();
        assertThat(a.taskId()).isEqualTo("a");
        assertThat(a.error()).contains("boom");
    }

    @Test
    void retriesThenFailedThenDownstreamUpstreamFailed() {
        Dag dag = Dag.builder("flaky")
                .task("flaky", "boom").retries(2, Duration.ofMinutes(10)).add()
                .task("after", "noop").after("flaky").add()
                .build();
        DagStore store = store();
        DagScheduler s = scheduler(store, dag);
        TestConsumer consumer = consumer(Map.of("noop", args -> "ok", "boom", args -> {
            throw new IllegalStateException("always");
        }), 2);
        DagRun run = s.trigger("flaky", Map.of());
        for (int tryNumber = 1; tryNumber <= 2; tryNumber++) {
            int expected = tryNumber;
            Await.driving(s, "try " + tryNumber + " up for retry", () -> {
                TaskInstance ti = s.instances(run.runId()).getFirst();
                return ti.state() == TaskInstanceState.UP_FOR_RETRY && ti.tryNumber() == expected;
            });
            // Not before the delay: more rounds at the same instant dispatch nothing.
            for (int i = 0; i < 5; i++) {
                s.runOnce();
            }
            assertThat(s.instances(run.runId()).getFirst().state()).isEqualTo(TaskInstanceState.UP_FOR_RETRY);
            assertThat(broker.accepted()).hasSize(tryNumber);
            clock.advance(Duration.ofMinutes(10));
        }
        Await.driving(s, "the run to end", () -> ended(s, run.runId()));

        TaskInstance flaky = s.instances(run.runId()).getFirst();
        assertThat(flaky.state()).isEqualTo(TaskInstanceState.FAILED);
        assertThat(flaky.tryNumber()).isEqualTo(3);
        assertThat(states(s, run.runId()).get("after")).isEqualTo(TaskInstanceState.UPSTREAM_FAILED);
        assertThat(s.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.FAILED);
        assertThat(consumer.executions()).hasSize(3);
        assertEachTryEnqueuedOnce(3);
        assertThat(broker.accepted().keySet()).containsExactlyInAnyOrder(
                DispatchIds.queueTaskId(run.runId(), "flaky", 1), DispatchIds.queueTaskId(run.runId(), "flaky", 2),
                DispatchIds.queueTaskId(run.runId(), "flaky", 3));
        assertThat(store.tries(run.runId())).extracting(t -> t.state())
                .containsExactly(TaskInstanceState.UP_FOR_RETRY, TaskInstanceState.UP_FOR_RETRY,
                        TaskInstanceState.FAILED);
    }

    @Test
    void paramsAndTheLogicalDateAreSubstituted() throws Exception {
        Dag dag = Dag.builder("params").param("n", 1).param("region", "eu")
                .task("t", "echo").args("[\"{{ params.n }}\", \"{{ ds }}\", \"{{ params.region }}-{{ ds_nodash }}\"]")
                .add().build();
        DagScheduler s = scheduler(store(), dag);
        TestConsumer consumer = consumer(Map.of("echo", args -> args), 1);
        DagRun run = s.trigger("params", Map.of("n", 5));
        Await.driving(s, "the run to end", () -> ended(s, run.runId()));
        JsonNode args = JSON.readTree(consumer.executions().getFirst().argsJson());
        assertThat(args.toString()).isEqualTo("[5,\"2026-11-27\",\"eu-20261127\"]");
        assertThatThrownBy(() -> s.trigger("nope", Map.of())).hasMessageContaining("unknown dag 'nope'");
    }

    private static Dag hourly(boolean catchup) {
        return Dag.builder("hourly").schedule("@hourly").startDate(T0).catchup(catchup)
                .task("t", "noop").args("[\"{{ logical_date }}\"]").add().build();
    }

    @Test
    void catchUpCreatesTheMissedRunsExactlyOnce() {
        clock.set(T0.plus(Duration.ofMinutes(5 * 60 + 30))); // 05:30: intervals 00..04 have ended
        Dag dag = hourly(true);
        consumer(Map.of("noop", args -> "ok"), 2);
        DagStore store1 = store();
        DagScheduler s1 = scheduler(store1, dag);
        s1.runOnce();
        assertThat(s1.runs("hourly")).extracting(r -> r.logicalDate().toString()).containsExactly(
                "2026-11-27T00:00:00Z", "2026-11-27T01:00:00Z", "2026-11-27T02:00:00Z", "2026-11-27T03:00:00Z",
                "2026-11-27T04:00:00Z");
        assertThat(s1.runs("hourly")).allMatch(r -> r.type() == RunType.SCHEDULED);
        s1.close();
        store1.close();

        // A restarted scheduler on the same store creates none of them again, and finishes them.
        DagScheduler s2 = scheduler(store(), dag);
        Await.driving(s2, "all runs to end", () -> s2.runs("hourly").stream().allMatch(r -> r.state().isFinal()));
        assertThat(s2.runs("hourly")).hasSize(5).allMatch(r -> r.state() == DagRunState.SUCCESS);
        clock.advance(Duration.ofMinutes(30)); // 06:00: the 05:00 interval ends
        s2.runOnce();
        assertThat(s2.runs("hourly")).hasSize(6);
        assertThat(s2.runs("hourly").getLast().logicalDate()).isEqualTo(T0.plus(Duration.ofHours(5)));
        Await.driving(s2, "all runs to end", () -> s2.runs("hourly").stream().allMatch(r -> r.state().isFinal()));
        assertEachTryEnqueuedOnce(6);
    }

    @Test
    void withoutCatchUpOnlyTheLatestIntervalRuns() {
        clock.set(T0.plus(Duration.ofMinutes(5 * 60 + 30)));
        Dag dag = hourly(false);
        DagStore store1 = store();
        DagScheduler s1 = scheduler(store1, dag);
        s1.runOnce();
        s1.runOnce();
        assertThat(s1.runs("hourly")).extracting(DagRun::logicalDate).containsExactly(T0.plus(Duration.ofHours(4)));
        s1.close();
        store1.close();
        clock.set(T0.plus(Duration.ofMinutes(8 * 60 + 10))); // down for three hours
        DagScheduler s2 = scheduler(store(), dag);
        s2.runOnce();
        assertThat(s2.runs("hourly")).extracting(DagRun::logicalDate)
                .containsExactly(T0.plus(Duration.ofHours(4)), T0.plus(Duration.ofHours(7)));
    }

    @Test
    void backfillOverADateRange() {
        Dag dag = Dag.builder("daily").schedule("0 0 * * *").startDate(Instant.parse("2026-01-01T00:00:00Z"))
                .task("t", "noop").args("[\"{{ ds }}\"]").add().build();
        DagScheduler s = scheduler(store(), dag);
        TestConsumer consumer = consumer(Map.of("noop", args -> "ok"), 2);
        s.runOnce(); // catchup off: only the latest interval, 2026-11-26
        List<DagRun> created = s.backfill("daily", Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-11-05T00:00:00Z"));
        assertThat(created).extracting(r -> r.logicalDate().toString()).containsExactly("2026-11-01T00:00:00Z",
                "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z");
        assertThat(created).allMatch(r -> r.type() == RunType.BACKFILL && r.runId().startsWith("daily/backfill__"));
        // Again, and over a range reaching the scheduled run: nothing is created twice.
        assertThat(s.backfill("daily", Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-11-05T12:00:00Z"))).isEmpty();
        assertThat(s.backfill("daily", Instant.parse("2026-11-25T00:00:00Z"),
                Instant.parse("2026-11-26T00:00:00Z"))).extracting(DagRun::logicalDate)
                .containsExactly(Instant.parse("2026-11-25T00:00:00Z"));
        Await.driving(s, "all runs to end", () -> s.runs("daily").stream().allMatch(r -> r.state().isFinal()));
        assertThat(s.runs("daily")).hasSize(7).allMatch(r -> r.state() == DagRunState.SUCCESS);
        assertThat(consumer.executions()).extracting(TestConsumer.Execution::argsJson)
                .contains("[\"2026-11-01\"]", "[\"2026-11-05\"]", "[\"2026-11-26\"]");
        assertThatThrownBy(() -> s.backfill("daily", Instant.parse("2026-11-05T00:00:00Z"),
                Instant.parse("2026-11-01T00:00:00Z"))).hasMessageContaining("is before 'from'");
    }

    @Test
    void backfillNeedsASchedule() {
        Dag dag = Dag.builder("manual").task("t", "noop").add().build();
        DagScheduler s = scheduler(store(), dag);
        assertThatThrownBy(() -> s.backfill("manual", T0, T0.plus(Duration.ofDays(1))))
                .hasMessageContaining("has no schedule");
    }

    @Test
    void maxActiveRunsHoldsTheOthersQueued() {
        Dag dag = Dag.builder("one_at_a_time").schedule("@daily").maxActiveRuns(1)
                .startDate(Instant.parse("2026-11-27T00:00:00Z"))
                .task("hold", "hold").args("[\"{{ ds }}\"]").add().build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        DagScheduler s = scheduler(store(), dag);
        TestConsumer consumer = consumer(Map.of("hold", args -> {
            entered.countDown();
            release.await();
            return "ok";
        }), 3);
        s.backfill("one_at_a_time", Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-11-03T00:00:00Z"));
        s.runOnce();
        // Deterministic: one round promoted exactly one run and dispatched exactly one task.
        assertThat(s.runs("one_at_a_time")).extracting(DagRun::state)
                .containsExactly(DagRunState.RUNNING, DagRunState.QUEUED, DagRunState.QUEUED);
        assertThat(broker.accepted()).hasSize(1);
        Await.until("the first task to run", () -> entered.getCount() == 0);
        for (int i = 0; i < 5; i++) {
            s.runOnce();
        }
        assertThat(s.runs("one_at_a_time")).extracting(DagRun::state)
                .containsExactly(DagRunState.RUNNING, DagRunState.QUEUED, DagRunState.QUEUED);
        assertThat(broker.accepted()).hasSize(1);
        release.countDown();
        Await.driving(s, "all runs to end",
                () -> s.runs("one_at_a_time").stream().allMatch(r -> r.state().isFinal()));
        assertThat(consumer.executions()).extracting(TestConsumer.Execution::argsJson)
                .containsExactly("[\"2026-11-01\"]", "[\"2026-11-02\"]", "[\"2026-11-03\"]");
        assertThat(consumer.peakConcurrency()).isEqualTo(1);
    }

    @Test
    void maxActiveTasksLimitsDispatch() {
        Dag.Builder b = Dag.builder("wide").maxActiveTasks(2);
        for (int i = 0; i < 6; i++) {
            b.task("t" + i, "hold").add();
        }
        CountDownLatch release = new CountDownLatch(1);
        DagScheduler s = scheduler(store(), b.build());
        TestConsumer consumer = consumer(Map.of("hold", args -> {
            release.await();
            return "ok";
        }), 6);
        DagRun run = s.trigger("wide", Map.of());
        s.runOnce();
        assertThat(broker.accepted()).hasSize(2);
        assertThat(states(s, run.runId()).values().stream().filter(TaskInstanceState::isActive).count())
                .isEqualTo(2);
        for (int i = 0; i < 5; i++) {
            s.runOnce();
        }
        assertThat(broker.accepted()).hasSize(2);
        release.countDown();
        Await.driving(s, "the run to end", () -> ended(s, run.runId()));
        assertThat(consumer.peakConcurrency()).isLessThanOrEqualTo(2);
        assertEachTryEnqueuedOnce(6);
    }

    @Test
    void aRestartedSchedulerResumesTheRunAndDispatchesNothingTwice() throws Exception {
        Dag dag = Dag.builder("restart")
                .task("a", "noop").add()
                .task("b1", "hold").after("a").add()
                .task("b2", "hold").after("a").add()
                .task("b3", "hold").after("a").add()
                .task("c", "noop").after("b1", "b2", "b3").add()
                .build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(3);
        TestConsumer consumer = consumer(Map.of("noop", args -> "ok", "hold", args -> {
            holding.countDown();
            release.await();
            return "ok";
        }), 4);
        DagStore store1 = DagStore.open(dir.resolve("dags.db"));
        DagScheduler s1 = new DagScheduler(broker, store1, clock, List.of(dag),
                SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)));
        s1.start();
        String runId = s1.trigger("restart", Map.of()).runId();
        try {
            Await.until("the b tasks to run", () -> holding.getCount() == 0);
            Await.until("the scheduler to see them running", () -> s1.instances(runId).stream()
                    .filter(ti -> ti.taskId().startsWith("b")).allMatch(ti -> ti.state() == TaskInstanceState.RUNNING));
        } finally {
            s1.close(); // the scheduler goes away while b1..b3 run
            store1.close();
        }

        DagScheduler s2 = scheduler(store(), dag);
        s2.start();
        release.countDown();
        Await.until("the run to end", () -> ended(s2, runId));
        assertThat(s2.run(runId).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
        assertThat(s2.runs("restart")).hasSize(1);
        assertEachTryEnqueuedOnce(5);
        assertThat(consumer.executions()).hasSize(5);
        assertThat(consumer.maxRunsOfOneTask()).isEqualTo(1);
        assertThat(s2.lastError()).isNull();
    }

    @Test
    void aCrashBetweenPersistingAndEnqueueingResendsTheSameMessageOnce() {
        Dag dag = Dag.builder("crash")
                .task("a", "noop").add()
                .task("b", "noop").add()
                .task("c", "noop").after("a", "b").add()
                .build();
        InMemoryBroker crashing = new InMemoryBroker() {
            private boolean crashed;

            @Override
            public List<String> enqueueAll(List<TaskMessage> messages) {
                if (!crashed) {
                    crashed = true;
                    throw new IllegalStateException("the scheduler died before the enqueue");
                }
                return super.enqueueAll(messages);
            }
        };
        DagStore store1 = DagStore.open(dir.resolve("dags.db"));
        DagScheduler s1 = new DagScheduler(crashing, store1, clock, List.of(dag), SchedulerConfig.defaults());
        String runId = s1.trigger("crash", Map.of()).runId();
        assertThatThrownBy(s1::runOnce).hasMessageContaining("died before the enqueue");
        // The instances were persisted QUEUED with their deterministic ids; the broker never heard of them.
        Map<String, TaskInstance> persisted = s1.instances(runId).stream()
                .collect(Collectors.toMap(TaskInstance::taskId, ti -> ti));
        assertThat(persisted.get("a").state()).isEqualTo(TaskInstanceState.QUEUED);
        assertThat(persisted.get("a").queueTaskId()).isEqualTo(DispatchIds.queueTaskId(runId, "a", 1));
        assertThat(crashing.accepted()).isEmpty();
        store1.close();

        DagScheduler s2 = new DagScheduler(crashing, store(), clock, List.of(dag), SchedulerConfig.defaults());
        toClose.add(s2);
        TestConsumer consumer = new TestConsumer(crashing, Map.of("noop", args -> "ok"), 2);
        toClose.add(consumer);
        Await.driving(s2, "the run to end", () -> ended(s2, runId));
        assertThat(s2.run(runId).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
        assertThat(crashing.accepted()).hasSize(3).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
        assertThat(consumer.maxRunsOfOneTask()).isEqualTo(1);
    }
}
